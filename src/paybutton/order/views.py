"""What buyers read about an order: the buyer-facing order view (also the base of the pages), by id or number."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from paybutton.context import Ctx
from paybutton.errors import TradeError
from paybutton.goods import rules as goods_rules
from paybutton.order import store
from paybutton.order.rows import ItemOrder, Order, Snapshot


def order_view(o: Order, items: Sequence[ItemOrder], snap: Snapshot | None = None,
               app: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The buyer-facing order: `o` and its `items` as read (or as just written: Order.from_new,
    ItemOrder.from_new)."""
    snapshot = snap if snap is not None else o.snapshot()
    detail = o.price_calculation_detail
    view: dict[str, Any] = {
        "order_id": o.order_id, "out_order_no": o.out_order_no, "status": o.status,
        "pre_order_status": o.pre_order_status, "goods_id": o.goods_id, "goods_type": o.goods_type,
        "goods": {"name": snapshot["name"], "photo_url": snapshot["photo_url"], "labels": snapshot["labels"],
                  "label_texts": [goods_rules.label_text(lb, "zh-CN") for lb in snapshot["labels"]],
                  "date_rule": snapshot["date_rule"]},
        "quantity": o.quantity, "unit_price": o.unit_price, "total_amount": o.total_amount,
        "discount_amount": o.discount_amount, "payable": o.payable,
        "price_calculation_detail": json.loads(detail) if detail else None,
        "pay_expire_at": o.pay_expire_at, "created_at": o.created_at, "paid_at": o.paid_at,
        "pay_channel": o.pay_channel, "message": o.message,
        "item_orders": [
            {"item_order_id": i.item_order_id, "price": i.price, "status": i.status,
             "refunded_amount": i.refunded_amount}
            for i in items
        ],
    }
    if app is not None:
        view["merchant_name"] = app["name"]
    return view


async def buyer_order(ctx: Ctx, app_id: str, open_id: str, order_ref: str) -> tuple[Order, list[ItemOrder]]:
    """A buyer's own order (by platform order id or merchant out_order_no) and its item orders, as read."""
    async with ctx.db.engine.connect() as conn:
        row = await store.find_buyer_order(conn, app_id, open_id, order_ref)
        if row is None:
            raise TradeError("ORDER_NOT_FOUND", order_ref)
        return row, await store.items_of(conn, row.app_id, row.order_id)


async def get_buyer_order(ctx: Ctx, app_id: str, open_id: str, order_ref: str) -> dict[str, Any]:
    """A buyer's own order's view, by platform order id or merchant out_order_no."""
    order, items = await buyer_order(ctx, app_id, open_id, order_ref)
    return order_view(order, items, app=await ctx.app(app_id))
