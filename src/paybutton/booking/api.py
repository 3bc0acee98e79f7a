"""Platform OpenAPI reservation routes, /api/apps/trade/v2/book/…: create_book, book_result_callback,
merchant_cancel_book, user_cancel_book, query_book (paths as the PyPI `bytedance` SDK's contracts and Douyin's
self-operated-trading/book pages give them, with or without the trailing slash)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.booking import service
from paybutton.booking.api_models import BOOK_ID, ORDER_ID, USER_INFO, BookStateData, CreateBookData, QueryBookData
from paybutton.context import CtxDep
from paybutton.kernel.answers import example, platform_answer
from paybutton.kernel.auth import AppId
from paybutton.kernel.envelope import envelope
from paybutton.kernel.idempotency import idempotent

router = APIRouter(prefix="/api/apps/trade/v2/book", tags=["reservations"])

Ms = Annotated[StrictInt, Field(ge=0, le=2**53, description="epoch ms (13 digits)")]
BookId = Annotated[StrictStr, Field(min_length=1, max_length=64, description="len(book_id) <= 64 byte")]
Short = Annotated[StrictStr, Field(max_length=128)]


class UserInfo(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: Short | None = None
    phone: Short | None = None
    id_card_no: Short | None = None


class ItemBookInfo(BaseModel):
    model_config = ConfigDict(extra="ignore")
    poi_id: Short
    shop_name: Short
    ext_shop_id: Short
    goods_id: Annotated[StrictStr, Field(max_length=64)]
    book_start_time: Ms
    book_end_time: Ms
    user_info_list: list[UserInfo] | None = Field(default=None, max_length=20)
    book_sku_info: dict[str, Any] | None = Field(default=None, description="accepted, not priced (no markup)")
    item_order_id: Annotated[StrictStr, Field(max_length=32)] | None = Field(
        default=None, description="the unit to book; absent: the next unbooked unit of the order")


class CreateBookBody(BaseModel):
    model_config = example({"order_id": ORDER_ID, "out_book_no": "B20261207001", "open_id": "buyer-1",
                            "item_book_info_list": [{
                                "poi_id": "7000000001", "shop_name": "火锅 · 国贸店", "ext_shop_id": "s1",
                                "goods_id": "hotpot", "book_start_time": 1796788800000,
                                "book_end_time": 1796796000000, "user_info_list": [USER_INFO]}]}, extra="ignore")
    order_id: Annotated[StrictStr, Field(max_length=32)]
    out_book_no: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    open_id: Annotated[StrictStr, Field(max_length=128)]
    item_book_info_list: list[ItemBookInfo] = Field(min_length=1, max_length=100)
    markup_info: dict[str, Any] | None = Field(default=None, description="accepted; no markup order is made")


class ResultBody(BaseModel):
    model_config = example({"book_id": BOOK_ID, "result": 1, "msg": ""}, extra="ignore")
    book_id: BookId
    result: Literal[1, 2] = Field(description="1 the merchant accepts the booking (SUCCESS), 2 refuses it (FAIL)")
    msg: Annotated[StrictStr, Field(max_length=256)] | None = None
    accept_type: StrictInt | None = Field(default=None, description="accepted and ignored")


class MerchantCancelBody(BaseModel):
    model_config = example({"book_id": BOOK_ID, "cancel_reason": "门店临时歇业"}, extra="ignore")
    book_id: BookId
    cancel_reason: Annotated[StrictStr, Field(max_length=256)]


class UserCancelBody(BaseModel):
    model_config = example({"book_id": BOOK_ID, "open_id": "buyer-1", "cancel_reason": ["行程有变"]},
                           extra="ignore")
    book_id: BookId
    open_id: Annotated[StrictStr, Field(max_length=128)]
    cancel_reason: list[Annotated[StrictStr, Field(max_length=256)]] = Field(max_length=20)


class QueryBookBody(BaseModel):
    model_config = example({"order_id": ORDER_ID}, extra="ignore")
    book_id: BookId | None = None
    order_id: Annotated[StrictStr, Field(max_length=32)] | None = Field(
        default=None, description="every booking of the order (wins over book_id)")


def _item(i: ItemBookInfo) -> service.BookItem:
    return service.BookItem(goods_id=i.goods_id, book_start_time=i.book_start_time, book_end_time=i.book_end_time,
                            poi_id=i.poi_id, shop_name=i.shop_name, ext_shop_id=i.ext_shop_id,
                            item_order_id=i.item_order_id,
                            user_info_list=[u.model_dump(exclude_none=True) for u in i.user_info_list or []])


@router.post("/create_book", summary="Book paid units of a BOOK_IN_ADVANCE good for a day (BOOKING)",
             **platform_answer(CreateBookData))
async def create_book(body: CreateBookBody, request: Request, app_id: AppId, ctx: CtxDep) -> dict[str, Any]:
    async def run(conn: AsyncConnection) -> dict[str, Any]:
        return await service.create(conn, ctx.clock, app_id, order_id=body.order_id, out_book_no=body.out_book_no,
                                    open_id=body.open_id, items=[_item(i) for i in body.item_book_info_list])

    return envelope(request, await idempotent(ctx, request, app_id, "book/create_book", body.model_dump(), run))


@router.post("/book_result_callback", summary="The merchant accepts (1) or refuses (2) a BOOKING booking",
             **platform_answer(BookStateData))
async def book_result_callback(body: ResultBody, request: Request, app_id: AppId, ctx: CtxDep) -> dict[str, Any]:
    async def run(conn: AsyncConnection) -> dict[str, Any]:
        return await service.result(conn, ctx.clock, app_id, book_id=body.book_id, success=body.result == 1,
                                    reason=body.msg or "")

    return envelope(request, await idempotent(ctx, request, app_id, "book/book_result_callback",
                                              body.model_dump(), run))


@router.post("/merchant_cancel_book", summary="The merchant cancels a booking (its units can be booked again)",
             **platform_answer(BookStateData))
async def merchant_cancel_book(body: MerchantCancelBody, request: Request, app_id: AppId, ctx: CtxDep
                               ) -> dict[str, Any]:
    async def run(conn: AsyncConnection) -> dict[str, Any]:
        return await service.cancel(conn, ctx.clock, app_id, book_id=body.book_id, by="merchant",
                                    reason=body.cancel_reason)

    return envelope(request, await idempotent(ctx, request, app_id, "book/merchant_cancel_book",
                                              body.model_dump(), run))


@router.post("/user_cancel_book", summary="Cancel a booking for the buyer, as its cancel policy allows",
             **platform_answer(BookStateData))
async def user_cancel_book(body: UserCancelBody, request: Request, app_id: AppId, ctx: CtxDep) -> dict[str, Any]:
    async def run(conn: AsyncConnection) -> dict[str, Any]:
        return await service.cancel(conn, ctx.clock, app_id, book_id=body.book_id, by="user",
                                    reason=";".join(body.cancel_reason), open_id=body.open_id)

    return envelope(request, await idempotent(ctx, request, app_id, "book/user_cancel_book",
                                              body.model_dump(), run))


@router.post("/query_book", summary="The bookings of an order, or one booking", **platform_answer(QueryBookData))
async def query_book(body: QueryBookBody, request: Request, app_id: AppId, ctx: CtxDep) -> dict[str, Any]:
    async with ctx.db.engine.connect() as conn:
        books = await service.query(conn, app_id, book_id=body.book_id, order_id=body.order_id)
    return envelope(request, {"book_info_list": books})
