"""Synchronous extension points (pre_create_order, marketing): one signed POST with a time budget; every
call is recorded in callback_attempts. Any refusal, timeout or malformed answer is a TradeError."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from paybutton import ids
from paybutton.callbacks.body import build_body, identify_name
from paybutton.callbacks.delivery import Fault, judge
from paybutton.context import Ctx
from paybutton.errors import TradeError
from paybutton.kernel.outbound import Answer, CallbackTimeout, CallbackUnreachable
from paybutton.tables import callback_attempts
from paybutton.telemetry.logs import REQUEST_ID


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


@dataclass(frozen=True)
class ExtensionCall:
    """One synchronous call of an extension point: whom to ask, what, within what budget, and which errors a
    refusal (err_no not 0) and any other failure raise."""

    app_id: str
    kind: str  # the callback type, e.g. pre_create_order
    url: str
    msg: dict[str, Any]
    budget: float  # seconds
    order_id: str | None = None
    refused: str = "PRE_ORDER_REFUSED"
    failed: str = "PRE_ORDER_SERVER_ERROR"
    # The answer's data through the caller's checks; a TradeError it raises is recorded as the attempt's error.
    parse: Callable[[dict[str, Any]], dict[str, Any]] | None = None


@dataclass
class _AttemptLog:
    """What the call's row in callback_attempts records, filled in as the call goes."""

    status: int | None = None
    head: str | None = None
    error: str | None = None
    ok: bool = False


def _failed(log: _AttemptLog, error: str, exc: ExtensionFailed) -> ExtensionFailed:
    """Record `error` for the attempt row and hand back the exception to raise."""
    log.error = error
    return exc


async def _post(ctx: Ctx, call: ExtensionCall, body: bytes, headers: dict[str, str], log: _AttemptLog) -> Answer:
    """The POST itself; no answer in time or no connection is an ExtensionFailed."""
    try:
        return await ctx.http.post(call.url, content=body, headers=headers, budget=call.budget)
    except CallbackTimeout as e:
        raise _failed(log, f"timeout after {call.budget}s",
                      ExtensionFailed(call.failed, "the merchant did not answer in time", "timeout")) from e
    except CallbackUnreachable as e:
        raise _failed(log, f"{type(e).__name__}: {e}",
                      ExtensionFailed(call.failed, "the merchant could not be reached", "unreachable")) from e


_FAULTS = {  # a failed answer's ExtensionFailed: its reason and its message
    Fault.NOT_JSON: ("malformed", "the merchant's answer is not JSON"),
    Fault.NO_ERR_NO: ("malformed", "the merchant's answer has no err_no"),
}


def _answer_data(resp: Answer, call: ExtensionCall, log: _AttemptLog) -> dict[str, Any]:
    """The answer's `data` (an object; missing or null is {}) when the merchant answered OK (delivery.judge)."""
    got = judge(resp)
    log.status, log.head = got.http_status, got.head
    if got.fault == Fault.HTTP_ERROR:
        raise _failed(log, str(got.error), ExtensionFailed(
            call.failed, f"the merchant answered HTTP {got.http_status}", "http_error"))
    if got.fault == Fault.REFUSED:
        raise _failed(log, str(got.error), ExtensionRefused(
            call.refused, str(got.answer.get("err_tips") or got.answer["err_no"])))
    if got.fault is not None:
        reason, message = _FAULTS[got.fault]
        raise _failed(log, str(got.error), ExtensionFailed(call.failed, message, reason))
    if got.data is None:
        return {}
    if not isinstance(got.data, dict):
        raise _failed(log, "data is not an object",
                      ExtensionFailed(call.failed, "the merchant's answer data is not an object", "malformed"))
    return got.data


def _parsed(got: dict[str, Any], call: ExtensionCall, log: _AttemptLog) -> dict[str, Any]:
    """The data through the caller's parser, whose TradeError is recorded as the attempt's error."""
    if call.parse is None:
        return got
    try:
        return call.parse(got)
    except TradeError as e:
        log.error = f"{e.reason}: {e.message}" if isinstance(e, ExtensionFailed) else e.text("en")
        raise


async def call_extension(ctx: Ctx, call: ExtensionCall, *,
                         attempts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """POST the signed callback and return the answer's `data` (a dict) when err_no is 0.

    The attempt is appended to `attempts` (for the caller to write in its own transaction), or written
    here in a transaction of its own when no list is given."""
    body = build_body(call.kind, call.msg)
    logid = REQUEST_ID.get() or ids.logid()  # the buyer's errLogId is the merchant's Byte-Logid: one id
    signed = (await ctx.fresh_signer()).sign(body, ctx.clock.now_ms() // 1000)
    headers = signed.as_headers(identify_name(call.kind), logid)
    started = ctx.clock.now_ms()
    t0 = time.perf_counter()
    log = _AttemptLog()
    try:
        resp = await _post(ctx, call, body, headers, log)
        data = _parsed(_answer_data(resp, call, log), call, log)
        log.ok = True
        return data
    finally:
        row = {
            "outbox_id": None, "app_id": call.app_id, "type": call.kind, "order_id": call.order_id, "attempt": 1,
            "url": call.url, "logid": logid, "started_at": started,
            "duration_ms": int((time.perf_counter() - t0) * 1000), "http_status": log.status, "ok": log.ok,
            "answer_head": log.head, "error": log.error,
        }
        if attempts is not None:
            attempts.append(row)
        else:
            async with ctx.db.tx() as conn:
                await conn.execute(callback_attempts.insert().values(**row))
