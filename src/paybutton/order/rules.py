"""Pure order rules: quantities within limits and stock, mainland mobile numbers, pre-order answers."""

from __future__ import annotations

import re
from typing import Any

from paybutton.errors import TradeError

MOBILE = re.compile(r"^1[3-9]\d{9}$")
MAX_PAY_EXPIRE_SECONDS = 48 * 3600
MAX_QUANTITY = 99999


def check_quantity(quantity: int, min_limits: int, max_limits: int) -> None:
    if not min_limits <= quantity <= max_limits:
        raise TradeError(
            "QUANTITY_OUT_OF_LIMITS", f"quantity {quantity} is outside [{min_limits}, {max_limits}]"
        )


def normalise_phone(phone: str | None, required: bool) -> str | None:
    """A mainland mobile number (+86 and spaces tolerated) or None; PHONE_REQUIRED / PHONE_INVALID."""
    if phone is None or not phone.strip():
        if required:
            raise TradeError("PHONE_REQUIRED")
        return None
    digits = re.sub(r"[\s-]", "", phone)
    if digits.startswith("+86"):
        digits = digits[3:]
    if not MOBILE.match(digits):
        raise TradeError("PHONE_INVALID")
    return digits


def parse_pre_order_answer(data: dict[str, Any]) -> dict[str, Any]:
    """Validate the `data` of a pre_create_order answer (reference §14.1); garbage -> PRE_ORDER_SERVER_ERROR."""
    out_order_no = data.get("out_order_no")
    if not isinstance(out_order_no, str) or not out_order_no or len(out_order_no.encode()) > 64:
        raise TradeError("PRE_ORDER_SERVER_ERROR", "the answer has no valid out_order_no (1-64 bytes)")
    result: dict[str, Any] = {"out_order_no": out_order_no}
    pes = data.get("pay_expire_seconds")
    if pes is not None:
        if not isinstance(pes, int) or isinstance(pes, bool) or not 1 <= pes <= MAX_PAY_EXPIRE_SECONDS:
            raise TradeError("PRE_ORDER_SERVER_ERROR", "pay_expire_seconds must be an integer in 1..172800")
        result["pay_expire_seconds"] = pes
    schema = data.get("order_entry_schema")
    if schema is not None:
        if not isinstance(schema, dict) or not isinstance(schema.get("path", ""), str):
            raise TradeError("PRE_ORDER_SERVER_ERROR", "order_entry_schema must be {path, params}")
        result["order_entry_schema"] = schema
    return result
