"""The refund worker (one step of paybutton.loop.run_every, every sweep interval): each sweep it

1. advances every refund that can move (settling.advance): a pre_create_refund answered, an audit deadline
   passed, a refund ready for (or stuck at) the cashier;
2. gives back late payments: a buyer who paid an order that had already ended (timed out, closed, or paid by
   another attempt) gets each such payment back whole (source 6: no audit, no pre_create_refund);
3. refunds EXPIRED_RETURNS goods whose validity ended: the unused units (source 3), through the usual flow.

Safe with several instances: every step is a guarded update."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import BigInteger, and_, cast, or_, select, update

from paybutton import ids
from paybutton.callbacks import outbox
from paybutton.cashier.base import Outcome
from paybutton.context import Ctx, sweep_every
from paybutton.errors import TradeError
from paybutton.order import store as order_store
from paybutton.order.states import OrderStatus
from paybutton.refund import rules
from paybutton.refund import store as refund_store
from paybutton.refund.creating import RefundRequest, create_refund, units_of
from paybutton.refund.rules import AuditStatus, RefundStatus, Source, Stage
from paybutton.refund.settling import advance, nudge
from paybutton.tables import AUTO_REFUND_PENDING, goods, item_orders, orders, payments, refunds
from paybutton.tables import outbox as outbox_t

log = logging.getLogger("paybutton.refund")


async def run_refund_worker(ctx: Ctx, stop: asyncio.Event | None = None) -> None:
    """advance_due every sweep interval, forever (or until `stop`); errors are logged and the loop goes on."""
    await sweep_every(ctx, "refund worker", advance_due, stop)


async def advance_due(ctx: Ctx, limit: int = 100) -> int:
    """One sweep: how many refunds moved or were made. Its three reads are over every app (multi-shard on Citus by
    nature: _due_refunds, _late_orders, _expired_orders); each refund or order found then moves by its app and id."""
    now = ctx.clock.now_ms()
    async with ctx.db.engine.connect() as conn:
        due = [(r.app_id, r.refund_id) for r in await conn.execute(_due_refunds(now, limit))]
        late_orders = [(r.app_id, r.order_id) for r in await conn.execute(_late_orders(limit))]
        expired = [(r.app_id, r.order_id) for r in await conn.execute(_expired_orders(now, limit))]
    moved = 0
    for app_id, rid in due:
        try:
            await advance(ctx, app_id, rid)
            moved += 1
        except Exception:
            log.exception("refund %s: could not advance", rid)
    for app_id, oid in late_orders:
        try:
            if await refund_late_payment(ctx, app_id, oid):
                moved += 1
        except Exception:
            log.exception("order %s: could not refund the late payment", oid)
    for app_id, oid in expired:
        try:
            if await refund_expired(ctx, app_id, oid):
                moved += 1
        except TradeError as e:
            log.info("order %s: no expiry refund (%s)", oid, e.name)
        except Exception:
            log.exception("order %s: could not refund the expired units", oid)
    return moved


def _due_refunds(now: int, limit: int) -> Any:
    """Refunds whose pre_create_refund was answered, whose audit deadline passed or that wait for the cashier."""
    answered = and_(refunds.c.stage == Stage.PRE_REFUND.value, outbox_t.c.status.in_((outbox.DONE, outbox.DEAD)))
    overdue = and_(refunds.c.stage == Stage.AUDIT.value, refunds.c.refund_audit_deadline <= now)
    ready = refund_store.for_the_cashier(now)
    return (select(refunds.c.app_id, refunds.c.refund_id)
            .select_from(refunds.outerjoin(outbox_t, and_(outbox_t.c.app_id == refunds.c.app_id,
                                                          outbox_t.c.id == refunds.c.pre_refund_outbox_id)))
            .where(refunds.c.status == RefundStatus.PROCESSING.value, or_(answered, overdue, ready))
            .order_by(refunds.c.created_at).limit(limit))


def _late_orders(limit: int) -> Any:
    """Orders with a late payment to give back."""
    return select(orders.c.app_id, orders.c.order_id).where(AUTO_REFUND_PENDING).limit(limit)


# ------------------------------------------------------------------ 2. late payments


async def refund_late_payment(ctx: Ctx, app_id: str, order_id: str) -> str | None:
    """Give back each late payment of the order, one refund per late attempt, naming it (each is its own channel
    trade). The flag flips in the same transaction, so each late payment is refunded once. Returns the first
    refund's id, None when there was nothing to give back."""
    now = ctx.clock.now_ms()
    rid = ids.refund_id()
    async with ctx.db.tx() as conn:
        res = await conn.execute(update(orders).where(orders.c.app_id == app_id, orders.c.order_id == order_id,
                                                      AUTO_REFUND_PENDING)
                                 .values(auto_refund_pending=False, updated_at=now))
        if res.rowcount != 1:
            return None
        o = await order_store.order_row(conn, app_id, order_id)
        assert o is not None
        refunded = select(refunds.c.refund_id).where(refunds.c.app_id == payments.c.app_id,
                                                     refunds.c.payment_id == payments.c.payment_id)
        late = (await conn.execute(select(payments.c.payment_id, payments.c.amount).where(
            payments.c.app_id == app_id, payments.c.order_id == order_id, payments.c.late.is_(True),
            payments.c.outcome == Outcome.SUCCESS.value, ~refunded.exists()).order_by(payments.c.created_at))).all()
        made = []
        for i, (pid, amount) in enumerate(late):
            one = rid if i == 0 else ids.refund_id()
            made.append(one)
            await conn.execute(refunds.insert().values(
                refund_id=one, app_id=o.app_id, order_id=order_id, out_refund_no=one, payment_id=pid,
                status=RefundStatus.PROCESSING.value, stage=Stage.READY.value, refund_total_amount=int(amount),
                source=int(Source.LATE_PAYMENT), audit_status=AuditStatus.INIT.value, need_refund_audit=2,
                reason=rules.dumps(["the order ended before the payment"]), description="", cp_extra=o.cp_extra,
                created_at=now, updated_at=now))
    for one in made:
        await advance(ctx, app_id, one)
    return rid if made else None


# ------------------------------------------------------------------ 3. expired vouchers


async def refund_expired(ctx: Ctx, app_id: str, order_id: str) -> str | None:
    """Refund the order's unused units (source 3) through the usual flow; None when there are none."""
    async with ctx.db.tx() as conn:
        order = await order_store.order_row(conn, app_id, order_id)
        if order is None or order.status != OrderStatus.SUCCESS:
            return None
        entries = rules.expiry_entries(units_of(await order_store.items_of(conn, app_id, order_id)))
        if not entries:
            return None
        r = await create_refund(conn, ctx, order, RefundRequest(source=Source.EXPIRY, entries=entries,
                                                                reason=["过期退"], description="validity ended"))
    await nudge(ctx, app_id, r.refund_id)
    return r.refund_id


def _expired_orders(now: int, limit: int) -> Any:
    """Paid EXPIRED_RETURNS orders past their validity with an unused unit, not already failed once."""
    unused = select(item_orders.c.item_order_id).where(
        item_orders.c.app_id == orders.c.app_id, item_orders.c.order_id == orders.c.order_id, order_store.REDEEMABLE)
    failed = select(refunds.c.refund_id).where(
        refunds.c.app_id == orders.c.app_id, refunds.c.order_id == orders.c.order_id,
        refunds.c.source == int(Source.EXPIRY), refunds.c.status == RefundStatus.FAIL.value)
    return (
        select(orders.c.app_id, orders.c.order_id)
        .select_from(orders.join(goods, and_(goods.c.app_id == orders.c.app_id, goods.c.goods_id == orders.c.goods_id)))
        .where(
            orders.c.status == OrderStatus.SUCCESS.value,
            goods.c.valid_days.is_not(None),
            orders.c.paid_at + cast(goods.c.valid_days, BigInteger) * rules.DAY_MS <= now,
            orders.c.goods_snapshot.contains('"EXPIRED_RETURNS"'),
            unused.exists(), ~failed.exists(),
        )
        .limit(limit)
    )
