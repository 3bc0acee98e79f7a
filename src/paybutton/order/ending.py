"""Ending unpaid orders: the expiry sweep (TIMEOUT, the merchant told CANCEL) and the merchant's close_order
(FAIL). Each order ends in its own guarded transaction that gives its stock back and closes its item orders."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.callbacks import outbox
from paybutton.context import Ctx
from paybutton.errors import TradeError
from paybutton.goods import reopened
from paybutton.order import store
from paybutton.order.paying import payment_msg
from paybutton.order.states import UNPAID, GoodsType, PreOrder


async def end_order(ctx: Ctx, conn: AsyncConnection, stmt: Any, app_id: str, order_id: str, message: str, *,
                    notify: bool) -> bool:
    """The steps that end an unpaid order, in the caller's transaction: the guarded status UPDATE `stmt`
    (store.TIME_OUT, CLOSE or FAIL_PRE_ORDER; False when its guard no longer holds), the stock back for a library
    good (with the "stock is back" signal), the item orders closed, and, when `notify` and the merchant had
    accepted the order, the payment callback CANCEL."""
    now = ctx.clock.now_ms()
    row = (await conn.execute(stmt, {"app": app_id, "oid": order_id, "now": now, "message": message})).first()
    if row is None:
        return False
    if row.goods_type == GoodsType.LIBRARY:
        await conn.execute(store.RETURN_STOCK, {"a": row.app_id, "g": row.goods_id, "q": row.quantity, "now": now})
        await reopened.notify_reopen(conn, row.app_id, row.goods_id)  # a process that marked it sold out
    await conn.execute(store.CLOSE_ITEMS, {"app": app_id, "oid": order_id, "now": now})
    if notify and row.pre_order_status == PreOrder.OK:
        app = await ctx.app_in(conn, row.app_id)
        full = await store.order_row(conn, app_id, order_id)
        assert full is not None  # ended just now, in this transaction
        await outbox.enqueue(conn, ctx.clock, app_id=row.app_id, kind="payment", url=app["payment_notify_url"],
                             msg=payment_msg(full, "CANCEL", message), order_id=order_id)
    return True


async def expire_due(ctx: Ctx, limit: int = 200) -> int:
    """Time out unpaid orders past their deadline and give their stock back. Safe with several instances:
    each order ends in its own guarded transaction, so only one instance wins it. The sweep reads every app's
    orders (multi-shard on Citus); each order then ends by its app and id."""
    now = ctx.clock.now_ms()
    async with ctx.db.engine.connect() as conn:
        due = [(r.app_id, r.order_id) for r in (await conn.execute(store.DUE_FOR_EXPIRY,
                                                                   {"now": now, "n": limit})).all()]
    ended = 0
    for app_id, order_id in due:
        async with ctx.db.tx() as conn:
            if await end_order(ctx, conn, store.TIME_OUT, app_id, order_id, "TIME_OUT", notify=True):
                ended += 1
    return ended


async def close_order(ctx: Ctx, conn: AsyncConnection, app_id: str, order_id: str) -> None:
    """The merchant closes an unpaid order (order/close_order): FAIL, stock back, items closed."""
    row = await store.find_order(conn, app_id, order_id=order_id)
    if row is None:
        raise TradeError("ORDER_NOT_FOUND", order_id)
    if row.status not in UNPAID:
        raise TradeError("ORDER_STATUS_CONFLICT", f"the order is {row.status}")
    if not await end_order(ctx, conn, store.CLOSE, app_id, order_id, "CLOSED", notify=False):
        raise TradeError("ORDER_STATUS_CONFLICT", "the order changed meanwhile")


async def end_by_buyer(ctx: Ctx, conn: AsyncConnection, app_id: str, order_id: str) -> bool:
    """The buyer closes an unpaid order (order/resume.py, replaced by a new one): FAIL, stock back, items closed,
    and the merchant told CANCEL, as on expiry."""
    return await end_order(ctx, conn, store.CLOSE, app_id, order_id, "CLOSED_BY_BUYER", notify=True)
