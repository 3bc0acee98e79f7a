"""The settle SQL: finding settles, the units as the rules see them, and the guarded update that takes a unit's
money (TAKE). Refunds hold a unit's money with a guarded update on the same row (refund/store.RESERVE checks
order/store.UNSETTLED, as TAKE does), so a refund and a settle racing for one unit: exactly one wins, on both
databases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, and_, bindparam, cast, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.clock import BEIJING_OFFSET_MS
from paybutton.order.states import OrderStatus
from paybutton.order.store import ONE_UNIT, UNSETTLED
from paybutton.settle.rules import DAY_MS, REDEEMED, REFUNDING, SETTLABLE, UNUSED, Unit
from paybutton.tables import apps, item_orders, orders, receivers, settles

TAKE = (
    update(item_orders)
    .where(
        ONE_UNIT,
        UNSETTLED,
        item_orders.c.status.in_(SETTLABLE),
        item_orders.c.refunding_amount == 0,
        item_orders.c.price - item_orders.c.refunded_amount == bindparam("amt", type_=BigInteger),
    )
    .values(settle_id=bindparam("sid"), updated_at=bindparam("now"))
)


async def units(conn: AsyncConnection, app_id: str, order_id: str) -> list[Unit]:
    c = item_orders.c
    q = select(c.item_order_id, c.price, c.status, c.refunded_amount, c.refunding_amount, c.settle_id,
               c.verified_at).where(c.app_id == app_id, c.order_id == order_id).order_by(c.seq)
    return [Unit(r.item_order_id, r.price, r.status, r.refunded_amount, r.refunding_amount, r.settle_id,
                 r.verified_at) for r in await conn.execute(q)]


async def by_out_settle_no(conn: AsyncConnection, app_id: str, out_settle_no: str) -> Any:
    q = select(settles).where(settles.c.app_id == app_id, settles.c.out_settle_no == out_settle_no)
    return (await conn.execute(q)).first()


async def unit_settled(conn: AsyncConnection, app_id: str, order_id: str) -> bool:
    """Some unit of the order was settled alone (then the whole order cannot be settled in one call)."""
    q = select(settles.c.settle_id).where(settles.c.app_id == app_id, settles.c.order_id == order_id,
                                          settles.c.item_order_id.is_not(None))
    return (await conn.execute(q.limit(1))).first() is not None


async def account_of(conn: AsyncConnection, merchant_uid: str) -> str | None:
    """The ledger account class of a receiver named in settle_params: `merchant` for an app's seller uid,
    `receiver` for a registered receiver; None when nobody has that uid."""
    if (await conn.execute(select(apps.c.app_id).where(apps.c.merchant_uid == merchant_uid))).first():
        return "merchant"
    if (await conn.execute(select(receivers.c.merchant_uid).where(receivers.c.merchant_uid == merchant_uid))).first():
        return "receiver"
    return None


async def find(conn: AsyncConnection, app_id: str, *, settle_id: str | None, order_id: str | None,
               out_settle_no: str | None, out_order_no: str | None) -> list[Any]:
    """query_settle: by settle_id, else order_id, else out_settle_no, else out_order_no (Douyin's priority)."""
    c = settles.c
    if settle_id:
        cond = c.settle_id == settle_id
    elif order_id:
        cond = c.order_id == order_id
    elif out_settle_no:
        cond = c.out_settle_no == out_settle_no
    else:
        cond = c.out_order_no == out_order_no
    q = select(settles).where(c.app_id == app_id, cond).order_by(c.created_at, c.settle_id)
    return list((await conn.execute(q)).all())


def due_at(start: Any, days: Any) -> Any:
    """rules.due_at in SQL: midnight (Beijing, a fixed UTC+8) of the day `start` falls on, plus `days` days. Integer
    arithmetic on both databases (`//` on integers is integer division); the days are cast to BIGINT, as 25 days in
    ms overflow an INTEGER. tests/integration/test_settle_auto.py checks that both give the same instant."""
    day = (start + BEIJING_OFFSET_MS) // DAY_MS
    return day * DAY_MS - BEIJING_OFFSET_MS + cast(days, BigInteger) * DAY_MS


def auto_candidates(limit: int, now: int) -> Any:
    """Paid orders of apps that settle automatically, due now: a unit still to settle, no refund in flight, and `pay`
    D+N after payment, or `verify` with no unit left unused and D+N after the last redemption. rules.auto_due has
    the last word on each (settle/auto.settle_one); the SQL names the same moment (due_at), so a sweep reads only
    due orders: an order not due yet is neither read again every sweep nor in the way of one that is (a `limit`
    full of orders redeemed today kept out an order redeemed days ago). A sweep over every app (multi-shard on
    Citus); the units are joined on app_id too (co-located with their order)."""
    c = item_orders.c
    mine = and_(c.app_id == orders.c.app_id, c.order_id == orders.c.order_id)
    open_unit = select(c.item_order_id).where(
        mine, UNSETTLED, c.status.in_(SETTLABLE), c.price > c.refunded_amount).exists()
    in_flight = select(c.item_order_id).where(mine, or_(c.refunding_amount > 0, c.status == REFUNDING)).exists()
    unused = select(c.item_order_id).where(mine, c.status == UNUSED, UNSETTLED).exists()
    mode, days = apps.c.settle_mode, apps.c.settle_days
    redeemed_lately = select(c.item_order_id).where(
        mine, c.status == REDEEMED, due_at(func.coalesce(c.verified_at, 0), days) > now).exists()
    return (select(orders.c.app_id, orders.c.order_id)
            .join(apps, apps.c.app_id == orders.c.app_id)
            .where(orders.c.status == OrderStatus.SUCCESS.value, open_unit, ~in_flight,
                   or_(and_(mode == "pay", due_at(orders.c.paid_at, days) <= now),
                       and_(mode == "verify", ~unused, ~redeemed_lately)))
            .order_by(orders.c.paid_at).limit(limit))
