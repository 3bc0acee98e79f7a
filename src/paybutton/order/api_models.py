"""The answers of the platform order routes (order/api.py, reference §16), as documented in /openapi.json."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from paybutton.kernel.answers import OpenApiData, data_example

ORDER_ID = "ot2612070247519296326435"


class EntrySchema(BaseModel):
    """Where the order opens in the merchant's mini-program, as pre_create_order gave it (order/rules.py)."""

    path: str | None = None
    params: Any = Field(default=None, description="as the merchant gave it (often a JSON string)")


class QueryOrderData(OpenApiData):
    """query_order: the order as Douyin's query_order gives it, plus goods_id, quantity and the entry schema."""

    model_config = data_example({
        "order_id": ORDER_ID, "out_order_no": "M" + ORDER_ID, "order_status": "SUCCESS", "total_fee": 19800,
        "total_amount": 19800, "discount_amount": 0, "refund_amount": 0, "settle_amount": 0, "seller_uid": "",
        "pay_channel": 10, "channel_pay_id": "sbxdofcaf5af33e5c3b06665c", "pay_time": "2026-12-07 10:47:52",
        "cp_extra": "", "message": "", "item_id": "", "payment_order_id": "py2612070247529200222665",
        "delivery_type": 1, "goods_id": "spu_1001", "quantity": 2, "order_entry_schema": None})
    order_id: str
    out_order_no: str = Field(description="the merchant's order number; empty until pre_create_order answered")
    order_status: str = Field(description="INIT, PROCESS, SUCCESS, FAIL, CLOSED, …")
    total_fee: int = Field(description="fen paid: total_amount - discount_amount")
    total_amount: int = Field(description="fen")
    discount_amount: int = Field(description="fen")
    refund_amount: int = Field(description="fen refunded so far")
    settle_amount: int
    seller_uid: str
    pay_channel: int | None = Field(description="1 WeChat, 2 Alipay, 10 Douyin pay, …; null before payment")
    channel_pay_id: str
    pay_time: str = Field(description="yyyy-MM-dd HH:mm:ss, Beijing time; empty when unpaid")
    cp_extra: str
    message: str
    item_id: str
    payment_order_id: str
    delivery_type: int = Field(description="0 the merchant's codes (三方码), 1 Douyin codes")
    goods_id: str
    quantity: int
    order_entry_schema: EntrySchema | None = Field(description="{path, params} the merchant gave, or null")


class ItemOrderInfo(BaseModel):
    """One unit of an order."""

    item_order_id: str
    item_order_status: int = Field(description="1 unpaid, 2 unused, 3 redeemed, 4 closed, 101 refunding, 102 refunded")
    price: int = Field(description="fen")
    refund_amount: int = Field(description="fen refunded from this unit")
    valid_start_time: int = Field(description="epoch ms (the payment's time; 0 when unpaid)")
    valid_end_time: int
    delivery_time: int


class ItemOrderInfoData(OpenApiData):
    """query_item_order_info: the order's item orders, or the ones asked for."""

    model_config = data_example({"order_id": ORDER_ID, "item_list": [{
        "item_order_id": "it2612070247517893350858", "item_order_status": 2, "price": 9900, "refund_amount": 0,
        "valid_start_time": 1796611672074, "valid_end_time": 0, "delivery_time": 0}]})
    order_id: str
    item_list: list[ItemOrderInfo]


class CloseOrderData(OpenApiData):
    """close_order: the order closed (its stock returned)."""

    model_config = data_example({"order_id": ORDER_ID})
    order_id: str
