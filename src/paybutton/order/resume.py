"""The buyer's unpaid order for a good: resumed, or closed when the buyer places a new one (issue 18.3).

A buyer who goes back from the cashier (the overlay's x, the browser's back in redirect mode) and taps the good
again used to place a second order while the first held its stock until it expired. The order-confirm page now
asks for the buyer's unpaid order of that good (`unpaid_for_goods`) and offers to continue paying it (the seed's
continue-pay: the cashier on that order); a new order placed instead closes the old one (`buyer_close`: FAIL, its
stock back, the merchant told CANCEL as on expiry).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from paybutton.context import Ctx
from paybutton.errors import TradeError
from paybutton.order import ending, paying, repay, store
from paybutton.order.states import UNPAID, PreOrder
from paybutton.order.views import buyer_order, get_buyer_order
from paybutton.tables import orders


async def unpaid_for_goods(ctx: Ctx, app_id: str, open_id: str, goods_id: str) -> dict[str, Any] | None:
    """The buyer's newest order of `goods_id` that can still be paid (accepted, before its deadline), or None."""
    now = ctx.clock.now_ms()
    q = (select(orders.c.order_id).where(
        orders.c.app_id == app_id, orders.c.open_id == open_id, orders.c.goods_id == goods_id,
        orders.c.status.in_(UNPAID), orders.c.pre_order_status == PreOrder.OK.value, orders.c.pay_expire_at > now)
        .order_by(orders.c.created_at.desc()).limit(1))
    async with ctx.db.engine.connect() as conn:
        oid = (await conn.execute(q)).scalar_one_or_none()
    return None if oid is None else await get_buyer_order(ctx, app_id, open_id, oid)


async def buyer_close(ctx: Ctx, app_id: str, open_id: str, order_ref: str) -> dict[str, Any]:
    """Close the buyer's own unpaid order: a live payment attempt is first settled with its channel (closed there
    unless paid: order/repay.py), then the order ends FAIL with its stock back. A paid order is not closed."""
    order, _ = await buyer_order(ctx, app_id, open_id, order_ref)
    async with ctx.db.engine.connect() as conn:
        live = await paying.live_attempt(conn, app_id, order.order_id)
    if live is not None:
        await repay.supersede(ctx, live)
    async with ctx.db.tx() as conn:
        row = await store.order_row(conn, app_id, order.order_id)
        if row is None or row.status not in UNPAID:
            raise TradeError("ORDER_STATUS_CONFLICT", f"the order is {row.status if row else 'gone'}")
        if not await ending.end_by_buyer(ctx, conn, app_id, order.order_id):
            raise TradeError("ORDER_STATUS_CONFLICT", "the order changed meanwhile")
    return await get_buyer_order(ctx, app_id, open_id, order.order_id)
