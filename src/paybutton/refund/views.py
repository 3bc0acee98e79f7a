"""What the buyer sees of refunds (refund-apply, refund-detail, the pay-button's refunds list), read-only, the
buyer's own orders and refunds only."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.context import Ctx
from paybutton.errors import TradeError
from paybutton.order import store as order_store
from paybutton.order.states import OrderStatus, button_status, payable
from paybutton.refund import rules, store
from paybutton.refund.creating import units_of
from paybutton.refund.messages import view
from paybutton.refund.rules import RefundStatus
from paybutton.refund.store import Refund


async def _buyer_order(conn: AsyncConnection, app_id: str, open_id: str, ref: str) -> Any:
    row = await order_store.find_buyer_order(conn, app_id, open_id, ref)
    if row is None:
        raise TradeError("ORDER_ID_INVALID", ref)
    return row


async def buyer_refundable(ctx: Ctx, app_id: str, open_id: str, ref: str) -> dict[str, Any]:
    """What refund-apply shows: each unit with what it can still give back."""
    async with ctx.db.engine.connect() as conn:
        order = await _buyer_order(conn, app_id, open_id, ref)
        items = await order_store.items_of(conn, order.app_id, order.order_id)
    units = units_of(items) if order.status == OrderStatus.SUCCESS else []
    return {
        "order_id": order.order_id, "out_order_no": order.out_order_no or "", "legacy": bool(order.legacy),
        "payable": payable(order.total_amount, order.discount_amount),
        "refundable_amount": sum(rules.refundable(u) for u in units),
        "refundable_units": sum(1 for u in units if rules.untouched(u)),
        "settled_units": sum(1 for u in units if u.settled),
        "items": [{"item_order_id": u.item_order_id, "price": u.price, "status": u.status,
                   "refunded_amount": u.refunded, "refunding_amount": u.refunding,
                   "refundable_amount": rules.refundable(u), "settled": u.settled} for u in units],
    }


async def buyer_refunds(ctx: Ctx, app_id: str, open_id: str, ref: str) -> dict[str, Any]:
    """The order's refunds, newest first, with the pay-button's order-status from the newest one."""
    async with ctx.db.engine.connect() as conn:
        order = await _buyer_order(conn, app_id, open_id, ref)
        rows = await store.find(conn, app_id, order_id=order.order_id)
    rows.reverse()
    return {
        "order_id": order.order_id, "out_order_no": order.out_order_no or "",
        "order_status": button_status(rows[0].status if rows else None),
        "refunds": [{"refund_id": r.refund_id, "out_refund_no": r.out_refund_no or "", "status": r.status,
                     "refund_total_amount": r.refund_total_amount, "audit_status": r.audit_status,
                     "created_at": r.created_at, "refund_at": r.refund_at} for r in rows],
    }


async def buyer_detail(ctx: Ctx, app_id: str, open_id: str, ref: str) -> dict[str, Any]:
    """refund-detail: by refund id or out_refund_no, the buyer's own refunds only."""
    async with ctx.db.engine.connect() as conn:
        rows = await store.find(conn, app_id, refund_id=ref) or await store.find(conn, app_id, out_refund_no=ref)
        if not rows:
            raise TradeError("REFUND_NOT_FOUND", ref)
        r = rows[0]
        order = await order_store.order_row(conn, r.app_id, r.order_id)
        if order is None or order.open_id != open_id:
            raise TradeError("REFUND_NOT_FOUND", ref)
        items = await store.items_of(conn, r.app_id, r.refund_id)
    v = view(r, items)
    return {
        **v, "status": r.status, "amount": r.refund_total_amount, "out_order_no": order.out_order_no or "",
        "items": v["item_order_detail"], "audit_status": r.audit_status,
        "refund_audit_deadline": r.refund_audit_deadline, "deny_message": r.deny_message or "",
        "reason": json.loads(r.reason or "[]"), "description": r.description or "", "timeline": _timeline(r),
    }


def _timeline(r: Refund) -> list[dict[str, Any]]:
    """refund-detail's steps: applied, the audit (when one was asked), then refunded or failed."""
    steps: list[dict[str, Any]] = [{"step": "applied", "at": r.created_at}]
    if r.need_refund_audit == 1:
        steps.append({"step": "audit", "status": r.audit_status, "deadline": r.refund_audit_deadline,
                      "deny_message": r.deny_message or ""})
    if r.status == RefundStatus.SUCCESS:
        steps.append({"step": "refunded", "at": r.refund_at})
    elif r.status == RefundStatus.FAIL:
        steps.append({"step": "failed", "at": r.updated_at, "message": r.message or ""})
    return steps
