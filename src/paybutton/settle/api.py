"""Platform OpenAPI settle routes (issue 21; Douyin's 发起分账 / 查询分账 of the self-operated trade system:
https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/locallife/general-ability/
self-operated-trading/settlement/init-settle and .../settlement/query-settle): create_settle, query_settle."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, StrictStr
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.context import CtxDep
from paybutton.errors import TradeError
from paybutton.kernel.answers import example, platform_answer
from paybutton.kernel.auth import AppId
from paybutton.kernel.envelope import envelope
from paybutton.kernel.idempotency import idempotent
from paybutton.order import store as order_store
from paybutton.settle import sharing, store
from paybutton.settle.api_models import SETTLE_ID, CreateSettleData, QuerySettleData
from paybutton.settle.creating import SettleRequest, create_settle
from paybutton.settle.messages import view

router = APIRouter(prefix="/api/apps/trade/v2/settle", tags=["settle"])


class CreateSettleBody(BaseModel):
    model_config = example({
        "out_order_no": "Mot2612070247519296326435", "out_settle_no": "S1001", "settle_desc": "结算",
        "settle_params": '[{"merchant_uid":"7000000000000000001","amount":1000}]'}, extra="ignore")
    out_order_no: StrictStr = Field(min_length=1, max_length=64)
    out_settle_no: StrictStr = Field(min_length=1, max_length=64)
    settle_desc: StrictStr = Field(default="", max_length=80)
    settle_params: StrictStr | None = Field(default=None, max_length=4096, description=(
        'a JSON string: [{"merchant_uid": "...", "amount": fen}], the receivers besides the seller'))
    item_order_id: StrictStr | None = Field(default=None, max_length=32, description="settle this unit only")
    notify_url: StrictStr | None = Field(default=None, max_length=1024)
    cp_extra: StrictStr | None = Field(default=None, max_length=2048)


class QuerySettleBody(BaseModel):
    model_config = example({"settle_id": SETTLE_ID}, extra="ignore")
    settle_id: StrictStr | None = Field(default=None, max_length=32)
    order_id: StrictStr | None = Field(default=None, max_length=32)
    out_settle_no: StrictStr | None = Field(default=None, max_length=64)
    out_order_no: StrictStr | None = Field(default=None, max_length=64)


@router.post("/create_settle", summary="Settle a paid order (or one unit): held money to the seller and receivers",
             **platform_answer(CreateSettleData))
async def create_settle_route(body: CreateSettleBody, request: Request, app_id: AppId, ctx: CtxDep
                              ) -> dict[str, Any]:
    req = SettleRequest(out_settle_no=body.out_settle_no, settle_desc=body.settle_desc,
                        settle_params=body.settle_params, item_order_id=body.item_order_id or None,
                        notify_url=body.notify_url or None, cp_extra=body.cp_extra)

    async def run(conn: AsyncConnection) -> dict[str, Any]:
        order = await order_store.find_order(conn, app_id, out_order_no=body.out_order_no)
        if order is None:
            raise TradeError("SETTLE_ORDER_NOT_FOUND", body.out_order_no)
        row = await create_settle(conn, ctx, order, req)
        return {"settle_id": row.settle_id, "inner_settle_id": row.settle_id}

    try:
        data = await idempotent(ctx, request, app_id, "settle/create_settle", body.model_dump(), run)
    except IntegrityError as e:  # a concurrent call took the same out_settle_no first: answer that settle
        async with ctx.db.engine.connect() as conn:
            first = await store.by_out_settle_no(conn, app_id, body.out_settle_no)
            order = await order_store.find_order(conn, app_id, out_order_no=body.out_order_no)
        if first is None or order is None or (first.order_id, first.item_order_id) != (order.order_id,
                                                                                        req.item_order_id):
            raise TradeError("OUT_SETTLE_NO_DUPLICATE", body.out_settle_no) from e
        data = {"settle_id": first.settle_id, "inner_settle_id": first.settle_id}
    await sharing.kick(ctx, app_id, data["settle_id"])  # after the commit: the receivers' shares through the channel
    return envelope(request, data)


@router.post("/query_settle", summary="Settles by settle_id, order_id, out_settle_no or out_order_no",
             **platform_answer(QuerySettleData))
async def query_settle(body: QuerySettleBody, request: Request, app_id: AppId, ctx: CtxDep) -> dict[str, Any]:
    if not (body.settle_id or body.order_id or body.out_settle_no or body.out_order_no):
        raise TradeError("INVALID_PARAMETER", "one of settle_id, order_id, out_settle_no, out_order_no is required")
    async with ctx.db.engine.connect() as conn:
        rows = await store.find(conn, app_id, settle_id=body.settle_id, order_id=body.order_id,
                                out_settle_no=body.out_settle_no, out_order_no=body.out_order_no)
    return envelope(request, {"settle_list": [view(r) for r in rows]})
