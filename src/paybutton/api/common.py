"""Shared HTTP plumbing: the OpenAPI envelope, the access-token and buyer-token dependencies,
Idempotency-Key handling and the single error handler for every surface."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.exceptions import HTTPException as StarletteHTTPException

from paybutton import buyer_token, ids
from paybutton.api import guard
from paybutton.apps import tokens
from paybutton.context import Ctx
from paybutton.errors import REGISTRY, TradeError, api_error_envelope, buyer_error_body
from paybutton.tables import idempotency_keys

log = logging.getLogger("paybutton")

OPENAPI_PREFIXES = guard.OPENAPI_PREFIXES  # /api/apps/, /api/trade/, /oauth/


def get_ctx(request: Request) -> Ctx:
    ctx: Ctx = request.app.state.ctx
    return ctx


async def ctx_dependency(request: Request) -> Ctx:
    """Async on purpose: FastAPI runs a sync dependency in a thread pool, which costs a thread hop a request."""
    return get_ctx(request)


CtxDep = Annotated[Ctx, Depends(ctx_dependency)]


def logid_of(request: Request) -> str:
    lid = getattr(request.state, "logid", None)
    if lid is None:
        lid = ids.logid()
        request.state.logid = lid
    return str(lid)


def envelope(request: Request, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """The success envelope of the platform OpenAPI (reference §12.4)."""
    ctx = get_ctx(request)
    body = dict(data or {})
    body.setdefault("error_code", 0)
    body.setdefault("description", "")
    return {
        "data": body,
        "extra": {
            "error_code": 0,
            "description": "",
            "sub_error_code": 0,
            "sub_description": "",
            "logid": logid_of(request),
            "now": ctx.clock.now_ms() // 1000,
        },
    }


async def access_app(request: Request, ctx: CtxDep, access_token: Annotated[str | None, Header()] = None) -> str:
    """The app id behind the `access-token` header."""
    async with ctx.db.engine.connect() as conn:
        app_id = await tokens.check(conn, ctx.clock, access_token)
    request.state.app_id = app_id
    return app_id


AppId = Annotated[str, Depends(access_app)]


class Buyer:
    def __init__(self, app_id: str, open_id: str) -> None:
        self.app_id = app_id
        self.open_id = open_id


async def current_buyer(
    request: Request,
    ctx: CtxDep,
    authorization: Annotated[str | None, Header()] = None,
    x_buyer_token: Annotated[str | None, Header()] = None,
) -> Buyer:
    return await buyer_of(ctx, authorization, x_buyer_token)


async def buyer_of(ctx: Ctx, authorization: str | None, x_buyer_token: str | None) -> Buyer:
    """The buyer behind `X-Buyer-Token` or `Authorization: Bearer`; BUYER_TOKEN_INVALID otherwise."""
    token = x_buyer_token
    if not token and authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    if not token:
        raise TradeError("BUYER_TOKEN_INVALID", "missing buyer token")
    app_id = buyer_token.peek_app(token)
    if not app_id:
        raise TradeError("BUYER_TOKEN_INVALID")
    try:
        app = await ctx.app(app_id)
    except TradeError as e:
        raise TradeError("BUYER_TOKEN_INVALID") from e
    claims = buyer_token.verify(token, app["secret"], now=ctx.clock.now_ms() / 1000)
    if claims is None:
        raise TradeError("BUYER_TOKEN_INVALID")
    return Buyer(*claims)


BuyerDep = Annotated[Buyer, Depends(current_buyer)]


def request_hash(route: str, body: Any) -> str:
    return hashlib.sha256((route + "\n" + json.dumps(body, sort_keys=True, default=str)).encode()).hexdigest()


async def idempotent(
    ctx: Ctx,
    request: Request,
    app_id: str,
    route: str,
    body: Any,
    run: Callable[[AsyncConnection], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    """Run a write once per Idempotency-Key: same key and body -> the stored answer; other body -> error.

    The key row is inserted in the same transaction as the write, so a stored answer always belongs to a
    committed change, and two concurrent requests with one key cannot both run."""
    key = request.headers.get("idempotency-key")
    if not key:
        async with ctx.db.tx() as conn:
            return await run(conn)
    if len(key) > 255:
        raise TradeError("INVALID_PARAMETER", "Idempotency-Key is longer than 255 characters")
    digest = request_hash(route, body)
    try:
        async with ctx.db.tx() as conn:
            await conn.execute(
                idempotency_keys.insert().values(
                    app_id=app_id, key=key, route=route, request_hash=digest, created_at=ctx.clock.now_ms()
                )
            )
            data = await run(conn)
            await conn.execute(
                update(idempotency_keys)
                .where(idempotency_keys.c.app_id == app_id, idempotency_keys.c.key == key)
                .values(response_body=json.dumps(data))
            )
            return data
    except IntegrityError:
        async with ctx.db.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(idempotency_keys).where(
                        idempotency_keys.c.app_id == app_id, idempotency_keys.c.key == key
                    )
                )
            ).first()
        if row is None:
            raise
        if row.request_hash != digest:
            raise TradeError("IDEMPOTENCY_KEY_REUSED") from None
        if row.response_body is None:
            raise TradeError("IDEMPOTENCY_IN_PROGRESS") from None
        stored: dict[str, Any] = json.loads(row.response_body)
        return stored


def _lang(request: Request) -> str:
    lang = request.query_params.get("lang") or request.headers.get("accept-language", "zh-CN")
    return "en" if lang.lower().startswith("en") else "zh-CN"


def render_error(request: Request, err: TradeError) -> Response:
    lid = logid_of(request)
    headers = {"X-Tt-Logid": lid}
    if guard.is_openapi(request.url.path):
        ctx = get_ctx(request)
        # The platform answers business errors with HTTP 200 and the codes in the envelope; transport errors
        # (405, 413, 415) keep their status.
        status = err.spec.http_status if err.spec.http_status in guard.TRANSPORT_STATUSES else 200
        return JSONResponse(api_error_envelope(err, lid, ctx.clock.now_ms() // 1000), status_code=status,
                            headers=headers)
    return JSONResponse(buyer_error_body(err, lid, _lang(request)), status_code=err.spec.http_status, headers=headers)


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


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(TradeError)
    async def _trade(request: Request, exc: TradeError) -> Response:
        return render_error(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errs = exc.errors()
        return render_error(request, validation_error(list(errs)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        name = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code)
        if name is None:
            name = "INVALID_PARAMETER"
        err = TradeError(name, None if name != "INVALID_PARAMETER" else str(exc.detail))
        resp = render_error(request, err)
        if not guard.is_openapi(request.url.path) or exc.status_code in guard.TRANSPORT_STATUSES:
            resp.status_code = exc.status_code
        for k, v in (exc.headers or {}).items():  # 405: Allow
            resp.headers[k] = v
        return resp

    @app.exception_handler(Exception)
    async def _boom(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        resp = render_error(request, TradeError("INTERNAL_ERROR"))
        resp.status_code = REGISTRY["INTERNAL_ERROR"].http_status
        return resp
