"""The buyer API for refunds and vouchers (ours, behind refund-apply, refund-detail and the voucher card):
/api/buyer/v1/orders/{ref}/refundable|refunds|vouchers and /api/buyer/v1/refunds/{ref}."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from paybutton.api.buyer import PathId
from paybutton.api.models_buyer_refund import (
    ITEM_ID,
    AppliedRefund,
    OrderRefunds,
    Refundable,
    RefundDetail,
    Vouchers,
)
from paybutton.context import CtxDep
from paybutton.fulfillment import service as vouchers
from paybutton.inputs import NAME_PATTERN, TEXT_PATTERN
from paybutton.kernel.answers import answer, example
from paybutton.kernel.auth import BuyerDep
from paybutton.refund import applying, rules, views
from paybutton.refund.creating import RefundRequest
from paybutton.toolkit import display as toolkit_display

router = APIRouter(prefix="/api/buyer/v1", tags=["buyer"])


class ItemEntry(BaseModel):
    model_config = ConfigDict(extra="ignore")
    item_order_id: StrictStr
    refund_amount: StrictInt | None = None


class ApplyRefundBody(BaseModel):
    model_config = example({"item_order_list": [{"item_order_id": ITEM_ID}], "reason": "不想要了", "note": ""},
                           extra="ignore")
    item_order_list: list[ItemEntry] | None = Field(default=None, description="the applyrefund hook's itemOrderList")
    quantity: StrictInt | None = Field(default=None, description="units picked on the stepper")
    refund_total_amount: StrictInt | None = Field(default=None, description="legacy 1.0 orders: fen")
    reason: StrictStr = Field(default="", max_length=64, pattern=NAME_PATTERN)
    note: StrictStr = Field(default="", max_length=500, pattern=TEXT_PATTERN)
    cp_extra: StrictStr | None = Field(default=None, max_length=4096)


@router.get("/orders/{order_ref}/refundable", summary="refund-apply: the units and what each can give back",
            **answer(Refundable))
async def refundable(order_ref: PathId, buyer: BuyerDep, ctx: CtxDep) -> dict[str, Any]:
    return await views.buyer_refundable(ctx, buyer.app_id, buyer.open_id, order_ref)


@router.post("/orders/{order_ref}/refunds", summary=(
    "Apply for a refund (source 1, user): pre_create_refund is called at once; the answer carries the merchant's "
    "out_refund_no, or out_refund_no_pending true while the callback is retried"), **answer(AppliedRefund))
async def apply_refund(order_ref: PathId, body: ApplyRefundBody, buyer: BuyerDep, ctx: CtxDep) -> dict[str, Any]:
    entries = None if body.item_order_list is None else [
        rules.Entry(e.item_order_id, e.refund_amount) for e in body.item_order_list]
    req = RefundRequest(source=rules.Source.USER, entries=entries, quantity=body.quantity,
                        refund_total_amount=body.refund_total_amount,
                        reason=[body.reason] if body.reason else [], description=body.note, cp_extra=body.cp_extra)
    return await applying.buyer_apply(ctx, buyer.app_id, buyer.open_id, order_ref, req)


@router.get("/orders/{order_ref}/refunds", summary="The order's refunds and the pay-button's order-status",
            **answer(OrderRefunds))
async def order_refunds(order_ref: PathId, buyer: BuyerDep, ctx: CtxDep) -> dict[str, Any]:
    return await views.buyer_refunds(ctx, buyer.app_id, buyer.open_id, order_ref)


@router.get("/refunds/{refund_ref}", summary="refund-detail: status, amount, units, timeline, audit",
            **answer(RefundDetail))
async def refund_detail(refund_ref: PathId, buyer: BuyerDep, ctx: CtxDep) -> dict[str, Any]:
    return await views.buyer_detail(ctx, buyer.app_id, buyer.open_id, refund_ref)


@router.get("/orders/{order_ref}/vouchers", summary="The voucher card: names, label chips, codes and states",
            **answer(Vouchers))
async def order_vouchers(order_ref: PathId, buyer: BuyerDep, ctx: CtxDep) -> dict[str, Any]:
    async with ctx.db.engine.connect() as conn:
        view = await vouchers.buyer_vouchers(conn, buyer.app_id, buyer.open_id, order_ref)
        view["toolkit"] = await toolkit_display.display(conn, buyer.app_id)  # issue 22: the card's guidance line
        return view
