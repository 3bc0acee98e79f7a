"""Pure order rules: quantities within limits, mainland mobile numbers, merchant goods as the page described
them, the pre_create_order msg and its answer."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from paybutton.errors import TradeError
from paybutton.goods import rules as goods_rules
from paybutton.money import check_amount
from paybutton.order.rows import Goods, ItemOrder, Order, Snapshot, dumps
from paybutton.order.states import GoodsType

MOBILE = re.compile(r"^1[3-9]\d{9}$")
MAX_PAY_EXPIRE_SECONDS = 48 * 3600
MAX_QUANTITY = 99999
MERCHANT_BIZ_LINE = 1


@dataclass(frozen=True)
class MerchantGoods:
    """A merchant good as its getgoodsinfo described it: the goods, its quantity limits, whether a phone is due."""

    goods: Goods
    min_limits: int
    max_limits: int
    phone_required: bool


def check_quantity(quantity: int, min_limits: int, max_limits: int) -> None:
    if not min_limits <= quantity <= max_limits:
        raise TradeError(
            "QUANTITY_OUT_OF_LIMITS", f"quantity {quantity} is outside [{min_limits}, {max_limits}]"
        )


def check_total(price: int, quantity: int) -> None:
    """quantity x price within the money ceiling (a library good's is the sell condition's clause)."""
    check_amount(price * quantity, f"the order total ({quantity} x {price})")


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


def merchant_goods(info: dict[str, Any] | None) -> MerchantGoods:
    """Validate what the page's getgoodsinfo said about a merchant good: 21511 labels, 21512 types/limits."""
    if not isinstance(info, dict):
        raise TradeError("GOODS_INFO_TYPE_INVALID", "goods_info is required for merchant goods")
    price, name, photo = info.get("currentPrice"), info.get("goodsName"), info.get("goodsPhoto")
    if not isinstance(price, int) or isinstance(price, bool) or price < 0:
        raise TradeError("GOODS_INFO_TYPE_INVALID", "currentPrice must be an integer >= 0 (fen)")
    check_amount(price, "currentPrice")
    if not isinstance(name, str) or not name:
        raise TradeError("GOODS_INFO_TYPE_INVALID", "goodsName must be a non-empty string")
    if not isinstance(photo, str):
        raise TradeError("GOODS_INFO_TYPE_INVALID", "goodsPhoto must be a string")
    labels = goods_rules.validate_labels(info.get("goodsLabels") or [])
    lo, hi = goods_rules.validate_limits(info.get("minLimits"), info.get("maxLimits"))
    date_rule = info.get("dateRule", goods_rules.DATE_RULE_DEFAULT)
    if not isinstance(date_rule, str):
        raise TradeError("GOODS_INFO_TYPE_INVALID", "dateRule must be a string")
    goods = Goods(name=name, photo_url=photo, price=price, labels=dumps(labels), date_rule=date_rule,
                  biz_line=MERCHANT_BIZ_LINE)
    return MerchantGoods(goods, lo, hi, goods_rules.phone_required(info))


def pre_order_msg(app_id: str, o: Order, items: Sequence[ItemOrder], snap: Snapshot) -> dict[str, Any]:
    """The pre_create_order msg (reference §14.1)."""
    gtype = 1 if o.goods_type == GoodsType.LIBRARY else 2
    labels = "｜".join(goods_rules.label_text(lb, "zh-CN") for lb in snap["labels"])
    detail = o.price_calculation_detail
    goods_info = {"img_url": snap["photo_url"], "title": snap["name"], "labels": labels,
                  "date_rule": snap["date_rule"], "goods_id": o.goods_id, "goods_id_type": gtype}
    return {
        "app_id": app_id, "open_id": o.open_id, "union_id": "", "order_id": o.order_id,
        "create_order_time": o.created_at, "total_amount": o.total_amount, "discount": o.discount_amount,
        "cp_extra": o.cp_extra or "", "phone_num": o.phone_num or "",
        "contact_name": o.contact_name or "", "delivery_type": o.delivery_type, "biz_line": o.biz_line,
        "fulfill_type": 0,
        "goods": [{
            "goods_id": o.goods_id, "goods_id_type": gtype, "quantity": o.quantity,
            "origin_price": o.unit_price, "price": o.unit_price, "goods_title": snap["name"],
            "goods_image": snap["photo_url"], "labels": labels, "date_rule": snap["date_rule"],
        }],
        "sku_list": [{
            "sku_id": o.goods_id, "sku_id_type": gtype, "quantity": o.quantity,
            "origin_price": o.unit_price, "price": o.unit_price, "goods_info": goods_info,
        }],
        "item_order_info_list": [
            {"goods_id": o.goods_id, "goods_id_type": gtype, "sku_id": o.goods_id, "sku_id_type": gtype,
             "item_order_id": it.item_order_id, "price": it.price}
            for it in items
        ],
        "price_calculation_detail": json.loads(detail) if detail else None,
    }
