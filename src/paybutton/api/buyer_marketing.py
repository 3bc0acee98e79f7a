"""The order-confirm page's marketing block (`marketing-ready`): the offers the merchant has for this buyer with
the default pricing, and re-pricing a choice. Both ask the merchant's marketing extension points (signed, with
the pre-order time budget); a merchant answer that is late, failed, malformed or inconsistent gives HTTP 200 with
`available: false`, a `reason` and the full price, never an error that would block the sale."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, WithJsonSchema

from paybutton.api.models_buyer import Quote
from paybutton.context import Ctx, CtxDep
from paybutton.goods.rules import MAX_UNIT_PRICE
from paybutton.inputs import NAME_PATTERN
from paybutton.kernel.answers import answer
from paybutton.kernel.auth import Buyer, BuyerDep
from paybutton.marketing import service as marketing
from paybutton.marketing.rules import MAX_SELECTED, Choice
from paybutton.order import placing as orders

router = APIRouter(prefix="/api/buyer/v1", tags=["buyer"])

# The merchant goods object bind:getgoodsinfo resolves (seed guide), as documented in /openapi.json; a breach
# answers 21512 (types, limits) or 21511 (labels), which also covers the rules across fields (min <= max, the
# label exclusions) that the schema does not state.
GOODS_INFO_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["currentPrice", "goodsName", "goodsPhoto"],
    "properties": {
        "currentPrice": {"type": "integer", "minimum": 0, "maximum": MAX_UNIT_PRICE, "description": "fen"},
        "goodsName": {"type": "string", "minLength": 1, "maxLength": 256, "pattern": NAME_PATTERN},
        "goodsPhoto": {"type": "string"},
        "dateRule": {"type": "string", "maxLength": 256, "pattern": NAME_PATTERN},
        "minLimits": {"type": ["integer", "null"], "minimum": 1, "maximum": 1, "description": "null: 1"},
        "maxLimits": {"type": ["integer", "null"], "minimum": 1, "maximum": 99999, "description": "null: the default"},
        "goodsLabels": {"type": ["array", "null"], "maxItems": 0, "description": "GoodsLabel[] (see goods/create)"},
        "validation": {"type": "object", "properties": {"phoneNumber": {"type": "object", "properties": {
            "required": {"type": "boolean"}}, "additionalProperties": {"$ref": "#/components/schemas/CleanJson"}}},
            "additionalProperties": {"$ref": "#/components/schemas/CleanJson"}},
    },
    "additionalProperties": {"$ref": "#/components/schemas/CleanJson"},
}
GoodsInfo = Annotated[dict[str, Any] | None, WithJsonSchema({"anyOf": [GOODS_INFO_SCHEMA, {"type": "null"}]})]

# Merchant goods (goods_type 2) come with the object bind:getgoodsinfo resolved (documented in the schema).
MERCHANT_GOODS_NEED_INFO: dict[str, Any] = {
    "if": {"properties": {"goods_type": {"const": 2}}},
    "then": {"required": ["goods_info"], "properties": {"goods_info": {"type": "object"}}},
}


class ChoiceBody(BaseModel):
    """One offer the buyer picked, as the offers list gave it."""

    model_config = ConfigDict(extra="ignore")
    id: StrictStr = Field(min_length=1, max_length=64)
    type: StrictInt = Field(ge=1, le=4, description="1 merchant coupon, 2 merchant promotion, 3/4 platform ones")
    range: Literal["goods", "order"] = Field(description="goods-level or order-level offer")


def choices_of(selected: list[ChoiceBody] | None) -> list[Choice] | None:
    return None if selected is None else [Choice(c.id, c.type, c.range) for c in selected]


class MarketingBody(BaseModel):
    """An order's marketing choice: what the buyer picked and the payable the page showed. The server re-asks the
    merchant; a payable other than `expected_payable` refuses the order (ORDER_DATA_INVALID with
    detail.reason MARKETING_PRICE_CHANGED or MARKETING_UNAVAILABLE and detail.quote, the server's price)."""

    model_config = ConfigDict(extra="ignore")
    version: StrictInt = Field(default=1, ge=1, le=2, description="marketingVersion from getgoodsinfo")
    selected: list[ChoiceBody] = Field(default_factory=list, max_length=MAX_SELECTED)
    expected_payable: StrictInt | None = Field(default=None, ge=0, description="fen, as shown to the buyer")


class QuoteBody(BaseModel):
    model_config = ConfigDict(extra="ignore", json_schema_extra={
        **MERCHANT_GOODS_NEED_INFO, "examples": [{"goods_id": "spu_1001", "goods_type": 1, "quantity": 1}]})
    goods_id: StrictStr = Field(min_length=1, max_length=64)
    goods_type: Annotated[StrictInt, WithJsonSchema({"type": "integer", "enum": [1, 2]})] = Field(
        description="1 library goods, 2 merchant goods")
    quantity: StrictInt = Field(default=1, ge=1, le=99999)
    version: StrictInt = Field(default=1, ge=1, le=2, description="marketingVersion from getgoodsinfo (default 1)")
    selected: list[ChoiceBody] | None = Field(
        default=None, max_length=MAX_SELECTED,
        description="offers: null = the default choice, a list = keep this choice where still usable")
    goods_info: GoodsInfo = Field(
        default=None, description="merchant goods: the object the page's bind:getgoodsinfo resolved")


class PriceBody(QuoteBody):
    model_config = ConfigDict(extra="ignore", json_schema_extra={**MERCHANT_GOODS_NEED_INFO, "examples": [
        {"goods_id": "spu_1001", "goods_type": 1, "quantity": 1,
         "selected": [{"id": "c1", "type": 1, "range": "order"}]}]})
    selected: list[ChoiceBody] | None = Field(default_factory=list, max_length=MAX_SELECTED,
                                              description="the offers to price ([] = none)")


async def _quote(ctx: Ctx, buyer: Buyer, body: QuoteBody, with_offers: bool) -> dict[str, Any]:
    app = await ctx.app(buyer.app_id)
    line = await orders.marketing_line(ctx, buyer.app_id, body.goods_id, body.goods_type, body.quantity,
                                       body.goods_info)
    got = await marketing.quote(ctx, app, buyer.open_id, line, body.version, choices_of(body.selected),
                                with_offers=with_offers)
    return got.view()


@router.post("/marketing/offers", summary="Marketing offers and the default pricing for the order-confirm page",
             **answer(Quote))
async def offers(body: QuoteBody, buyer: BuyerDep, ctx: CtxDep) -> dict[str, Any]:
    """Version 1: query_marketing_info, then calculate_price for the default (the first usable offer) or the given
    choice. Version 2: query_and_calculate (need_default_marketing when `selected` is null)."""
    return await _quote(ctx, buyer, body, with_offers=True)


@router.post("/marketing/price", summary="Re-price the buyer's choice of offers", **answer(Quote))
async def price(body: PriceBody, buyer: BuyerDep, ctx: CtxDep) -> dict[str, Any]:
    """Version 1: calculate_price (offers are not listed again). Version 2: query_and_calculate with the choice."""
    if body.selected is None:
        body.selected = []
    return await _quote(ctx, buyer, body, with_offers=False)
