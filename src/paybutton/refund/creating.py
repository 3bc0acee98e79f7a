"""Creating a refund, for every source (the buyer's apply, the merchant's create_refund, the expiry refund), in
the caller's transaction:

1. the order must be paid; the request becomes fen per unit (rules.plan);
2. a merchant's own out_refund_no must be new in its app;
3. each unit's money is held by one guarded UPDATE (store.RESERVE), in key order: two refunds racing for the
   same money, the second finds no room and fails;
4. where the refund starts (rules.start): asking the merchant for its number (pre_create_refund, through the
   outbox), waiting for the audit, or ready for the cashier;
5. the refund row and its units are written; the answer is that row.

Late payments are given back elsewhere (refund/worker.py): they hold no units."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton import ids
from paybutton.callbacks import outbox
from paybutton.context import Ctx
from paybutton.errors import TradeError
from paybutton.order import store as order_store
from paybutton.order.rows import ItemOrder, Order
from paybutton.order.states import OrderStatus
from paybutton.refund import rules, store
from paybutton.refund.messages import pre_refund_msg
from paybutton.refund.rules import RefundStatus, Source
from paybutton.refund.store import Refund, RefundItem
from paybutton.tables import refund_items, refunds


@dataclass
class RefundRequest:
    source: Source
    entries: list[rules.Entry] | None = None
    quantity: int | None = None
    refund_total_amount: int | None = None
    reason: list[str] = field(default_factory=list)
    description: str = ""
    cp_extra: str | None = None
    out_refund_no: str | None = None  # the merchant's, when it creates the refund itself
    notify_url: str | None = None
    order_entry_schema: Any = None


def units_of(items: list[ItemOrder]) -> list[rules.Unit]:
    """Item-order rows as the refund rules see them."""
    return [rules.Unit(i.item_order_id, i.price, i.status, i.refunded_amount, i.refunding_amount, bool(i.locked),
                       settled=i.settle_id is not None) for i in items]


async def create_refund(conn: AsyncConnection, ctx: Ctx, order: Order, req: RefundRequest) -> Refund:
    """Write the refund and hold its money on the units, in the caller's transaction (never commits)."""
    app = await ctx.app_in(conn, order.app_id)
    if order.status != OrderStatus.SUCCESS:
        raise TradeError("NOTHING_REFUNDABLE", f"the order is {order.status}")
    items = await order_store.items_of(conn, order.app_id, order.order_id)
    amounts = rules.plan(units_of(items), legacy=bool(order.legacy), entries=req.entries, quantity=req.quantity,
                         refund_total_amount=req.refund_total_amount)
    if req.out_refund_no is not None and await store.find(conn, order.app_id, out_refund_no=req.out_refund_no):
        raise TradeError("OUT_REFUND_NO_DUPLICATE", req.out_refund_no)
    now = ctx.clock.now_ms()
    for iid in sorted(amounts):  # key order: no deadlocks between refunds of one order
        res = await conn.execute(store.RESERVE, {"app": order.app_id, "iid": iid, "oid": order.order_id,
                                                 "amt": amounts[iid], "now": now})
        if res.rowcount != 1:
            raise TradeError("ITEM_NOT_REFUNDABLE", f"{iid} changed meanwhile")
    begin = rules.start(req.source, app_audits=bool(app["need_refund_audit"]), refund_url=app["refund_url"])
    row = _new_row(order, req, begin, audit_seconds=int(app["refund_audit_seconds"]), amounts=amounts, now=now)
    if begin.asks_merchant:
        row = replace(row, pre_refund_outbox_id=await outbox.enqueue(
            conn, ctx.clock, app_id=order.app_id, kind="pre_create_refund", url=app["refund_url"],
            msg=pre_refund_msg(order, row, amounts), order_id=order.order_id, refund_id=row.refund_id,
            schedule="pre_create_refund"))
    await conn.execute(refunds.insert().values(**asdict(row)))
    await conn.execute(refund_items.insert(), [
        asdict(RefundItem(row.refund_id, iid, amt, row.app_id)) for iid, amt in sorted(amounts.items())])
    return row


def _new_row(order: Order, req: RefundRequest, begin: rules.Start, *, audit_seconds: int, amounts: dict[str, int],
             now: int) -> Refund:
    """The PROCESSING refund row, at the stage it starts from."""
    rid = ids.refund_id()
    return Refund(
        refund_id=rid, app_id=order.app_id, order_id=order.order_id,
        out_refund_no=req.out_refund_no if begin.asks_merchant else req.out_refund_no or rid,
        status=RefundStatus.PROCESSING.value, stage=begin.position.stage.value,
        refund_total_amount=sum(amounts.values()), source=int(req.source), audit_status=begin.position.audit.value,
        need_refund_audit=1 if begin.need_audit else 2,
        refund_audit_deadline=rules.audit_deadline(now, begin.need_audit, audit_seconds),
        reason=rules.dumps(req.reason), description=req.description, cp_extra=req.cp_extra,
        notify_url=req.notify_url,
        order_entry_schema=None if req.order_entry_schema is None else rules.dumps(req.order_entry_schema),
        created_at=now, updated_at=now)
