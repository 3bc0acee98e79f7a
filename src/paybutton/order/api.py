"""Platform OpenAPI order routes (reference §16): query_order, query_item_order_info, close_order."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, StrictStr
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.clock import BEIJING
from paybutton.context import CtxDep
from paybutton.errors import TradeError
from paybutton.kernel.answers import example, platform_answer
from paybutton.kernel.auth import AppId
from paybutton.kernel.envelope import envelope
from paybutton.kernel.idempotency import idempotent
from paybutton.order import ending, store
from paybutton.order.api_models import ORDER_ID, CloseOrderData, ItemOrderInfoData, QueryOrderData
from paybutton.order.states import payable

router = APIRouter(prefix="/api/apps/trade/v2/order", tags=["order"])



def pay_time(ms: int | None) -> str:
    if not ms:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000, BEIJING).strftime("%Y-%m-%d %H:%M:%S")


class QueryOrderBody(BaseModel):
    model_config = example({"order_id": ORDER_ID}, extra="ignore")
    order_id: StrictStr | None = None
    out_order_no: StrictStr | None = None


class QueryItemsBody(BaseModel):
    model_config = example({"order_id": ORDER_ID, "item_order_id_list": ["it2612070247517893350858"]}, extra="ignore")
    order_id: StrictStr
    item_order_id_list: list[StrictStr] | None = Field(default=None, max_length=20)


class CloseOrderBody(BaseModel):
    model_config = example({"order_id": ORDER_ID}, extra="ignore")
    order_id: StrictStr


@router.post("/query_order", summary="Query an order by order_id or out_order_no", **platform_answer(QueryOrderData))
async def query_order(body: QueryOrderBody, request: Request, app_id: AppId, ctx: CtxDep) -> dict[str, Any]:
    if not body.order_id and not body.out_order_no:
        raise TradeError("INVALID_PARAMETER", "order_id or out_order_no is required")
    async with ctx.db.engine.connect() as conn:
        row = await store.find_order(conn, app_id, order_id=body.order_id, out_order_no=body.out_order_no)
        if row is None:
            raise TradeError("ORDER_NOT_FOUND")
        refunded = await store.refunded_total(conn, row.app_id, row.order_id)
        settled = await store.settled_to_seller(conn, row.app_id, row.order_id)
        app = await ctx.app_in(conn, app_id)
    return envelope(request, {
        "order_id": row.order_id,
        "out_order_no": row.out_order_no or "",
        "order_status": row.status,
        "total_fee": payable(row.total_amount, row.discount_amount),
        "total_amount": row.total_amount,
        "discount_amount": row.discount_amount,
        "refund_amount": refunded,
        "settle_amount": settled,
        "seller_uid": app["merchant_uid"],
        "pay_channel": row.pay_channel,
        "channel_pay_id": row.channel_pay_id or "",
        "pay_time": pay_time(row.paid_at),
        "cp_extra": row.cp_extra or "",
        "message": row.message or "",
        "item_id": "",
        "payment_order_id": row.payment_id or "",
        "delivery_type": row.delivery_type,
        "goods_id": row.goods_id,
        "quantity": row.quantity,
        "order_entry_schema": json.loads(row.order_entry_schema) if row.order_entry_schema else None,
    })


@router.post("/query_item_order_info", summary="Item orders (one per unit) of an order",
             **platform_answer(ItemOrderInfoData))
async def query_item_order_info(body: QueryItemsBody, request: Request, app_id: AppId, ctx: CtxDep) -> dict[str, Any]:
    async with ctx.db.engine.connect() as conn:
        row = await store.find_order(conn, app_id, order_id=body.order_id)
        if row is None:
            raise TradeError("ORDER_NOT_FOUND")
        items = await store.items_of(conn, row.app_id, row.order_id)
    if body.item_order_id_list is not None:
        wanted = set(body.item_order_id_list)
        known = {i.item_order_id for i in items}
        missing = wanted - known
        if missing:
            raise TradeError("ITEM_ORDER_ID_INVALID", ", ".join(sorted(missing)))
        items = [i for i in items if i.item_order_id in wanted]
    return envelope(request, {
        "order_id": row.order_id,
        "item_list": [
            {
                "item_order_id": i.item_order_id,
                "item_order_status": i.status,
                "price": i.price,
                "refund_amount": i.refunded_amount,
                "valid_start_time": row.paid_at or 0,
                "valid_end_time": 0,
                "delivery_time": 0,
            }
            for i in items
        ],
    })


@router.post("/close_order", summary="Close an unpaid order; its stock returns", **platform_answer(CloseOrderData))
async def close_order(body: CloseOrderBody, request: Request, app_id: AppId, ctx: CtxDep) -> dict[str, Any]:
    async def run(conn: AsyncConnection) -> dict[str, Any]:
        await ending.close_order(ctx, conn, app_id, body.order_id)
        return {"order_id": body.order_id}

    data = await idempotent(ctx, request, app_id, "order/close_order", body.model_dump(), run)
    return envelope(request, data)
