"""The answers of the reservation routes (booking/api.py), as documented in /openapi.json; shapes from Douyin's
创建预约单 and 查询预约单信息 examples (create-book-order, query-book), our additions marked."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from paybutton.kernel.answers import OpenApiData, data_example

BOOK_ID = "bk2612070247559031846213"
ORDER_ID = "ot2612070247554711016046"
ITEM_ID = "it2612070247555847516474"
USER_INFO: dict[str, Any] = {"name": "张三", "phone": "13800000000", "id_card_no": ""}
BOOK_EXAMPLE: dict[str, Any] = {
    "book_id": BOOK_ID, "order_id": ORDER_ID, "out_book_no": "B20261207001", "open_id": "buyer-1",
    "status": "SUCCESS", "book_date": "2026-12-09", "cancel_policy": 3, "cancel_advance_hour": 24, "reason": "",
    "cancelled_by": "", "create_time": 1796611680123, "update_time": 1796611690123,
    "book_child_info_list": [{
        "item_order_id": ITEM_ID, "goods_id": "hotpot", "poi_id": "7000000001", "shop_name": "火锅 · 国贸店",
        "ext_shop_id": "s1", "book_start_time": 1796788800000, "book_end_time": 1796796000000,
        "user_info_list": [USER_INFO]}]}


class CreateBookData(OpenApiData):
    """create_book: the booking's id (Douyin's answer), and ours: its out_book_no and status (BOOKING)."""

    model_config = data_example({"book_id": BOOK_ID, "out_book_no": "B20261207001", "status": "BOOKING"})
    book_id: str
    out_book_no: str
    status: str = Field(description="BOOKING until book_result_callback (an out_book_no sent again: its status)")


class BookChild(BaseModel):
    """One booked unit (book_child_info_list)."""

    item_order_id: str
    goods_id: str
    poi_id: str
    shop_name: str
    ext_shop_id: str
    book_start_time: int = Field(description="epoch ms")
    book_end_time: int = Field(description="epoch ms")
    user_info_list: list[dict[str, Any]]


class BookInfo(BaseModel):
    """A booking (book_info_list)."""

    book_id: str
    order_id: str
    out_book_no: str
    open_id: str
    status: str = Field(description="BOOKING (awaiting the merchant), SUCCESS, FAIL (refused) or CANCEL")
    book_date: str = Field(description="ours: the day booked, YYYY-MM-DD in Beijing time; redeemable only then")
    cancel_policy: int = Field(description="ours: 1 no cancel once confirmed, 2 until the start, 3 until "
                                           "cancel_advance_hour before the start")
    cancel_advance_hour: int
    reason: str = Field(description="ours: the merchant's refusal or the cancel reason")
    cancelled_by: str = Field(description="ours: merchant, user or empty")
    create_time: int
    update_time: int
    book_child_info_list: list[BookChild]


class QueryBookData(OpenApiData):
    """query_book: the bookings of the order (order_id given) or the one booking (book_id)."""

    model_config = data_example({"book_info_list": [BOOK_EXAMPLE]})
    book_info_list: list[BookInfo]


class BookStateData(OpenApiData):
    """book_result_callback, merchant_cancel_book, user_cancel_book: Douyin answers only the codes; we add the
    booking's id and new status."""

    model_config = data_example({"book_id": BOOK_ID, "status": "SUCCESS"})
    book_id: str
    status: str
