"""The callback body `{"version": "2.0", "type": TYPE, "msg": "<JSON string>"}` (reference §12.3), built once
as bytes: those exact bytes are stored, signed and sent."""

from __future__ import annotations

import json
from typing import Any

# Byte-Identifyname per callback type (the callback path, no host).
IDENTIFY_NAMES = {
    "pre_create_order": "/order/create_order_callback_url",
    "payment": "/order/payment_notify_url",
    "pre_create_refund": "/refund/create_refund_callback_url",
    "refund": "/refund/refund_notify_url",
    "settle": "/settle/settle_notify_url",
    "query_marketing_info": "/marketing/query_marketing_info",
    "calculate_price": "/marketing/calculate_price",
    "query_and_calculate": "/marketing/query_and_calculate",
    "test": "/tools/test_callback",
}


def compact(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def build_body(kind: str, msg: dict[str, Any], version: str = "2.0") -> bytes:
    return compact({"version": version, "type": kind, "msg": compact(msg)}).encode()


def identify_name(kind: str) -> str:
    return IDENTIFY_NAMES.get(kind, f"/{kind}")
