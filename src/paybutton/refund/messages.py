"""A refund's wire shapes, pure: the pre_create_refund msg (reference §14.3), the `refund` notify msg (§14.4)
and the refund as query_refund shows it (§16). Each takes a refund row (store.Refund) and its units'
amounts (store.RefundItem), as the generated docs do too."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from paybutton.order.rows import Order
from paybutton.refund.rules import refund_type
from paybutton.refund.store import Refund, RefundItem


def _item_order_detail(items: Sequence[RefundItem]) -> list[dict[str, Any]]:
    return [{"item_order_id": i.item_order_id, "refund_amount": i.amount} for i in items]


def _item_detail(items: Sequence[RefundItem]) -> dict[str, Any]:
    return {"item_order_quantity": len(items), "item_order_detail": _item_order_detail(items)}


def pre_refund_msg(order: Order, refund: Refund, amounts: dict[str, int]) -> dict[str, Any]:
    """The pre_create_refund msg (reference §14.3)."""
    return {
        "app_id": order.app_id, "open_id": order.open_id, "refund_id": refund.refund_id, "order_id": order.order_id,
        "out_order_no": order.out_order_no or "", "refund_total_amount": refund.refund_total_amount,
        "need_refund_audit": refund.need_refund_audit, "refund_audit_deadline": refund.refund_audit_deadline or 0,
        "create_refund_time": refund.created_at, "refund_source": refund.source,
        "refund_reason": json.loads(refund.reason or "[]"), "refund_description": refund.description or "",
        "cp_extra": refund.cp_extra or "",
        "refund_item_detail": _item_detail([RefundItem(refund.refund_id, k, v, refund.app_id)
                                            for k, v in sorted(amounts.items())]),
    }


def refund_msg(refund: Refund, items: Sequence[RefundItem], is_all_settled: bool = False) -> dict[str, Any]:
    """The refund result notify msg (reference §14.4); `is_all_settled`: every unit of the order not refunded whole
    is settled (issue 21)."""
    return {
        "app_id": refund.app_id, "status": refund.status, "order_id": refund.order_id, "refund_id": refund.refund_id,
        "out_refund_no": refund.out_refund_no or "", "cp_extra": refund.cp_extra or "",
        "refund_total_amount": refund.refund_total_amount, "refund_item_detail": _item_detail(items),
        "is_all_settled": is_all_settled, "message": refund.message or "",
        "event_time": refund.refund_at or refund.updated_at,
        "refund_source": refund.source, "refund_type": refund_type(refund.source),
    }


def view(refund: Refund, items: Sequence[RefundItem]) -> dict[str, Any]:
    """A refund as query_refund shows it (reference §16), plus our own fields."""
    return {
        "refund_id": refund.refund_id, "out_refund_no": refund.out_refund_no or "", "order_id": refund.order_id,
        "refund_status": refund.status, "refund_total_amount": refund.refund_total_amount,
        "item_order_detail": _item_order_detail(items),
        "refund_source": refund.source,
        "merchant_audit_detail": {
            "audit_status": refund.audit_status, "need_refund_audit": refund.need_refund_audit,
            "refund_audit_deadline": refund.refund_audit_deadline or 0, "deny_message": refund.deny_message or "",
        },
        "message": refund.message or "", "create_at": refund.created_at, "refund_at": refund.refund_at or 0,
        "stage": refund.stage,
    }
