"""A refund's wire shapes, pure: the pre_create_refund msg (reference §14.3), the `refund` notify msg (§14.4)
and the refund as query_refund shows it (§16). Each takes a refund row (store.Refund) and its units'
amounts (store.RefundItem); the generated docs pass the same fields as plain dicts."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from paybutton.order.rows import Order
from paybutton.refund.rules import refund_type
from paybutton.refund.store import Refund, RefundItem

RefundFields = Refund | Mapping[str, Any]
ItemFields = RefundItem | Mapping[str, Any]


def _fields(r: RefundFields | ItemFields) -> Mapping[str, Any]:
    return asdict(r) if isinstance(r, Refund | RefundItem) else r


def _item_order_detail(items: Sequence[ItemFields]) -> list[dict[str, Any]]:
    its = [_fields(i) for i in items]
    return [{"item_order_id": i["item_order_id"], "refund_amount": i["amount"]} for i in its]


def _item_detail(items: Sequence[ItemFields]) -> dict[str, Any]:
    return {"item_order_quantity": len(items), "item_order_detail": _item_order_detail(items)}


def pre_refund_msg(order: Order, refund: RefundFields, amounts: dict[str, int]) -> dict[str, Any]:
    """The pre_create_refund msg (reference §14.3)."""
    r = _fields(refund)
    return {
        "app_id": order.app_id, "open_id": order.open_id, "refund_id": r["refund_id"], "order_id": order.order_id,
        "out_order_no": order.out_order_no or "", "refund_total_amount": r["refund_total_amount"],
        "need_refund_audit": r["need_refund_audit"], "refund_audit_deadline": r["refund_audit_deadline"] or 0,
        "create_refund_time": r["created_at"], "refund_source": r["source"],
        "refund_reason": json.loads(r["reason"] or "[]"), "refund_description": r["description"] or "",
        "cp_extra": r["cp_extra"] or "",
        "refund_item_detail": _item_detail([{"item_order_id": k, "amount": v} for k, v in sorted(amounts.items())]),
    }


def refund_msg(refund: RefundFields, items: Sequence[ItemFields], is_all_settled: bool = False) -> dict[str, Any]:
    """The refund result notify msg (reference §14.4); `is_all_settled`: every unit of the order not refunded whole
    is settled (issue 21)."""
    m = _fields(refund)
    return {
        "app_id": m["app_id"], "status": m["status"], "order_id": m["order_id"], "refund_id": m["refund_id"],
        "out_refund_no": m["out_refund_no"] or "", "cp_extra": m["cp_extra"] or "",
        "refund_total_amount": m["refund_total_amount"], "refund_item_detail": _item_detail(items),
        "is_all_settled": is_all_settled, "message": m["message"] or "",
        "event_time": m["refund_at"] or m["updated_at"],
        "refund_source": m["source"], "refund_type": refund_type(m["source"]),
    }


def view(refund: RefundFields, items: Sequence[ItemFields]) -> dict[str, Any]:
    """A refund as query_refund shows it (reference §16), plus our own fields."""
    m = _fields(refund)
    return {
        "refund_id": m["refund_id"], "out_refund_no": m["out_refund_no"] or "", "order_id": m["order_id"],
        "refund_status": m["status"], "refund_total_amount": m["refund_total_amount"],
        "item_order_detail": _item_order_detail(items),
        "refund_source": m["source"],
        "merchant_audit_detail": {
            "audit_status": m["audit_status"], "need_refund_audit": m["need_refund_audit"],
            "refund_audit_deadline": m["refund_audit_deadline"] or 0, "deny_message": m["deny_message"] or "",
        },
        "message": m["message"] or "", "create_at": m["created_at"], "refund_at": m["refund_at"] or 0,
        "stage": m["stage"],
    }
