"""The developer's order routes of issue 22, on Douyin's paths: order/create_order, order/query_cps
(/api/apps/trade/v2/order/...) and marketing/query_and_calculate (/api/trade/v2/marketing/..., without /apps/, as
the PyPI `bytedance` SDK's contract gives it). The {data, extra} envelope; docs/openapi.md has every field."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from paybutton.context import CtxDep
from paybutton.devorders import cps, creating
from paybutton.devorders.api_models import (
    CreateOrderBody,
    CreateOrderData,
    QueryAndCalculateBody,
    QueryAndCalculateData,
    QueryCpsBody,
    QueryCpsData,
)
from paybutton.errors import TradeError
from paybutton.kernel.answers import platform_answer
from paybutton.kernel.auth import AppId
from paybutton.kernel.envelope import envelope
from paybutton.marketing import service as marketing
from paybutton.marketing.rules import GOODS, ORDER, Choice, Line
from paybutton.order.placing import marketing_line
from paybutton.order.states import GoodsType

router = APIRouter(prefix="/api/apps/trade/v2/order", tags=["order"])
marketing_router = APIRouter(prefix="/api/trade/v2/marketing", tags=["marketing"])


@router.post("/create_order", summary="The developer's server creates an order (paid with the pay-button, mode 1)",
             **platform_answer(CreateOrderData))
async def create_order(body: CreateOrderBody, request: Request, app_id: AppId, ctx: CtxDep) -> dict[str, Any]:
    return envelope(request, await creating.create_order(ctx, app_id, body))


@router.post("/query_cps", summary="An order's creator commission (CPS), refunds and redemptions",
             **platform_answer(QueryCpsData))
async def query_cps(body: QueryCpsBody, request: Request, app_id: AppId, ctx: CtxDep) -> dict[str, Any]:
    return envelope(request, await cps.query_cps(ctx, app_id, body.order_id, body.out_order_no))


@marketing_router.post("/query_and_calculate", summary="Price a basket with the app's marketing extension, as "
                       "the order-confirm page does", **platform_answer(QueryAndCalculateData))
async def query_and_calculate(body: QueryAndCalculateBody, request: Request, app_id: AppId,
                              ctx: CtxDep) -> dict[str, Any]:
    """The same quote as the order-confirm page's marketing block (api/buyer_marketing.py, marketing/service.py):
    need_default_marketing true is its first load (the merchant's default offers), otherwise the offers selected
    under goods_marketing_info (goods-level) and order_marketing_info (order-level) are priced."""
    app = await ctx.app(app_id)
    g = body.goods_marketing_info[0]
    if g.goods_id_type == GoodsType.LIBRARY:
        line = await marketing_line(ctx, app_id, g.goods_id, int(GoodsType.LIBRARY), g.quantity, None)
    elif g.price is None:
        raise TradeError("GOODS_INFO_TYPE_INVALID", "price is required for goods_id_type 2")
    else:
        line = Line(g.goods_id, int(GoodsType.MERCHANT), g.quantity, g.price)
    choices: list[Choice] | None = None
    if not body.need_default_marketing:
        order_level = body.order_marketing_info.selected_marketing if body.order_marketing_info else []
        choices = [Choice(s.id, s.type, GOODS) for s in g.selected_marketing] + [
            Choice(s.id, s.type, ORDER) for s in order_level]
    got = await marketing.quote(ctx, app, body.open_id, line, body.marketing_version, choices,
                                with_offers=body.need_default_marketing or body.marketing_version == 2)
    return envelope(request, got.view())
