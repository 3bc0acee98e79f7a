"""The one error renderer and the one language choice, for every path that answers an error: the edge
(guard.py), the ASGI order shortcut (api/fast_orders.py) and FastAPI's exception handlers (handlers.py).

The language is paybutton.i18n's one choice: the `lang` query parameter, then the Accept-Language header, then
zh-CN. The body is the OpenAPI envelope on the OpenAPI (HTTP 200 but for the transport errors),
a small HTML page for the console and the pages when the edge refuses a request, and the buyer API's
errNo/errMsg body with the error's own status everywhere else."""

from __future__ import annotations

import html
import json
import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope, Send

from paybutton import i18n
from paybutton.errors import TradeError, api_error_envelope, buyer_error_body
from paybutton.kernel.envelope import logid_of, scope_logid
from paybutton.kernel.ports import scope_ctx
from paybutton.kernel.surfaces import TRANSPORT_STATUSES, Surface, answers_err_no, is_openapi

JSON = b"application/json"


def lang_of(scope: Scope) -> str:
    """"en" or "zh-CN", by the one language choice (paybutton.i18n.choose): `lang`, then Accept-Language."""
    return i18n.lang_of_scope(scope)


def now_s(scope: Scope) -> int:
    """The process clock's seconds (the system clock before the lifespan gave the app its context)."""
    ctx = scope_ctx(scope)
    return int(ctx.clock.now_ms() // 1000) if ctx is not None else int(time.time())


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON, as Starlette's JSONResponse writes it."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Rendered:
    status: int
    body: bytes
    content_type: bytes


def render(err: TradeError, where: Surface, logid: str, now: int, lang: str, path: str = "") -> Rendered:
    """An error in the envelope of the surface `where` (and the err_no keys on the paths that answer them)."""
    status = err.spec.http_status
    if where == "openapi":
        body = api_error_envelope(err, logid, now)
        if answers_err_no(path):
            body = {"err_no": err.spec.error_code, "err_msg": err.text("zh-CN"), "log_id": logid, **body}
        return Rendered(status if status in TRANSPORT_STATUSES else 200, dumps(body), JSON)
    if where == "page":
        text = html.escape(err.text(lang))
        page = (f'<!doctype html><html lang="{lang}"><meta charset="utf-8"><title>{status}</title>'
                f"<h1>{status}</h1><p>{text}</p><p><small>logid {html.escape(logid)}</small></p></html>")
        return Rendered(status, page.encode(), b"text/html; charset=utf-8")
    return Rendered(status, dumps(buyer_error_body(err, logid, lang)), JSON)


def render_scope(scope: Scope, err: TradeError, where: Surface) -> Rendered:
    """`render` with the logid, clock and language of an ASGI scope."""
    return render(err, where, scope_logid(scope), now_s(scope), lang_of(scope), scope.get("path", ""))


async def send_rendered(send: Send, r: Rendered, *, close: bool = False) -> None:
    """Answer an ASGI request with `r` (close: the rest of the request body is never read)."""
    head = [(b"content-type", r.content_type), (b"content-length", str(len(r.body)).encode())]
    if close:
        head.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": r.status, "headers": head})
    await send({"type": "http.response.body", "body": r.body})


def render_error(request: Request, err: TradeError) -> Response:
    """A FastAPI route's error: the OpenAPI envelope or the buyer API's JSON body (the console and the pages
    answer their expected errors in HTML themselves; what reaches here answers JSON)."""
    logid = logid_of(request)
    where: Surface = "openapi" if is_openapi(request.url.path) else "api"
    r = render(err, where, logid, now_s(request.scope), lang_of(request.scope), request.url.path)
    return Response(r.body, status_code=r.status, media_type=r.content_type.decode(),
                    headers={"X-Tt-Logid": logid})


def validation_error(errs: list[Any]) -> TradeError:
    """A request that did not validate: PARSE_ERROR for unreadable JSON, else INVALID_PARAMETER naming fields."""
    if any(
        e.get("type") == "json_invalid"
        or (tuple(e.get("loc", ())) in (("body",), ()) and isinstance(e.get("input"), str | bytes))
        for e in errs
    ):
        return TradeError("PARSE_ERROR")
    parts = []
    for e in errs[:5]:
        loc = ".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "query", "header"))
        parts.append(f"{loc or 'body'}: {e.get('msg')}")
    return TradeError("INVALID_PARAMETER", "; ".join(parts))
