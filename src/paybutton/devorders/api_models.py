"""The request bodies and documented answers of order/create_order, order/query_cps and
marketing/query_and_calculate (devorders/api.py).

Fields after Douyin's 开发者发起下单 page
(https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/locallife/general-ability/agency-trade-system/pre-order/create-order,
"请求参数" / "响应参数"), as the SKIT.FlurlHttpClient.ByteDance SDK models them (AppsTradeOrderCreateOrderV2Request /
Response); query_cps after its 查询 CPS 信息 page
(https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/locallife/general-ability/self-operated-trading/query-info/query-cps)
and the same SDK's sample answer. docs/openapi.md says how sure each field is."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from paybutton.goods.rules import MAX_UNIT_PRICE
from paybutton.kernel.answers import OpenApiData, data_example, example
from paybutton.order.rules import MAX_PAY_EXPIRE_SECONDS, MAX_QUANTITY

ORDER_ID = "ot2612070247519296326435"
ITEM_ID = "it2612070247517893350858"
Json = dict[str, Any]


class PageSchema(BaseModel):
    """A mini-program page: its path and its params (a JSON string, as Douyin's samples give it)."""

    model_config = ConfigDict(extra="ignore")
    path: StrictStr = Field(min_length=1, max_length=512)
    params: StrictStr | None = Field(default=None, max_length=2048)


class ValidTime(BaseModel):
    model_config = ConfigDict(extra="ignore")
    valid_start_time: StrictInt | None = Field(default=None, ge=0, description="epoch ms")
    valid_end_time: StrictInt | None = Field(default=None, ge=0, description="epoch ms")
    valid_duration: StrictInt | None = Field(default=None, ge=0, description="ms")


class BookInfo(BaseModel):
    model_config = ConfigDict(extra="ignore")
    book_type: StrictInt = Field(ge=1, le=2, description="1 book after paying, 2 book before (Douyin's enum)")
    cancel_policy: StrictInt | None = Field(default=None, ge=1, le=3)
    cancel_advance_hour: StrictInt | None = Field(default=None, ge=0, le=8760)


class DevGoods(BaseModel):
    """One goods line of create_order. goods_id_type 1: a good of the app's goods library (its price and stock are
    ours); 2: a good the developer describes here (title, image, price), without stock."""

    model_config = ConfigDict(extra="ignore")
    goods_id: StrictStr = Field(min_length=1, max_length=64)
    goods_id_type: StrictInt = Field(ge=1, le=2, description="1 library goods, 2 the developer's goods")
    goods_title: StrictStr | None = Field(default=None, max_length=256)
    goods_image: StrictStr | None = Field(default=None, max_length=512)
    labels: StrictStr | list[StrictStr] | None = Field(default=None, description="display labels (≤ 3)")
    date_rule: StrictStr | None = Field(default=None, max_length=256)
    price: StrictInt = Field(ge=1, le=MAX_UNIT_PRICE, description="unit price, fen")
    discount_amount: StrictInt = Field(default=0, ge=0, le=MAX_UNIT_PRICE, description="this line's discount, fen")
    quantity: StrictInt = Field(ge=1, le=MAX_QUANTITY)
    merchant_uid: StrictStr | None = Field(default=None, max_length=64)
    goods_page: PageSchema | None = None
    order_valid_time: ValidTime | None = None
    goods_book_info: BookInfo | None = None


class CreateOrderBody(BaseModel):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [{
        "out_order_no": "M20261207001", "open_id": "buyer-open-id", "total_amount": 16800, "discount_amount": 0,
        "goods_list": [{"goods_id": "spu_1001", "goods_id_type": 1, "price": 16800, "quantity": 1}],
        "pay_expire_seconds": 600, "order_entry_schema": {"path": "pages/order/detail", "params": "{\"id\":1}"}}]})
    out_order_no: StrictStr = Field(min_length=1, max_length=64)
    open_id: StrictStr = Field(min_length=1, max_length=128)
    total_amount: StrictInt = Field(ge=1, description="fen: the sum of price × quantity over goods_list")
    discount_amount: StrictInt = Field(default=0, ge=0, description="fen: the whole order's discount")
    goods_list: list[DevGoods] = Field(min_length=1, max_length=50)
    pay_expire_seconds: StrictInt | None = Field(default=None, ge=1, le=MAX_PAY_EXPIRE_SECONDS)
    pay_notify_url: StrictStr | None = Field(default=None, max_length=512)
    extra: StrictStr | None = Field(default=None, max_length=2048)
    cp_extra: StrictStr | None = Field(default=None, max_length=2048)
    contact_name: StrictStr | None = Field(default=None, max_length=64)
    phone_num: StrictStr | None = Field(default=None, max_length=20)
    order_entry_schema: PageSchema | None = None
    price_calculation_detail: Json | None = Field(default=None, description="as a marketing calculation gives it")


class ItemOrderDetail(BaseModel):
    item_order_id: str
    price: int = Field(description="fen: this unit's payable")


class ItemOrderInfo(BaseModel):
    goods_id: str
    item_order_id_list: list[str]
    item_order_detail: list[ItemOrderDetail]


class CreateOrderData(OpenApiData):
    """create_order: the order and its item orders (one per unit). The buyer pays it with
    `<pay-button mode="1" order-status="0" order-id="<order_id or out_order_no>">` or tt.pay."""

    model_config = data_example({
        "order_id": ORDER_ID, "out_order_no": "M20261207001", "pay_order_id": ORDER_ID, "pay_order_token": "",
        "item_order_info_list": [{"goods_id": "spu_1001", "item_order_id_list": [ITEM_ID],
                                  "item_order_detail": [{"item_order_id": ITEM_ID, "price": 16800}]}]})
    order_id: str
    out_order_no: str
    pay_order_id: str = Field(description="the id the pay-button and tt.pay take (the order id here)")
    pay_order_token: str = Field(description="empty: paybutton's cashier needs no token")
    item_order_info_list: list[ItemOrderInfo]


class QueryCpsBody(BaseModel):
    model_config = example({"order_id": ORDER_ID}, extra="ignore")
    order_id: StrictStr | None = Field(default=None, max_length=32)
    out_order_no: StrictStr | None = Field(default=None, max_length=64)


class CpsItem(BaseModel):
    item_order_id: str
    sell_amount: int
    source_type: int
    status: int
    commission_amount: int
    commission_rate: int = Field(description="1/10000")
    commission_user_douyinid: str
    commission_user_nickname: str
    task_id: str
    item_id: str


class RefundItem(BaseModel):
    item_order_id: str
    out_refund_no: str
    refund_amount: int
    refund_status: str
    refund_at: int | None


class DeliveryItem(BaseModel):
    item_order_id: str
    delivery_amount: int
    delivery_status: str
    delivery_at: int | None


class PaymentInfo(BaseModel):
    order_status: str
    total_fee: int
    seller_uid: str
    pay_channel: int | None
    channel_pay_id: str
    pay_time: str
    cp_extra: str
    message: str


class CpsInfo(BaseModel):
    total_commission_amount: int
    cps_item_list: list[CpsItem]


class RefundInfo(BaseModel):
    total_refund_amount: int
    refund_items: list[RefundItem]


class DeliveryInfo(BaseModel):
    total_delivery_amount: int
    delivery_items: list[DeliveryItem]


class QueryCpsData(OpenApiData):
    """query_cps: the order's payment, its creator commission records (none unless the order carries them), its
    refunds and its redemptions."""

    model_config = data_example({
        "order_id": ORDER_ID, "out_order_no": "M20261207001",
        "payment_info": {"order_status": "SUCCESS", "total_fee": 16800, "seller_uid": "", "pay_channel": 10,
                         "channel_pay_id": "sbxdofcaf5af33e5c3b06665c", "pay_time": "2026-12-07 10:47:52",
                         "cp_extra": "", "message": ""},
        "cps_info": {"total_commission_amount": 0, "cps_item_list": []},
        "refund_info": {"total_refund_amount": 0, "refund_items": []},
        "delivery_info": {"total_delivery_amount": 0, "delivery_items": []}})
    order_id: str
    out_order_no: str
    payment_info: PaymentInfo
    cps_info: CpsInfo
    refund_info: RefundInfo
    delivery_info: DeliveryInfo


class SelectedMarketing(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: StrictStr = Field(min_length=1, max_length=64)
    type: StrictInt = Field(ge=1, le=4)


class MarketingGoods(BaseModel):
    model_config = ConfigDict(extra="ignore")
    goods_id: StrictStr = Field(min_length=1, max_length=64)
    goods_id_type: StrictInt = Field(default=1, ge=1, le=2, description="1 library goods, 2 the developer's")
    quantity: StrictInt = Field(default=1, ge=1, le=MAX_QUANTITY)
    price: StrictInt | None = Field(default=None, ge=0, le=MAX_UNIT_PRICE,
                                    description="fen; required for goods_id_type 2 (a library good has its own)")
    selected_marketing: list[SelectedMarketing] = Field(default_factory=list, max_length=10)


class OrderMarketing(BaseModel):
    model_config = ConfigDict(extra="ignore")
    selected_marketing: list[SelectedMarketing] = Field(default_factory=list, max_length=10)


class QueryAndCalculateBody(BaseModel):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [{
        "open_id": "buyer-open-id", "need_default_marketing": True,
        "goods_marketing_info": [{"goods_id": "spu_1001", "goods_id_type": 1, "quantity": 1}]}]})
    open_id: StrictStr = Field(min_length=1, max_length=128)
    need_default_marketing: StrictBool = Field(
        default=False, description="true: the merchant's default offers (the order-confirm page's first load)")
    marketing_version: StrictInt = Field(default=2, ge=1, le=2, description="1: query_marketing_info + "
                                         "calculate_price; 2: query_and_calculate (the default)")
    goods_marketing_info: list[MarketingGoods] = Field(min_length=1, max_length=1)
    order_marketing_info: OrderMarketing | None = None


class QueryAndCalculateData(OpenApiData):
    """The basket priced as the order-confirm page prices it (api/buyer_marketing.py): the same quote."""

    model_config = data_example({
        "version": 2, "available": True, "reason": None, "message": "", "offers": [], "selected": [],
        "quantity": 1, "unit_price": 16800, "total_amount": 16800, "discount_amount": 0, "payable": 16800,
        "price_calculation_detail": None})
    version: int
    available: bool = Field(description="false: the merchant's extension failed (see reason); the full price")
    reason: str | None
    message: str
    offers: list[Json]
    selected: list[Json]
    quantity: int
    unit_price: int
    total_amount: int
    discount_amount: int
    payable: int
    price_calculation_detail: Json | None
