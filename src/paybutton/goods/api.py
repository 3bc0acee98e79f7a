"""Goods library routes (ours, in the platform style): /api/apps/trade/v2/goods/..."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, StrictBool, StrictInt, WithJsonSchema

from paybutton.context import CtxDep
from paybutton.goods import rules, service
from paybutton.goods.api_models import GoodsData, GoodsPageData
from paybutton.inputs import MAX_OFFSET
from paybutton.kernel.answers import example, platform_answer
from paybutton.kernel.auth import AppId
from paybutton.kernel.envelope import envelope
from paybutton.kernel.idempotency import idempotent

router = APIRouter(prefix="/api/apps/trade/v2/goods", tags=["goods"])

# Labels and limits are checked by paybutton.goods.rules so that a breach answers with its own code
# (21511 / 21512) and names the rule; the schema below documents their shape.
LABELS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "maxItems": rules.MAX_LABELS,
    "description": (
        "at most 3; REFUND_ANYTIME ⊥ REFUNDABLE_DAYS, RESERVATION_FREE ⊥ BOOK_IN_ADVANCE, NON_REFUNDABLE ⊥ "
        "REFUNDABLE_DAYS and REFUND_ANYTIME; value (days) required for REFUNDABLE_DAYS and BOOK_IN_ADVANCE"
    ),
    "items": {
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {"type": "string", "enum": list(rules.LABEL_TYPES)},
            "value": {"type": "integer", "minimum": 1, "maximum": rules.MAX_LABEL_VALUE},
        },
    },
}
Labels = Annotated[Any, WithJsonSchema(LABELS_SCHEMA)]
Limit = Annotated[
    Any,
    WithJsonSchema({"type": "integer", "minimum": rules.LIMITS_LOW, "maximum": rules.LIMITS_HIGH}),
]
GoodsId = Annotated[str, Field(description="1-64 characters of A-Z a-z 0-9 _ - .", examples=["spu_1001"])]
# The price floor is the goods rule's (rules.MIN_PRICE), so 0 answers with its own message; the schema says it.
Fen = Annotated[StrictInt, Field(description="integer fen (分), at least 1",
                                  json_schema_extra={"minimum": rules.MIN_PRICE})]
EpochMs = Annotated[StrictInt | None, Field(description="epoch milliseconds; null = no bound")]


class GoodsFields(BaseModel):
    """Optional goods fields, shared by create and update."""

    photo_url: str | None = Field(default=None, description="empty, an http(s) URL or a /path")
    sale_start: EpochMs = None
    sale_end: EpochMs = None
    labels: Labels = Field(default=None, description="GoodsLabel[]: [{type, value?}]")
    min_limits: Limit = Field(default=None, description="起购份数, 1..99999, default 1")
    max_limits: Limit = Field(default=None, description="限购份数, 1..99999, default 99999")
    date_rule: str | None = Field(default=None, description="使用规则, ≤ 256 chars, default 周一至周日可用")
    phone_required: StrictBool | None = Field(default=None, description="validation.phoneNumber.required")
    biz_line: StrictInt | None = Field(default=None, description="1 group buying (default), 2 knowledge")
    on_shelf: StrictBool | None = Field(default=None, description="default true")
    valid_days: StrictInt | None = Field(default=None, description="voucher validity in days, 1..3650")


class CreateGoodsRequest(GoodsFields):
    model_config = example({"goods_id": "spu_1001", "name": "双人下午茶套餐", "price": 9900, "stock": 50,
                            "labels": [{"type": "REFUND_ANYTIME"}], "valid_days": 30})
    goods_id: GoodsId
    name: str = Field(description="1-256 characters")
    price: Fen
    stock: Annotated[StrictInt, Field(ge=0)]


class UpdateGoodsRequest(GoodsFields):
    model_config = example({"goods_id": "spu_1001", "stock_delta": 10, "on_shelf": True})
    goods_id: GoodsId
    name: str | None = None
    price: Fen | None = None
    stock: Annotated[StrictInt | None, Field(ge=0, description="set the stock to this value")] = None
    stock_delta: StrictInt | None = Field(
        default=None, description="add this (may be negative) to the stock; refused if it would go below 0"
    )


class QueryGoodsRequest(BaseModel):
    model_config = example({"goods_id": "spu_1001"})
    goods_id: GoodsId


class ListGoodsRequest(BaseModel):
    model_config = example({"limit": 20, "on_shelf": True, "search": "下午茶"})
    limit: Annotated[StrictInt, Field(ge=1, le=service.MAX_PAGE)] = 20
    offset: Annotated[StrictInt, Field(ge=0, le=MAX_OFFSET)] = 0
    cursor: str | None = Field(default=None, description="the previous page's next_cursor (not with offset)")
    on_shelf: StrictBool | None = None
    search: str | None = Field(default=None, description="part of the name")


@router.post("/create", summary="Create a library good (商品库)", **platform_answer(GoodsData))
async def create(body: CreateGoodsRequest, request: Request, ctx: CtxDep, app_id: AppId) -> dict[str, Any]:
    fields = body.model_dump(exclude_none=True)

    async def run(conn: Any) -> dict[str, Any]:
        good = await service.create_goods(conn, ctx.clock, app_id=app_id, **fields)
        return envelope(request, {"goods": good})

    return await idempotent(ctx, request, app_id, "goods/create", body.model_dump(exclude_unset=True), run)


@router.post("/update", summary="Update a library good (partial; null clears or resets a field)",
             **platform_answer(GoodsData))
async def update(body: UpdateGoodsRequest, request: Request, ctx: CtxDep, app_id: AppId) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    goods_id = changes.pop("goods_id")
    stock_delta = changes.pop("stock_delta", None)

    async def run(conn: Any) -> dict[str, Any]:
        good = await service.update_goods(
            conn, ctx.clock, app_id=app_id, goods_id=goods_id, stock_delta=stock_delta, **changes
        )
        return envelope(request, {"goods": good})

    return await idempotent(ctx, request, app_id, "goods/update", body.model_dump(exclude_unset=True), run)


@router.post("/query", summary="Query one library good by goods_id", **platform_answer(GoodsData))
async def query(body: QueryGoodsRequest, request: Request, ctx: CtxDep, app_id: AppId) -> dict[str, Any]:
    async with ctx.db.engine.connect() as conn:
        good = await service.get_goods(conn, ctx.clock, app_id=app_id, goods_id=body.goods_id)
    return envelope(request, {"goods": good})


@router.post("/list", summary="List this app's library goods (paged by offset or cursor)",
             **platform_answer(GoodsPageData))
async def list_(body: ListGoodsRequest, request: Request, ctx: CtxDep, app_id: AppId) -> dict[str, Any]:
    async with ctx.db.engine.connect() as conn:
        page = await service.list_goods(conn, ctx.clock, app_id=app_id, **body.model_dump())
    return envelope(request, page)
