"""A settle's wire shapes, pure: as query_settle lists it, and the `settle` callback's msg (reference §14.6: app_id,
status, order_id, settle_id, out_settle_no, cp_extra, message, event_time, rake, commission, settle_detail,
settle_amount, item_order_id, is_auto_settle). Each takes a `settles` row (or its fields as a mapping)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paybutton.settle.rules import parse_params


def _m(row: Any) -> Mapping[str, Any]:
    return row if isinstance(row, Mapping) else row._mapping


def detail(row: Any) -> str:
    """As Douyin writes settle_detail: 商户号<uid>-分成金额(分)<amount>, the seller first, then each receiver."""
    m = _m(row)
    parts = [(m["merchant_uid"], m["settle_amount"]),
             *((s.merchant_uid, s.amount) for s in parse_params(m["settle_params"]))]
    return ",".join(f"商户号{uid}-分成金额(分){amt}" for uid, amt in parts)


def view(row: Any) -> dict[str, Any]:
    """One settle as query_settle lists it."""
    m = _m(row)
    return {
        "order_id": m["order_id"], "out_order_no": m["out_order_no"] or "", "out_settle_no": m["out_settle_no"],
        "settle_id": m["settle_id"], "settle_status": m["status"], "item_order_id": m["item_order_id"] or "",
        "cp_extra": m["cp_extra"] or "", "settle_detail": detail(m), "rake": m["rake"],
        "commission": m["commission"], "settle_amount": m["settle_amount"], "settle_time": m["settled_at"] or 0,
        "is_auto_settle": bool(m["is_auto"]),
    }


def settle_msg(row: Any) -> dict[str, Any]:
    """The `settle` callback's msg."""
    m = _m(row)
    return {
        "app_id": m["app_id"], "status": m["status"], "order_id": m["order_id"], "settle_id": m["settle_id"],
        "out_settle_no": m["out_settle_no"], "cp_extra": m["cp_extra"] or "", "message": "",
        "event_time": m["settled_at"] or m["created_at"], "rake": m["rake"], "commission": m["commission"],
        "settle_detail": detail(m), "settle_amount": m["settle_amount"],
        "item_order_id": m["item_order_id"] or "", "is_auto_settle": bool(m["is_auto"]),
    }
