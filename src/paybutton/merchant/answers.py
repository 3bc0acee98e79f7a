"""What a merchant server answers to a callback (reference §12.4, §14): HTTP 200 with
`{"err_no": 0, "err_tips": "success", "data": {...}}`; a non-zero err_no is a refusal (or, for notifications
and pre_create_refund, a failure that paybutton retries)."""

from __future__ import annotations

import json
from typing import Any

MAX_NO_BYTES = 64
MAX_PARAMS_BYTES = 512
MAX_PAY_EXPIRE_SECONDS = 48 * 3600


def answer(data: dict[str, Any] | None = None, err_no: int = 0, err_tips: str = "success") -> dict[str, Any]:
    """The answer envelope as a dict."""
    return {"err_no": err_no, "err_tips": err_tips, "data": data or {}}


def answer_json(data: dict[str, Any] | None = None, err_no: int = 0, err_tips: str = "success") -> bytes:
    """The answer envelope as JSON bytes (UTF-8), for frameworks that want a body."""
    return json.dumps(answer(data, err_no, err_tips), ensure_ascii=False, separators=(",", ":")).encode()


def ack() -> dict[str, Any]:
    """Acknowledge a notification (`payment`, `refund`, `settle`): paybutton stops retrying it."""
    return answer()


def refuse(err_no: int = 1, err_tips: str = "refused") -> dict[str, Any]:
    """Refuse: for pre_create_order the order fails (21518); for notifications paybutton retries later."""
    if err_no == 0:
        raise ValueError("a refusal needs a non-zero err_no")
    return answer(None, err_no, err_tips)


def entry_schema(path: str, params: dict[str, Any] | str | None = None) -> dict[str, str]:
    """An `order_entry_schema`: a mini-program path (no leading "/", no query) and params as a JSON string."""
    if not path or path.startswith("/") or "?" in path:
        raise ValueError("order_entry_schema path must not be empty, start with '/' or carry a query")
    text = params if isinstance(params, str) else json.dumps(params or {}, ensure_ascii=False, separators=(",", ":"))
    if len(text.encode()) > MAX_PARAMS_BYTES:
        raise ValueError(f"order_entry_schema params must be at most {MAX_PARAMS_BYTES} bytes")
    return {"path": path, "params": text}


def _merchant_no(name: str, value: str) -> str:
    if not isinstance(value, str) or not value or len(value.encode()) > MAX_NO_BYTES:
        raise ValueError(f"{name} must be 1-{MAX_NO_BYTES} bytes")
    return value


def pre_create_order_answer(
    out_order_no: str,
    *,
    order_entry_schema: dict[str, str] | None = None,
    pay_expire_seconds: int | None = None,
) -> dict[str, Any]:
    """Accept a `pre_create_order` with the merchant's order number (unique per app)."""
    data: dict[str, Any] = {"out_order_no": _merchant_no("out_order_no", out_order_no)}
    if order_entry_schema is not None:
        data["order_entry_schema"] = order_entry_schema
    if pay_expire_seconds is not None:
        if not 1 <= pay_expire_seconds <= MAX_PAY_EXPIRE_SECONDS:
            raise ValueError(f"pay_expire_seconds must be in 1..{MAX_PAY_EXPIRE_SECONDS}")
        data["pay_expire_seconds"] = pay_expire_seconds
    return answer(data)


def pre_create_refund_answer(
    out_refund_no: str,
    *,
    order_entry_schema: dict[str, str] | None = None,
    notify_url: str | None = None,
) -> dict[str, Any]:
    """Answer a `pre_create_refund` with the merchant's refund number. Do not refuse here (reference §14.3):
    paybutton retries a failure; a refund is refused later, in the audit."""
    data: dict[str, Any] = {"out_refund_no": _merchant_no("out_refund_no", out_refund_no)}
    if order_entry_schema is not None:
        data["order_entry_schema"] = order_entry_schema
    if notify_url is not None:
        data["notify_url"] = notify_url
    return answer(data)


MARKETING_TYPES = ("query_marketing_info", "calculate_price", "query_and_calculate")


def no_marketing_answer(callback_type: str, msg: dict[str, Any]) -> dict[str, Any]:
    """Answer a marketing extension point (`marketing-ready`) with no promotion and no discount, covering every
    goods line paybutton asked about: for a merchant with nothing to offer yet. The buyer pays full price."""
    if callback_type == "query_marketing_info":
        return answer(_no_offers([g["goods_id"] for g in msg["goods_info"]]))
    if callback_type == "calculate_price":
        return answer(_no_discount(msg["goods_calculation_info"]))
    if callback_type == "query_and_calculate":
        lines = msg["goods_marketing_info"]
        return answer({**_no_offers([g["goods_id"] for g in lines]),
                       "price_calculation_detail": _no_discount(lines)})
    raise ValueError(f"{callback_type!r} is not a marketing extension point ({', '.join(MARKETING_TYPES)})")


def _no_offers(goods_ids: list[str]) -> dict[str, Any]:
    return {"goods_valid_marketing_info": [{"goods_id": g, "marketing_info": []} for g in goods_ids],
            "goods_invalid_marketing_info": [], "order_valid_marketing_info": [], "order_invalid_marketing_info": []}


def _no_discount(lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "calculation_type": 1,
        "goods_discount_detail": [
            {"goods_id": g["goods_id"], "quantity": g["quantity"],
             "total_amount": g.get("total_amount", g["price"] * g["quantity"]),
             "total_discount_amount": 0, "marketing_detail_info": []} for g in lines],
        "order_discount_detail": {"order_total_discount_amount": 0, "goods_total_discount_amount": 0,
                                  "marketing_detail_info": []},
    }
