"""Moving one refund on, as far as it can go now (`advance`; the request that made it nudges it at once, the
worker retries whatever is left):

1. PRE_REFUND: once the merchant's pre_create_refund answer is in (the outbox row is DONE), its out_refund_no
   becomes the refund's and the refund goes to the audit or the cashier (rules.after_merchant_number). An
   unusable answer counts as a failed attempt and is retried; a merchant who never answers within the schedule
   (the row is DEAD) has approved it, with our number, as the platform does.
2. AUDIT: past the deadline, an unanswered audit counts as agreed (OVERTIME).
3. READY (or CASHIER whose lease ran out): the channel that took the payment refunds it; the refund ends
   SUCCESS or FAIL (refund/finishing.py), or waits at CASHIER for the channel's notify (settle_channel_refund)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.callbacks import outbox
from paybutton.callbacks.schedules import next_delay
from paybutton.context import Ctx
from paybutton.errors import TradeError
from paybutton.kernel.approws import AppRow
from paybutton.order import store as order_store
from paybutton.order.rows import Order
from paybutton.payment_state import Payment
from paybutton.refund import rules, store
from paybutton.refund.finishing import finish
from paybutton.refund.rules import RefundStatus, Stage
from paybutton.refund.store import Refund
from paybutton.tables import outbox as outbox_t

log = logging.getLogger("paybutton.refund")

CASHIER_LEASE_MS = 60_000


async def advance(ctx: Ctx, app_id: str, refund_id: str) -> None:
    """Move one refund (of the app) as far as it can go now."""
    async with ctx.db.engine.connect() as conn:
        r = await store.refund_row(conn, app_id, refund_id)
    if r is None or r.status != RefundStatus.PROCESSING:
        return
    if r.stage == Stage.PRE_REFUND:
        await _take_merchant_number(ctx, r)
    elif r.stage == Stage.AUDIT:
        async with ctx.db.tx() as conn:
            await conn.execute(store.OVERTIME, {"app": app_id, "rid": refund_id, "now": ctx.clock.now_ms()})
    async with ctx.db.engine.connect() as conn:
        r = await store.refund_row(conn, app_id, refund_id)
    if r is not None and r.status == RefundStatus.PROCESSING and r.stage in (Stage.READY, Stage.CASHIER):
        await _through_cashier(ctx, app_id, refund_id)


async def nudge(ctx: Ctx, app_id: str, refund_id: str) -> None:
    """Advance right after the request committed; anything left is the worker's (never fails the request)."""
    try:
        await advance(ctx, app_id, refund_id)
    except Exception:
        log.exception("refund %s: could not advance now; the worker will", refund_id)


# ------------------------------------------------------------------ 1. the merchant's number


async def _take_merchant_number(ctx: Ctx, r: Refund) -> None:
    """PRE_REFUND -> AUDIT or READY with the merchant's out_refund_no (ours when it never answered), once the
    outbox row has its answer; an unusable or already used number reopens the row for a retry."""
    assert r.pre_refund_outbox_id is not None
    async with ctx.db.engine.connect() as conn:
        ob = (await conn.execute(select(outbox_t.c.status, outbox_t.c.answer_data)
                                 .where(outbox_t.c.app_id == r.app_id, outbox_t.c.id == r.pre_refund_outbox_id))
              ).first()
    if ob is None or ob.status not in (outbox.DONE, outbox.DEAD):
        return
    answer = rules.PreRefundAnswer(r.refund_id) if ob.status == outbox.DEAD else rules.parse_pre_refund(ob.answer_data)
    if answer is None:
        await _reopen(ctx, r.app_id, r.pre_refund_outbox_id, "answer data has no valid out_refund_no")
        return
    to = rules.after_merchant_number(r.need_refund_audit == 1)
    try:
        async with ctx.db.tx() as conn:
            if await store.find(conn, r.app_id, out_refund_no=answer.out_refund_no):
                raise TradeError("OUT_REFUND_NO_DUPLICATE", answer.out_refund_no)
            await conn.execute(store.SET_OUT_REFUND_NO, {
                "app": r.app_id, "rid": r.refund_id, "orn": answer.out_refund_no,
                "notify_url": answer.notify_url or r.notify_url,
                "schema": answer.order_entry_schema, "stage": to.stage.value, "audit": to.audit.value,
                "now": ctx.clock.now_ms()})
    except (TradeError, IntegrityError):
        await _reopen(ctx, r.app_id, r.pre_refund_outbox_id, f"out_refund_no {answer.out_refund_no} is already used by "
                      "another refund")


async def _reopen(ctx: Ctx, app_id: str, outbox_id: int, why: str) -> None:
    """The merchant said err_no 0 but its answer is unusable: that counts as a failed attempt, retried."""
    now = ctx.clock.now_ms()
    async with ctx.db.tx() as conn:
        ob = (await conn.execute(select(outbox_t).where(outbox_t.c.app_id == app_id, outbox_t.c.id == outbox_id))
              ).first()
        if ob is None or ob.status != outbox.DONE:
            return
        delay = next_delay(ob.schedule, ob.attempts)
        values: dict[str, Any] = {"last_error": why, "updated_at": now, "answer_data": None}
        if delay is None:
            values["status"] = outbox.DEAD
        else:
            values.update(status=outbox.PENDING, next_attempt_at=now + delay * 1000)
        await conn.execute(update(outbox_t).where(outbox_t.c.app_id == app_id, outbox_t.c.id == outbox_id,
                                                  outbox_t.c.status == outbox.DONE)
                           .values(**values))


# ------------------------------------------------------------------ 3. the cashier


@dataclass(frozen=True)
class _Claimed:
    """A refund this worker holds at the CASHIER stage, with what the channel needs to give the money back."""

    refund: Refund
    order: Order
    attempt: Payment | None  # None for a payment recorded before attempts existed
    app: AppRow


async def _paid_attempt(conn: AsyncConnection, r: Refund, o: Order) -> Payment | None:
    """The payment attempt a refund gives money back from: its own (a late payment's), else the one that paid the
    order. None for a payment recorded before attempts existed."""
    pid = r.payment_id or o.payment_id
    if pid is None:
        return None
    return await order_store.attempt_row(conn, r.app_id, pid)


async def _claim(ctx: Ctx, app_id: str, refund_id: str) -> _Claimed | None:
    """READY (or CASHIER with its lease run out) -> CASHIER, held for CASHIER_LEASE_MS; None if another has it."""
    now = ctx.clock.now_ms()
    async with ctx.db.tx() as conn:
        res = await conn.execute(store.CLAIM_CASHIER, {"app": app_id, "rid": refund_id, "now": now,
                                                       "until": now + CASHIER_LEASE_MS})
        if res.rowcount != 1:
            return None
        r = await store.refund_row(conn, app_id, refund_id)
        assert r is not None
        o = await order_store.order_row(conn, r.app_id, r.order_id)
        assert o is not None
        return _Claimed(r, o, await _paid_attempt(conn, r, o), await ctx.app_in(conn, r.app_id))


async def _through_cashier(ctx: Ctx, app_id: str, refund_id: str) -> None:
    """Ask the channel that took the payment (the attempt's provider) to refund it. The refund id is the channel's
    idempotency key, so a retry after the lease is the same refund. A `pending` answer leaves the refund at the
    CASHIER stage: the channel's refund notify (settle_channel_refund) or a later retry ends it."""
    c = await _claim(ctx, app_id, refund_id)
    if c is None:
        return
    p = c.attempt
    cashier = ctx.cashier_by_provider(c.app, p.provider) if p is not None else ctx.cashier
    result = await cashier.refund(
        refund_id=refund_id, order_id=c.refund.order_id, amount=c.refund.refund_total_amount,
        channel_pay_id=p.channel_pay_id if p is not None else c.order.channel_pay_id,
        out_trade_no=p.payment_id if p is not None else None, total=p.amount if p is not None else None)
    if result.pending:
        log.info("refund %s: accepted by the channel, waiting for its notify", refund_id)
        return
    async with ctx.db.tx() as conn:
        await finish(conn, ctx, app_id, refund_id, Stage.CASHIER, ok=result.ok,
                     message=rules.channel_message(result.ok, result.message),
                     channel_refund_id=result.channel_refund_id)


async def settle_channel_refund(ctx: Ctx, app_id: str, refund_id: str, *, out_trade_no: str | None, ok: bool,
                                channel_refund_id: str | None, message: str = "") -> bool | None:
    """The channel's refund notify: end a refund waiting at the CASHIER stage, once. None: no such refund of this
    app and payment (refused, nothing changed); False: already ended (a replay, nothing changed); True: ended now."""
    async with ctx.db.tx() as conn:
        r = await store.refund_row(conn, app_id, refund_id)
        if r is None:
            log.warning("refund notify: no refund %s of app %s; refused", refund_id, app_id)
            return None
        o = await order_store.order_row(conn, r.app_id, r.order_id)
        assert o is not None  # a refund's order is there (refunds' foreign key)
        p = await _paid_attempt(conn, r, o)
        if out_trade_no is not None and (p is None or p.payment_id != out_trade_no):
            log.warning("refund notify: refund %s is not of payment %s; refused", refund_id, out_trade_no)
            return None
        return await finish(conn, ctx, app_id, refund_id, Stage.CASHIER, ok=ok,
                            message=rules.channel_message(ok, message), channel_refund_id=channel_refund_id)
