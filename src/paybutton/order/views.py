"""What buyers read about an order: the buyer-facing order view (also the base of the pages), by id or number."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from paybutton.context import Ctx
from paybutton.errors import TradeError
from paybutton.goods import rules as goods_rules
from paybutton.order import store
from paybutton.order.rows import ItemOrder, Snapshot
from paybutton.order.states import payable


def _mapping(row: Any) -> Mapping[str, Any]:
    if isinstance(row, Mapping):
        return row
    if isinstance(row, ItemOrder):
        return vars(row)
    m: Mapping[str, Any] = row._mapping
    return m


def order_view(o: Any, items: Sequence[Any], snap: Snapshot | None = None,
               app: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The buyer-facing order: `o` and `items` are rows as read (or as just written: OrderRow, ItemRow)."""
    m = _mapping(o)
    snapshot = snap if snap is not None else json.loads(m["goods_snapshot"])
    detail = m.get("price_calculation_detail")
    view: dict[str, Any] = {
        "order_id": m["order_id"], "out_order_no": m["out_order_no"], "status": m["status"],
        "pre_order_status": m["pre_order_status"], "goods_id": m["goods_id"], "goods_type": m["goods_type"],
        "goods": {"name": snapshot["name"], "photo_url": snapshot["photo_url"], "labels": snapshot["labels"],
                  "label_texts": [goods_rules.label_text(lb, "zh-CN") for lb in snapshot["labels"]],
                  "date_rule": snapshot["date_rule"]},
        "quantity": m["quantity"], "unit_price": m["unit_price"], "total_amount": m["total_amount"],
        "discount_amount": m["discount_amount"], "payable": payable(m["total_amount"], m["discount_amount"]),
        "price_calculation_detail": json.loads(detail) if detail else None,
        "pay_expire_at": m["pay_expire_at"], "created_at": m["created_at"], "paid_at": m.get("paid_at"),
        "pay_channel": m.get("pay_channel"), "message": m.get("message"),
        "item_orders": [
            {"item_order_id": i["item_order_id"], "price": i["price"], "status": i["status"],
             "refunded_amount": i["refunded_amount"]}
            for i in map(_mapping, items)
        ],
    }
    if app is not None:
        view["merchant_name"] = app["name"]
    return view


async def get_buyer_order(ctx: Ctx, app_id: str, open_id: str, order_ref: str) -> dict[str, Any]:
    """A buyer's own order by platform order id or merchant out_order_no."""
    async with ctx.db.engine.connect() as conn:
        row = await store.find_buyer_order(conn, app_id, open_id, order_ref)
        if row is None:
            raise TradeError("ORDER_NOT_FOUND", order_ref)
        items = await store.items_of(conn, row.app_id, row.order_id)
    return order_view(row, items, app=await ctx.app(app_id))
