"""Platform OpenAPI refund routes (reference §16): create_refund, query_refund, merchant_audit_callback."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.context import CtxDep
from paybutton.errors import TradeError
from paybutton.kernel.answers import example, platform_answer
from paybutton.kernel.auth import AppId
from paybutton.kernel.envelope import envelope
from paybutton.kernel.idempotency import idempotent
from paybutton.order import store as order_store
from paybutton.refund import rules, store
from paybutton.refund.api_models import ITEM_ID, AuditAnswerData, CreateRefundData, QueryRefundData
from paybutton.refund.auditing import merchant_audit
from paybutton.refund.creating import RefundRequest
from paybutton.refund.creating import create_refund as write_refund
from paybutton.refund.messages import view
from paybutton.refund.rules import Source
from paybutton.refund.settling import nudge

router = APIRouter(prefix="/api/apps/trade/v2/refund", tags=["refund"])


class ItemOrderDetail(BaseModel):
    model_config = ConfigDict(extra="ignore")
    item_order_id: StrictStr
    refund_amount: StrictInt | None = Field(default=None, description="fen; absent = the rest of that item")


class CreateRefundBody(BaseModel):
    model_config = example({"out_order_no": "Mot2612070247519296326435", "out_refund_no": "R1001",
                            "item_order_detail": [{"item_order_id": ITEM_ID, "refund_amount": 9900}],
                            "refund_reason": ["不想要了"]}, extra="ignore")
    out_order_no: StrictStr
    out_refund_no: StrictStr = Field(min_length=1, max_length=64)
    refund_total_amount: StrictInt | None = None
    item_order_detail: list[ItemOrderDetail] | None = None
    cp_extra: StrictStr | None = Field(default=None, max_length=4096)
    notify_url: StrictStr | None = None
    order_entry_schema: dict[str, Any] | None = None
    refund_reason: list[StrictStr] | None = None
    refund_description: StrictStr | None = None


class QueryRefundBody(BaseModel):
    model_config = example({"out_refund_no": "R1001"}, extra="ignore")
    refund_id: StrictStr | None = None
    out_refund_no: StrictStr | None = None
    order_id: StrictStr | None = None


class AuditBody(BaseModel):
    model_config = example({"out_refund_no": "R1001", "refund_audit_status": 1}, extra="ignore")
    out_refund_no: StrictStr
    refund_audit_status: StrictInt = Field(description="1 agree, 2 deny")
    deny_message: StrictStr | None = None


@router.post("/create_refund", summary="The merchant refunds (whole, per item order amounts, or legacy amount)",
             **platform_answer(CreateRefundData))
async def create_refund(body: CreateRefundBody, request: Request, app_id: AppId, ctx: CtxDep) -> dict[str, Any]:
    entries = None if body.item_order_detail is None else [
        rules.Entry(e.item_order_id, e.refund_amount) for e in body.item_order_detail]

    async def run(conn: AsyncConnection) -> dict[str, Any]:
        order = await order_store.find_order(conn, app_id, out_order_no=body.out_order_no)
        if order is None:
            raise TradeError("ORDER_NOT_FOUND", body.out_order_no)
        r = await write_refund(conn, ctx, order, RefundRequest(
            source=Source.MERCHANT, entries=entries, refund_total_amount=body.refund_total_amount,
            reason=body.refund_reason or [], description=body.refund_description or "", cp_extra=body.cp_extra,
            out_refund_no=body.out_refund_no, notify_url=body.notify_url, order_entry_schema=body.order_entry_schema))
        return {"refund_id": r.refund_id, "refund_audit_deadline": r.refund_audit_deadline or 0}

    try:
        data = await idempotent(ctx, request, app_id, "refund/create_refund", body.model_dump(), run)
    except IntegrityError as e:  # a concurrent refund took the same out_refund_no first
        raise TradeError("OUT_REFUND_NO_DUPLICATE", body.out_refund_no) from e
    await nudge(ctx, app_id, data["refund_id"])
    return envelope(request, data)


@router.post("/query_refund", summary="Refunds by refund_id, out_refund_no or order_id",
             **platform_answer(QueryRefundData))
async def query_refund(body: QueryRefundBody, request: Request, app_id: AppId, ctx: CtxDep) -> dict[str, Any]:
    if not (body.refund_id or body.out_refund_no or body.order_id):
        raise TradeError("INVALID_PARAMETER", "one of refund_id, out_refund_no, order_id is required")
    async with ctx.db.engine.connect() as conn:
        rows = await store.find(conn, app_id, refund_id=body.refund_id, out_refund_no=body.out_refund_no,
                                order_id=body.order_id)
        if not rows:
            # An order of this app with no refund yet has an empty refund list; an unknown order is not found.
            only_order = body.order_id and not (body.refund_id or body.out_refund_no)
            if not only_order:
                raise TradeError("REFUND_NOT_FOUND")
            if await order_store.find_order(conn, app_id, order_id=body.order_id) is None:
                raise TradeError("ORDER_NOT_FOUND")
        found = [view(r, await store.items_of(conn, r.app_id, r.refund_id)) for r in rows]
    return envelope(request, {"refund_list": found})


@router.post("/merchant_audit_callback", summary="Agree (1) or deny (2) a refund waiting for the merchant's audit",
             **platform_answer(AuditAnswerData))
async def merchant_audit_callback(body: AuditBody, request: Request, app_id: AppId, ctx: CtxDep) -> dict[str, Any]:
    if body.refund_audit_status not in (1, 2):
        raise TradeError("INVALID_PARAMETER", "refund_audit_status must be 1 (agree) or 2 (deny)")

    async def run(conn: AsyncConnection) -> dict[str, Any]:
        rid = await merchant_audit(conn, ctx, app_id, body.out_refund_no, body.refund_audit_status == 1,
                                   body.deny_message)
        return {"refund_id": rid}

    data = await idempotent(ctx, request, app_id, "refund/merchant_audit_callback", body.model_dump(), run)
    await nudge(ctx, app_id, data["refund_id"])
    return envelope(request, {})
