"""The answers of the buyer API's app, goods, order, pay and marketing routes (api/buyer.py,
api/buyer_marketing.py), as documented in /openapi.json (kernel/answers.py). Money in fen, times in epoch ms."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from paybutton.goods.api_models import GoodsLabel
from paybutton.kernel.answers import example

ORDER_ID = "ot2612070247519296326435"
ITEM = {"item_order_id": "it2612070247517893350858", "price": 9900, "status": 1, "refunded_amount": 0}
ORDER_EXAMPLE: dict[str, Any] = {
    "order_id": ORDER_ID, "out_order_no": "M" + ORDER_ID, "status": "INIT", "pre_order_status": "OK",
    "goods_id": "spu_1001", "goods_type": 1, "goods": {
        "name": "双人下午茶套餐", "photo_url": "", "labels": [{"type": "REFUND_ANYTIME"}], "label_texts": ["随时退"],
        "date_rule": "周一至周日可用"},
    "quantity": 2, "unit_price": 9900, "total_amount": 19800, "discount_amount": 0, "payable": 19800,
    "price_calculation_detail": None, "pay_expire_at": 1796611971668, "created_at": 1796611671668,
    "paid_at": None, "pay_channel": None, "message": None,
    "item_orders": [ITEM, {**ITEM, "item_order_id": "it2612070247516422042788"}], "merchant_name": "示例商户"}


class AppInfo(BaseModel):
    """The merchant's public face."""

    model_config = example({"app_id": "tt07e3715e98c9aac0", "name": "示例商户", "channels": ["douyin", "wechat"],
                            "can_pay": True, "sandbox": True, "allowed_origins": ["https://shop.example"],
                            "login_url": "https://shop.example/login"})
    app_id: str
    name: str
    channels: list[str] = Field(description="the payment channels this app takes: douyin, wechat, alipay, bankcard")
    can_pay: bool = Field(description="a channel is set up and the app is not suspended")
    sandbox: bool = Field(description="this server pays through the sandbox cashier")
    allowed_origins: list[str]
    login_url: str | None


class PhoneRule(BaseModel):
    required: bool


class Validation(BaseModel):
    phoneNumber: PhoneRule


class PublicGoods(BaseModel):
    """A library good in the seed's getgoodsinfo names, with its stock, sale window and state."""

    model_config = example({
        "goodsId": "spu_1001", "goodsType": 1, "goodsName": "双人下午茶套餐", "goodsPhoto": "", "currentPrice": 9900,
        "goodsLabels": [{"type": "REFUND_ANYTIME"}], "minLimits": 1, "maxLimits": 99999, "dateRule": "周一至周日可用",
        "validation": {"phoneNumber": {"required": False}}, "stock": 60, "saleStart": None, "saleEnd": None,
        "state": "on_sale", "bizLine": 1})
    goodsId: str
    goodsType: Literal[1]
    goodsName: str
    goodsPhoto: str
    currentPrice: int = Field(description="fen")
    goodsLabels: list[GoodsLabel]
    minLimits: int
    maxLimits: int
    dateRule: str
    validation: Validation
    stock: int
    saleStart: int | None
    saleEnd: int | None
    state: str = Field(description="off_shelf, upcoming, on_sale, ended or sold_out")
    bizLine: int


class OrderGoods(BaseModel):
    """The good as it was when the order was placed."""

    name: str
    photo_url: str
    labels: list[GoodsLabel]
    label_texts: list[str]
    date_rule: str


class ItemOrder(BaseModel):
    """One unit: 1 unpaid, 2 unused, 3 redeemed, 4 closed, 101 refunding, 102 refunded."""

    item_order_id: str
    price: int
    status: int
    refunded_amount: int


class OrderView(BaseModel):
    """One of the buyer's orders."""

    model_config = example(ORDER_EXAMPLE)
    order_id: str
    out_order_no: str | None = Field(description="the merchant's number (pre_create_order's answer)")
    status: str = Field(description="INIT, PROCESS, SUCCESS, FAIL, CLOSED, …")
    pre_order_status: str | None
    goods_id: str
    goods_type: int = Field(description="1 library goods, 2 merchant goods")
    goods: OrderGoods
    quantity: int
    unit_price: int
    total_amount: int
    discount_amount: int
    payable: int = Field(description="total_amount - discount_amount")
    price_calculation_detail: Any = Field(description="the merchant's marketing detail, or null")
    pay_expire_at: int | None
    created_at: int
    paid_at: int | None
    pay_channel: int | None
    message: str | None
    item_orders: list[ItemOrder]
    merchant_name: str | None = None


class UnpaidOrder(BaseModel):
    """The buyer's newest order of a good that can still be paid (order-confirm's continue-pay offer), or null."""

    model_config = example({"order": ORDER_EXAMPLE})
    order: OrderView | None


class CashierView(BaseModel):
    """The cashier's view of the order it opened (INIT -> PROCESS)."""

    model_config = example({"order": {**ORDER_EXAMPLE, "status": "PROCESS"}, "merchant_name": "示例商户",
                            "amount": 19800, "pay_expire_at": 1796611971668, "now": 1796611671968,
                            "channels": ["douyin", "wechat", "alipay", "bankcard"], "sandbox": True,
                            "scenarios": ["success", "fail", "timeout", "user_closed", "cancel", "open_failed",
                                          "app_missing"]})
    order: OrderView
    merchant_name: str
    amount: int = Field(description="fen to pay")
    pay_expire_at: int | None
    now: int
    channels: list[str]
    sandbox: bool
    scenarios: list[str] = Field(description="sandbox only: the outcomes a tester can pick; [] otherwise")


class PayAction(BaseModel):
    """What the buyer does at the channel: scan `url` as a QR, open it, or (`jsapi`, inside WeChat) hand `params`
    to WeixinJSBridge.invoke('getBrandWCPayRequest', params, ...)."""

    kind: Literal["qr", "redirect", "jsapi"]
    url: str
    params: dict[str, str] | None = Field(
        default=None, description="jsapi: appId, timeStamp, nonceStr, package (prepay_id=...), signType RSA, paySign")


class PayResult(BaseModel):
    """The seed's `pay` detail: `code` once the attempt ended, or `pending` with the channel's action."""

    orderId: str
    code: int | None = Field(default=None, description="0 paid; the seed's pay codes otherwise")
    errMsg: str | None = None
    pending: bool | None = None
    action: PayAction | None = None
    paymentId: str | None = None


class PayAnswer(BaseModel):
    """A payment attempt as it stands (an attempt still being confirmed answers PAYMENT_PENDING instead)."""

    model_config = example({"status": "success", "orderId": ORDER_ID, "outOrderNo": "M" + ORDER_ID,
                            "outcome": "SUCCESS", "late": False, "result": {"code": 0, "orderId": ORDER_ID}})
    status: Literal["success"]
    orderId: str
    outOrderNo: str | None
    outcome: str | None = Field(description="SUCCESS, FAIL, TIMEOUT, USER_CLOSED, CANCEL, …")
    late: bool = Field(description="paid after the order ended: the payment is refunded")
    paymentId: str | None = Field(default=None, description="when this pay joined an earlier pay's attempt")
    errNo: int | None = Field(default=None, description="the seed's errNo of a failed outcome")
    errMsg: str | None = None
    channelUnavailable: str | None = Field(default=None, description="the channel that could not be reached (no "
                                           "connection was made, nothing was charged): the buyer picks another")
    result: PayResult


class Offer(BaseModel):
    """One of the merchant's offers for this buyer."""

    id: str
    type: int = Field(description="1 merchant coupon, 2 merchant promotion, 3/4 platform ones")
    subtype: int
    title: str
    note: str
    range: Literal["goods", "order"]
    usable: bool
    selected: bool
    discount_amount: int


class Applied(BaseModel):
    """An offer in the pricing."""

    id: str
    type: int
    range: Literal["goods", "order"]
    discount_amount: int


class Quote(BaseModel):
    """The order-confirm page's marketing block: a merchant answer that is late or wrong gives available false,
    a reason and the full price."""

    model_config = example({"version": 1, "available": True, "reason": None, "message": "", "offers": [
        {"id": "c1", "type": 1, "subtype": 0, "title": "满50减10", "note": "", "range": "order", "usable": True,
         "selected": True, "discount_amount": 1000}], "selected": [
        {"id": "c1", "type": 1, "range": "order", "discount_amount": 1000}], "quantity": 1, "unit_price": 9900,
        "total_amount": 9900, "discount_amount": 1000, "payable": 8900, "price_calculation_detail": None})
    version: int
    available: bool
    reason: str | None = Field(description="why the offers are not available (malformed, timeout, …)")
    message: str
    offers: list[Offer]
    selected: list[Applied]
    quantity: int
    unit_price: int
    total_amount: int
    discount_amount: int
    payable: int
    price_calculation_detail: Any = Field(description="the merchant's calculation detail, sent with the order")
