"""A buyer applies for a refund: pre_create_refund is called at once, while the buyer waits, so the answer (and
the front end's `bind:refund`) carries the merchant's `out_refund_no` as Douyin's flow does (reference §1.3).

1. One transaction writes the refund and the money it holds (creating.create_refund, guarded as always) with its
   pre_create_refund outbox row, and leases that row to this call, so the dispatcher leaves it alone meanwhile.
2. After the commit, one signed POST within `pre_refund_timeout_seconds` (callbacks.merchant.call_extension).
3. The row is settled as the dispatcher would settle that attempt (attempt 1, in the callback log): DONE with
   the answer, or PENDING for the schedule's next retry (or DEAD), guarded by the lease. A settled DONE row moves
   the refund on through the same step the outbox path uses (settling.advance: the stage-guarded
   SET_OUT_REFUND_NO), so whichever path comes first moves it, once.
4. The answer reads the refund back: `out_refund_no` is the merchant's number, or "" with
   `out_refund_no_pending: true` while the outbox retries (the number then comes with the `refund` notify,
   refund-detail and query_refund).

If this process dies after the commit, the lease runs out and the dispatcher sends the callback: nothing is lost.
If the lease ran out during a stalled call and the dispatcher sent it too, this call's settlement finds the lease
gone and changes nothing; the merchant answers the same refund_id twice (Douyin retries too: it must be
idempotent)."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import and_, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.callbacks.delivery import ANSWER_HEAD, Delivery, lease_ms
from paybutton.callbacks.dispatcher import Claimed, settlement
from paybutton.callbacks.merchant import ExtensionCall, ExtensionFailed, call_extension
from paybutton.callbacks.outbox import PENDING
from paybutton.context import Ctx
from paybutton.errors import TradeError
from paybutton.order import store as order_store
from paybutton.refund import rules, store
from paybutton.refund.creating import RefundRequest, create_refund
from paybutton.refund.rules import RefundStatus, Stage
from paybutton.refund.settling import nudge
from paybutton.tables import callback_attempts, outbox

log = logging.getLogger("paybutton.refund")


def _checked(data: dict[str, Any]) -> dict[str, Any]:
    """An answer without a usable out_refund_no is a failed attempt (retried), as on the outbox path."""
    if not rules.valid_out_refund_no(data.get("out_refund_no")):
        raise ExtensionFailed("REFUND_APPLY_SERVER_ERROR", "the answer has no valid out_refund_no", "malformed")
    return data


async def _lease(conn: AsyncConnection, app_id: str, outbox_id: int, holder: str, until: int, now: int) -> bool:
    res = await conn.execute(update(outbox).where(outbox.c.app_id == app_id, outbox.c.id == outbox_id,
                                                  outbox.c.status == PENDING)
                             .values(locked_by=holder, locked_until=until, updated_at=now))
    return bool(res.rowcount)


async def _settle(ctx: Ctx, claimed: Claimed, holder: str, outcome: Delivery, attempt: dict[str, Any]) -> bool:
    """Log the attempt against the outbox row and settle it as the dispatcher would; False when the lease was
    lost meanwhile (the dispatcher took the row: its own attempt decides)."""
    guard = and_(outbox.c.app_id == claimed.app_id, outbox.c.id == claimed.id, outbox.c.locked_by == holder,
                 outbox.c.status == PENDING)
    async with ctx.db.tx() as conn:
        res = await conn.execute(update(outbox).where(guard)
                                 .values(**settlement(claimed, outcome, ctx.clock.now_ms())))
        won = res.rowcount == 1
        if not won:  # the call still happened: the log keeps it, marked as not counted
            attempt = {**attempt, "error": "not counted: the lease ran out and the dispatcher took the callback over"
                       + (f" ({attempt['error']})" if attempt.get("error") else "")}
        await conn.execute(insert(callback_attempts).values(**{**attempt, "outbox_id": claimed.id, "attempt": 1}))
    return won


async def _ask_merchant(ctx: Ctx, app_id: str, refund_id: str, holder: str) -> None:
    """The synchronous pre_create_refund of a refund whose outbox row this call holds; never raises."""
    async with ctx.db.engine.connect() as conn:
        r = await store.refund_row(conn, app_id, refund_id)
        ob = None if r is None else (await conn.execute(
            outbox.select().where(outbox.c.app_id == app_id, outbox.c.id == r.pre_refund_outbox_id))).first()
    if r is None or ob is None or ob.locked_by != holder or ob.url is None:
        return
    claimed = Claimed(id=ob.id, app_id=ob.app_id, type=ob.type, url=ob.url, identify_name=ob.identify_name,
                      body=ob.body, order_id=ob.order_id, schedule=ob.schedule, attempts=ob.attempts)
    attempts: list[dict[str, Any]] = []
    data: dict[str, Any] | None = None
    error: str | None = None
    try:
        data = await call_extension(ctx, ExtensionCall(
            app_id=r.app_id, kind="pre_create_refund", url=ob.url, msg=json.loads(json.loads(ob.body)["msg"]),
            budget=ctx.settings.pre_refund_timeout_seconds, order_id=r.order_id,
            refused="REFUND_APPLY_SERVER_ERROR", failed="REFUND_APPLY_SERVER_ERROR", parse=_checked),
            attempts=attempts)
    except TradeError as e:
        error = e.message or e.name
    except Exception as e:  # a failure of ours must not fail the apply: the outbox retries
        log.exception("refund %s: the synchronous pre_create_refund failed", refund_id)
        error = f"{type(e).__name__}: {e}"[:ANSWER_HEAD]
    attempt = attempts[0] if attempts else {
        "app_id": r.app_id, "type": "pre_create_refund", "order_id": r.order_id, "url": ob.url, "logid": "",
        "started_at": ctx.clock.now_ms(), "duration_ms": 0, "http_status": None, "ok": False, "answer_head": None,
        "error": error}
    outcome = Delivery(ok=data is not None, http_status=attempt["http_status"], head=attempt["answer_head"],
                      error=None if data is not None else attempt["error"] or error, data=data)
    if not await _settle(ctx, claimed, holder, outcome, attempt):
        log.info("refund %s: the dispatcher took pre_create_refund over; its attempt decides", refund_id)


async def buyer_apply(ctx: Ctx, app_id: str, open_id: str, ref: str, req: RefundRequest) -> dict[str, Any]:
    """refund-apply's submit (source 1, user): write the refund, ask the merchant for its number within the
    budget, move the refund on, and answer with the merchant's out_refund_no (or say it is pending)."""
    holder = ""
    async with ctx.db.tx() as conn:
        order = await order_store.find_buyer_order(conn, app_id, open_id, ref)
        if order is None:
            raise TradeError("ORDER_ID_INVALID", ref)
        r = await create_refund(conn, ctx, order, req)
        if r.pre_refund_outbox_id is not None:
            now = ctx.clock.now_ms()
            holder = f"sync:{r.refund_id}"
            until = now + lease_ms(ctx.settings.pre_refund_timeout_seconds)
            if not await _lease(conn, app_id, r.pre_refund_outbox_id, holder, until, now):
                holder = ""
    if holder:
        await _ask_merchant(ctx, app_id, r.refund_id, holder)
    await nudge(ctx, app_id, r.refund_id)
    async with ctx.db.engine.connect() as conn:
        got = await store.refund_row(conn, app_id, r.refund_id)
    assert got is not None
    pending = got.status == RefundStatus.PROCESSING and got.stage == Stage.PRE_REFUND
    return {"refund_id": got.refund_id, "out_refund_no": "" if pending else got.out_refund_no or "",
            "out_refund_no_pending": pending, "order_id": got.order_id, "status": got.status}
