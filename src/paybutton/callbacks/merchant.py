"""Synchronous extension points (pre_create_order, marketing): one signed POST with a time budget; every
call is recorded in callback_attempts. Any refusal, timeout or malformed answer is a TradeError."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from paybutton import ids
from paybutton.callbacks.body import build_body, identify_name
from paybutton.context import Ctx
from paybutton.errors import TradeError
from paybutton.kernel.outbound import Answer, CallbackTimeout, CallbackUnreachable
from paybutton.tables import callback_attempts

ANSWER_HEAD = 500


class ExtensionFailed(TradeError):
    """The call failed; `reason` says how: timeout, unreachable, http_error, malformed (not JSON, no integer
    err_no, data not an object), refused (ExtensionRefused), or what a `parse` raised (marketing: malformed or
    inconsistent)."""

    def __init__(self, name: str, message: str, reason: str) -> None:
        super().__init__(name, message)
        self.reason = reason


class ExtensionRefused(ExtensionFailed):
    """The merchant answered, with a non-zero err_no."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(name, message, "refused")


@dataclass
class _Outcome:
    """What the call's row in callback_attempts records, filled in as the call goes."""

    status: int | None = None
    head: str | None = None
    error: str | None = None
    ok: bool = False


def _failed(out: _Outcome, error: str, exc: ExtensionFailed) -> ExtensionFailed:
    """Record `error` for the attempt row and hand back the exception to raise."""
    out.error = error
    return exc


async def _post(ctx: Ctx, url: str, body: bytes, headers: dict[str, str], budget: float, failed: str,
                out: _Outcome) -> Answer:
    """The POST itself; no answer in time or no connection is an ExtensionFailed."""
    try:
        return await ctx.http.post(url, content=body, headers=headers, budget=budget)
    except CallbackTimeout as e:
        raise _failed(out, f"timeout after {budget}s",
                      ExtensionFailed(failed, "the merchant did not answer in time", "timeout")) from e
    except CallbackUnreachable as e:
        raise _failed(out, f"{type(e).__name__}: {e}",
                      ExtensionFailed(failed, "the merchant could not be reached", "unreachable")) from e


def _answer_data(resp: Answer, refused: str, failed: str, out: _Outcome) -> dict[str, Any]:
    """The answer's `data` (an object; missing or null is {}) when it is HTTP 200 JSON with err_no 0."""
    out.status = resp.status_code
    out.head = resp.text[:ANSWER_HEAD]
    if resp.status_code != 200:
        raise _failed(out, f"HTTP {resp.status_code}",
                      ExtensionFailed(failed, f"the merchant answered HTTP {resp.status_code}", "http_error"))
    try:
        answer = resp.json()
    except ValueError as e:
        raise _failed(out, "answer is not JSON",
                      ExtensionFailed(failed, "the merchant's answer is not JSON", "malformed")) from e
    if not isinstance(answer, dict) or not isinstance(answer.get("err_no"), int):
        raise _failed(out, "answer has no integer err_no",
                      ExtensionFailed(failed, "the merchant's answer has no err_no", "malformed"))
    if answer["err_no"] != 0:
        raise _failed(out, f"err_no {answer['err_no']}: {answer.get('err_tips')}",
                      ExtensionRefused(refused, str(answer.get("err_tips") or answer["err_no"])))
    got = answer.get("data", {})
    if got is None:
        return {}
    if not isinstance(got, dict):
        raise _failed(out, "data is not an object",
                      ExtensionFailed(failed, "the merchant's answer data is not an object", "malformed"))
    return got


def _parsed(got: dict[str, Any], parse: Callable[[dict[str, Any]], dict[str, Any]] | None,
            out: _Outcome) -> dict[str, Any]:
    """The data through the caller's parser, whose TradeError is recorded as the attempt's error."""
    if parse is None:
        return got
    try:
        return parse(got)
    except TradeError as e:
        out.error = f"{e.reason}: {e.message}" if isinstance(e, ExtensionFailed) else e.text("en")
        raise


async def call_extension(
    ctx: Ctx,
    *,
    app_id: str,
    kind: str,
    url: str,
    msg: dict[str, Any],
    budget: float,
    order_id: str | None = None,
    refused: str = "PRE_ORDER_REFUSED",
    failed: str = "PRE_ORDER_SERVER_ERROR",
    attempts: list[dict[str, Any]] | None = None,
    parse: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """POST the signed callback and return the answer's `data` (a dict) when err_no is 0.

    The attempt is appended to `attempts` (for the caller to write in its own transaction), or written
    here in a transaction of its own when no list is given."""
    body = build_body(kind, msg)
    logid = ids.logid()
    signed = (await ctx.fresh_signer()).sign(body, ctx.clock.now_ms() // 1000)
    headers = signed.as_headers(identify_name(kind), logid)
    started = ctx.clock.now_ms()
    t0 = time.perf_counter()
    out = _Outcome()
    try:
        resp = await _post(ctx, url, body, headers, budget, failed, out)
        data = _parsed(_answer_data(resp, refused, failed, out), parse, out)
        out.ok = True
        return data
    finally:
        row = {
            "outbox_id": None, "app_id": app_id, "type": kind, "order_id": order_id, "attempt": 1, "url": url,
            "logid": logid, "started_at": started, "duration_ms": int((time.perf_counter() - t0) * 1000),
            "http_status": out.status, "ok": out.ok, "answer_head": out.head, "error": out.error,
        }
        if attempts is not None:
            attempts.append(row)
        else:
            async with ctx.db.tx() as conn:
                await conn.execute(callback_attempts.insert().values(**row))


