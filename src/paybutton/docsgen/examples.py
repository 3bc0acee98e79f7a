"""The examples in docs/callbacks.md: an order, its payment and a refund as the server writes them, and the
callback messages built from them by the server's own code (so the catalogue cannot drift from what is sent)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from paybutton.callbacks import ops
from paybutton.marketing import rules as marketing
from paybutton.money import split_exact
from paybutton.order import paying
from paybutton.order import rules as order_rules
from paybutton.order.rows import ItemOrder, Order, Snapshot
from paybutton.refund import messages as refund_messages
from paybutton.refund.rules import Source, Stage
from paybutton.refund.store import Refund, RefundItem
from paybutton.settle import messages as settle_messages

APP_ID = "tt5eed000000000001"
OPEN_ID = "demo-buyer-1"
ORDER_ID = "ot2611261200004815162342"
ITEMS = ["it2611261200001000000001", "it2611261200001000000002"]
REFUND_ID = "rf2611261205007000000001"
T0 = 1_795_665_600_000  # 2026-11-26 12:00:00 +08:00
LINE = marketing.Line(goods_id="demo-hotpot", goods_id_type=1, quantity=2, price=16800)
COUPON = marketing.Choice("cp-20off", 1, marketing.GOODS)
FULL_REDUCTION = marketing.Choice("mj-300-30", 2, marketing.ORDER)


def offers_answer() -> dict[str, Any]:
    """An example query_marketing_info answer `data` (checked with the server's parser below)."""
    return {
        "goods_valid_marketing_info": [{"goods_id": LINE.goods_id, "marketing_info": [
            {"id": COUPON.id, "type": COUPON.type, "title": "立减 20 元", "note": "每单限用一张"}]}],
        "goods_invalid_marketing_info": [],
        "order_valid_marketing_info": [{"id": FULL_REDUCTION.id, "type": FULL_REDUCTION.type, "title": "满 300 减 30"}],
        "order_invalid_marketing_info": [{"id": "vip-only", "type": 1, "title": "会员 9 折", "reason": "仅限会员"}],
    }


def calculation() -> dict[str, Any]:
    """An example calculate_price answer `data` (= price_calculation_detail): the coupon on the goods line."""
    return {
        "calculation_type": 1,
        "goods_discount_detail": [{
            "goods_id": LINE.goods_id, "quantity": LINE.quantity, "total_amount": LINE.total,
            "total_discount_amount": 2000,
            "marketing_detail_info": [{"id": COUPON.id, "type": COUPON.type, "discount_amount": 2000,
                                       "title": "立减 20 元"}]}],
        "item_discount_detail": [],
        "order_discount_detail": {"order_total_discount_amount": 2000, "goods_total_discount_amount": 2000,
                                  "marketing_detail_info": []},
    }


def _pricing() -> marketing.Pricing:
    marketing.parse_offers(offers_answer(), LINE)  # the example answers must pass the server's own checks
    return marketing.parse_calculation(calculation(), LINE, {COUPON.id})


@dataclass(frozen=True)
class ExampleOrder:
    """An order as the order path writes it (2 units of a library good, with the coupon), its item orders and the
    goods snapshot."""

    order: Order
    items: list[ItemOrder]
    snapshot: Snapshot


def _order() -> ExampleOrder:
    pricing = _pricing()
    total = LINE.total
    prices = split_exact(total - pricing.discount, LINE.quantity)
    snap: Snapshot = {"name": "双人火锅套餐", "photo_url": "https://shop.example/hotpot.png",
                      "labels": [{"type": "EXPIRED_RETURNS"}, {"type": "BOOK_IN_ADVANCE", "value": 1}],
                      "date_rule": "周一至周日可用"}
    o = Order.from_new({
        "order_id": ORDER_ID, "app_id": APP_ID, "out_order_no": None, "open_id": OPEN_ID,
        "goods_id": LINE.goods_id, "goods_type": 1, "quantity": LINE.quantity, "unit_price": LINE.price,
        "total_amount": total, "discount_amount": pricing.discount, "status": "INIT", "pre_order_status": "PENDING",
        "phone_num": "13800138000", "contact_name": "张三", "cp_extra": "table=12",
        "goods_snapshot": json.dumps(snap, ensure_ascii=False), "price_calculation_detail": json.dumps(pricing.detail),
        "order_entry_schema": None, "delivery_type": 1, "biz_line": 1, "legacy": False,
        "pay_expire_at": T0 + 300_000, "auto_refund_pending": False, "created_at": T0, "updated_at": T0,
    })
    items = [ItemOrder.from_new({"item_order_id": iid, "order_id": ORDER_ID, "app_id": APP_ID, "seq": seq,
                                 "goods_id": LINE.goods_id, "price": p, "status": 1, "refunded_amount": 0,
                                 "created_at": T0, "updated_at": T0})
             for seq, (iid, p) in enumerate(zip(ITEMS, prices, strict=True))]
    return ExampleOrder(o, items, snap)


def _paid() -> Order:
    return replace(_order().order, pre_order_status="OK", out_order_no="SHOP-20261126-0001", status="SUCCESS",
                   pay_channel=10, channel_pay_id="sbx_py2611261201000000000001", paid_at=T0 + 60_000,
                   updated_at=T0 + 60_000)


def _refund(status: str = "PROCESSING") -> Refund:
    return Refund(
        refund_id=REFUND_ID, app_id=APP_ID, order_id=ORDER_ID, out_refund_no=None, status=status,
        stage=(Stage.PRE_REFUND if status == "PROCESSING" else Stage.DONE).value,
        refund_total_amount=15800, source=int(Source.USER), audit_status="INIT", need_refund_audit=1,
        refund_audit_deadline=T0 + 300_000 + 3 * 86_400_000, deny_message=None,
        reason=json.dumps(["不想要了"], ensure_ascii=False), description="临时有事", cp_extra="",
        notify_url=None, message=None, created_at=T0 + 300_000, refund_at=None, updated_at=T0 + 300_000,
    )


def pre_create_order_msg() -> dict[str, Any]:
    o = _order()
    return order_rules.pre_order_msg(APP_ID, o.order, o.items, o.snapshot)


def payment_msg() -> dict[str, Any]:
    return paying.payment_msg(_paid(), "SUCCESS")


def pre_create_refund_msg() -> dict[str, Any]:
    return refund_messages.pre_refund_msg(_paid(), _refund(), {ITEMS[0]: 15800})


def refund_msg() -> dict[str, Any]:
    r = replace(_refund("SUCCESS"), out_refund_no="SHOP-R-0001", message="refunded", refund_at=T0 + 420_000,
                updated_at=T0 + 420_000)
    return refund_messages.refund_msg(r, [RefundItem(REFUND_ID, ITEMS[0], 15800, APP_ID)])


def settle_msg() -> dict[str, Any]:
    """A settle of the whole order with one receiver, 0.6% rake (issue 21)."""
    row = {"settle_id": "st2611261210000000000001", "app_id": APP_ID, "order_id": ORDER_ID,
           "out_order_no": "SHOP-20261126-0001", "out_settle_no": "SHOP-S-0001", "item_order_id": None,
           "settle_params": '[{"merchant_uid":"7000000000000000001","amount":1000}]', "cp_extra": "",
           "status": "SUCCESS", "is_auto": False, "total_amount": 15800, "rake": 95, "commission": 0,
           "settle_amount": 14705, "merchant_uid": "7123456789012345678", "created_at": T0 + 86_400_000,
           "settled_at": T0 + 86_400_000}
    return settle_messages.settle_msg(row)


def test_callback_msg() -> dict[str, Any]:
    return ops.build_test_msg(APP_ID, "payment", "https://shop.example/cb/payment", T0, "tst0123456789abcdef")


def ok(data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"err_no": 0, "err_tips": "success", "data": data or {}}
