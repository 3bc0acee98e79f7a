"""Ending a refund: PROCESSING -> SUCCESS (the units' held money becomes refunded) or FAIL (it is free again),
with the `refund` notify to the merchant through the outbox, all in the caller's transaction. The stage guard
makes it happen once, whoever else (the channel's notify, a retry, the worker) tries to end it too."""

from __future__ import annotations

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.callbacks import outbox
from paybutton.context import Ctx
from paybutton.ledger import trade as ledger_trade
from paybutton.refund import store
from paybutton.refund.messages import refund_msg
from paybutton.refund.rules import RefundStatus, Stage
from paybutton.tables import item_orders


async def finish(conn: AsyncConnection, ctx: Ctx, app_id: str, refund_id: str, from_stage: Stage, *, ok: bool,
                 message: str, channel_refund_id: str | None = None) -> bool:
    """End the app's refund waiting at `from_stage`; False when it had moved on (nothing changed)."""
    now = ctx.clock.now_ms()
    res = await conn.execute(store.FINISH, {
        "app": app_id, "rid": refund_id, "from_stage": from_stage.value,
        "to_status": (RefundStatus.SUCCESS if ok else RefundStatus.FAIL).value, "message": message[:500],
        "channel_refund_id": channel_refund_id, "refund_at": now if ok else None, "now": now})
    if res.rowcount != 1:
        return False
    items = await store.items_of(conn, app_id, refund_id)
    for it in items:
        moved = await conn.execute(store.SETTLE if ok else store.RELEASE,
                                   {"app": app_id, "iid": it.item_order_id, "amt": it.amount, "now": now})
        if moved.rowcount != 1:
            raise RuntimeError(f"refund {refund_id}: item {it.item_order_id} does not hold {it.amount}")
    if ok:
        await ledger_trade.record_refund(conn, app_id, refund_id, now)  # the money out, in this transaction
    r = await store.refund_row(conn, app_id, refund_id)
    assert r is not None
    app = await ctx.app_in(conn, r.app_id)
    url = r.notify_url or app["refund_url"] or app["payment_notify_url"]
    msg = refund_msg(r, items, await all_settled(conn, app_id, r.order_id))
    await outbox.enqueue(conn, ctx.clock, app_id=r.app_id, kind="refund", url=url, msg=msg,
                         order_id=r.order_id, refund_id=refund_id, schedule="refund")
    return True


async def all_settled(conn: AsyncConnection, app_id: str, order_id: str) -> bool:
    """Every unit of the order that still holds money is settled, and some unit is (the notify's is_all_settled)."""
    c = item_orders.c
    rows = (await conn.execute(select(c.settle_id).where(and_(c.app_id == app_id, c.order_id == order_id,
                                                             c.refunded_amount < c.price)))).all()
    return bool(rows) and all(r.settle_id is not None for r in rows)
