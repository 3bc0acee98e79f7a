"""The answers of the buyer API's refund and voucher routes (api/buyer_refund.py), as documented in /openapi.json
(kernel/answers.py). Money in fen, times in epoch ms."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from paybutton.kernel.answers import example
from paybutton.refund.api_models import REFUND_EXAMPLE, RefundItem, RefundView

ORDER_ID = "ot2612070247519296326435"
ITEM_ID = "it2612070247517893350858"
REFUND_ID = "rf2612070247538119264858"


class RefundableItem(BaseModel):
    item_order_id: str
    price: int
    status: int = Field(description="the unit's status (2 unused, 3 redeemed, 101 refunding, …)")
    refunded_amount: int
    refunding_amount: int
    refundable_amount: int
    settled: bool = Field(description="settled with the merchant (issue 21): it refunds no more")


class Refundable(BaseModel):
    """refund-apply: each unit with what it can still give back (none unless the order is paid)."""

    model_config = example({"order_id": ORDER_ID, "out_order_no": "M" + ORDER_ID, "legacy": False,
                            "payable": 19800, "refundable_amount": 19800, "refundable_units": 2,
                            "settled_units": 0, "items": [
                                {"item_order_id": ITEM_ID, "price": 9900, "status": 2, "refunded_amount": 0,
                                 "refunding_amount": 0, "refundable_amount": 9900, "settled": False}]})
    order_id: str
    out_order_no: str
    legacy: bool = Field(description="a 1.0 order: refunds by amount (refund_total_amount)")
    payable: int
    refundable_amount: int
    refundable_units: int = Field(description="units nothing was refunded from yet")
    settled_units: int = Field(description="units settled with the merchant: they refund no more")
    items: list[RefundableItem]


class AppliedRefund(BaseModel):
    """The refund applied for: the merchant's out_refund_no, or out_refund_no_pending while it is asked again."""

    model_config = example({"refund_id": REFUND_ID, "out_refund_no": "", "out_refund_no_pending": True,
                            "order_id": ORDER_ID, "status": "PROCESSING"})
    refund_id: str
    out_refund_no: str
    out_refund_no_pending: bool
    order_id: str
    status: str = Field(description="PROCESSING, SUCCESS or FAIL")


class RefundSummary(BaseModel):
    refund_id: str
    out_refund_no: str
    status: str
    refund_total_amount: int
    audit_status: str
    created_at: int
    refund_at: int | None


class OrderRefunds(BaseModel):
    """The order's refunds, newest first, and the pay-button's order-status from the newest one."""

    model_config = example({"order_id": ORDER_ID, "out_order_no": "M" + ORDER_ID, "order_status": 2, "refunds": [
        {"refund_id": REFUND_ID, "out_refund_no": "", "status": "PROCESSING", "refund_total_amount": 9900,
         "audit_status": "INIT", "created_at": 1796611673704, "refund_at": None}]})
    order_id: str
    out_order_no: str
    order_status: int = Field(description="the pay-button's order-status")
    refunds: list[RefundSummary]


class TimelineStep(BaseModel):
    """applied, audit (with status, deadline, deny_message), refunded or failed (with message)."""

    step: Literal["applied", "audit", "refunded", "failed"]
    at: int | None = None
    status: str | None = None
    deadline: int | None = None
    deny_message: str | None = None
    message: str | None = None


class RefundDetail(RefundView):
    """refund-detail: the refund as query_refund gives it, plus what the page shows."""

    model_config = example({
        **REFUND_EXAMPLE, "status": "PROCESSING", "amount": 9900, "out_order_no": "M" + ORDER_ID,
        "items": [{"item_order_id": ITEM_ID, "refund_amount": 9900}], "audit_status": "INIT",
        "refund_audit_deadline": None, "deny_message": "", "reason": ["不想要了"], "description": "",
        "timeline": [{"step": "applied", "at": 1796611673704}]})
    status: str
    amount: int
    out_order_no: str
    items: list[RefundItem]
    audit_status: str
    refund_audit_deadline: int | None
    deny_message: str
    reason: list[str]
    description: str
    timeline: list[TimelineStep]


class Voucher(BaseModel):
    """One unit's voucher: its code, the QR's data and its state."""

    item_order_id: str
    code: str | None
    qr_data: str | None
    certificate_id: str | None
    status: int
    state: str = Field(description="the state as the buyer reads it (待使用, 已核销, 已退款, …)")
    price: int
    refunded_amount: int
    verified_at: int | None


class ToolkitDisplay(BaseModel):
    """The app's fulfilment tool settings as the card shows them (toolkit/display.py; issue 22)."""

    guidance_text: str | None = Field(description="the guidance line (toolkit/update_merchant_conf)")
    button_text: str | None
    display_mode: int | None
    path: str | None = Field(description="the mini-program page (toolkit/update_merchant_path)")


class Vouchers(BaseModel):
    """The voucher card."""

    model_config = example({
        "order_id": ORDER_ID, "out_order_no": "M" + ORDER_ID, "status": "SUCCESS", "delivery_type": 1,
        "merchant_name": "示例商户", "goods_name": "双人下午茶套餐",
        "labels": {"zh-CN": ["随时退"], "en": ["Refund anytime"]},
        "vouchers": [{"item_order_id": ITEM_ID, "code": "787929495092", "qr_data": "pbv1:787929495092",
                      "certificate_id": "ct286e72f0fb2501fa", "status": 2, "state": "待使用", "price": 9900,
                      "refunded_amount": 0, "verified_at": None}],
        "toolkit": {"guidance_text": "小程序提前用，到店享服务", "button_text": "去使用", "display_mode": 1,
                    "path": "pages/order/detail"}})
    order_id: str
    out_order_no: str
    status: str
    delivery_type: int
    merchant_name: str
    goods_name: str
    labels: dict[str, list[str]] = Field(description="the label texts by language (zh-CN, en)")
    vouchers: list[Voucher]
    toolkit: ToolkitDisplay | None = Field(default=None, description="null: the app set no toolkit display")


