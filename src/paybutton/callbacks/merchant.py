"""Synchronous extension points (pre_create_order, marketing): one signed POST with a time budget; every
call is recorded in callback_attempts. Any refusal, timeout or malformed answer is a TradeError."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from paybutton import ids
from paybutton.callbacks.body import build_body, identify_name
from paybutton.context import Ctx
from paybutton.errors import TradeError
from paybutton.kernel.outbound import CallbackTimeout, CallbackUnreachable
from paybutton.tables import callback_attempts

ANSWER_HEAD = 500


class ExtensionFailed(TradeError):
    """The call failed; `reason` says how: timeout, unreachable, http_error, not_json, no_err_no, malformed,
    inconsistent (a `parse` may raise it too), or refused (ExtensionRefused)."""

    def __init__(self, name: str, message: str, reason: str) -> None:
        super().__init__(name, message)
        self.reason = reason


class ExtensionRefused(ExtensionFailed):
    """The merchant answered, with a non-zero err_no."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(name, message, "refused")


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
    status: int | None = None
    head: str | None = None
    error: str | None = None
    data: dict[str, Any] | None = None
    try:
        try:
            resp = await ctx.http.post(url, content=body, headers=headers, budget=budget)
        except CallbackTimeout as e:
            error = f"timeout after {budget}s"
            raise ExtensionFailed(failed, "the merchant did not answer in time", "timeout") from e
        except CallbackUnreachable as e:
            error = f"{type(e).__name__}: {e}"
            raise ExtensionFailed(failed, "the merchant could not be reached", "unreachable") from e
        status = resp.status_code
        head = resp.text[:ANSWER_HEAD]
        if status != 200:
            error = f"HTTP {status}"
            raise ExtensionFailed(failed, f"the merchant answered HTTP {status}", "http_error")
        try:
            answer = resp.json()
        except ValueError as e:
            error = "answer is not JSON"
            raise ExtensionFailed(failed, "the merchant's answer is not JSON", "malformed") from e
        if not isinstance(answer, dict) or not isinstance(answer.get("err_no"), int):
            error = "answer has no integer err_no"
            raise ExtensionFailed(failed, "the merchant's answer has no err_no", "malformed")
        if answer["err_no"] != 0:
            error = f"err_no {answer['err_no']}: {answer.get('err_tips')}"
            raise ExtensionRefused(refused, str(answer.get("err_tips") or answer["err_no"]))
        got = answer.get("data", {})
        if got is None:
            got = {}
        if not isinstance(got, dict):
            error = "data is not an object"
            raise ExtensionFailed(failed, "the merchant's answer data is not an object", "malformed")
        if parse is not None:
            try:
                got = parse(got)
            except TradeError as e:
                error = f"{e.reason}: {e.message}" if isinstance(e, ExtensionFailed) else e.text("en")
                raise
        data = got
        return data
    finally:
        duration = int((time.perf_counter() - t0) * 1000)
        row = {
            "outbox_id": None, "app_id": app_id, "type": kind, "order_id": order_id, "attempt": 1, "url": url,
            "logid": logid, "started_at": started, "duration_ms": duration, "http_status": status,
            "ok": data is not None, "answer_head": head, "error": error,
        }
        if attempts is not None:
            attempts.append(row)
        else:
            async with ctx.db.tx() as conn:
                await conn.execute(callback_attempts.insert().values(**row))


def loads_or_none(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
