"""Platform OpenAPI fulfilment routes (reference §16): delivery_prepare, delivery_verify, verify_cancel,
push_delivery. verify_cancel is served on Douyin's documented path `/api/trade/v2/fulfillment/verify_cancel` too
(the 撤销核销 page gives it without `/apps/`), by the same handler."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.context import CtxDep
from paybutton.fulfillment import service
from paybutton.fulfillment.api_models import (
    CERT_ID,
    ITEM_ID,
    ORDER_ID,
    CancelData,
    PrepareData,
    PushData,
    VerifyData,
)
from paybutton.fulfillment.poi import parse_poi_info
from paybutton.kernel.answers import example, platform_answer
from paybutton.kernel.auth import AppId
from paybutton.kernel.envelope import envelope
from paybutton.kernel.idempotency import idempotent

router = APIRouter(prefix="/api/apps/trade/v2/fulfillment", tags=["fulfillment"])
# Douyin's 撤销核销 document gives this prefix (no /apps/); here only verify_cancel lives (tools_api.py has more).
DOUYIN_PREFIX = "/api/trade/v2/fulfillment"
douyin_router = APIRouter(prefix=DOUYIN_PREFIX, tags=["fulfillment"])

POI_INFO_DOC = ("a JSON string of at most 1024 bytes serialising {shop_name, ext_valid_shop_id, valid_poi_id_str} "
                "(as Douyin documents it), or that object")


class PrepareBody(BaseModel):
    model_config = example({"code": "787929495092"}, extra="ignore")
    code: StrictStr | None = None
    encrypted_data: StrictStr | None = Field(default=None, description="the voucher QR's data")


class Certificate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    encrypted_code: StrictStr
    certificate_id: StrictStr


class VerifyBody(BaseModel):
    model_config = example({"verify_token": "1796611980123.3f9a0c…", "order_id": ORDER_ID, "certificates": [
        {"encrypted_code": "787929495092", "certificate_id": CERT_ID}]}, extra="ignore")
    verify_token: StrictStr
    order_id: StrictStr
    certificates: list[Certificate] = Field(min_length=1)
    poi_info: StrictStr | dict[str, Any] | None = Field(default=None, description=POI_INFO_DOC)


class CancelBody(BaseModel):
    model_config = example({"order_id": ORDER_ID, "certificate_id": CERT_ID, "verify_id": "vf5a1c0e9b3d2f4e6a"},
                           extra="ignore")
    order_id: StrictStr
    certificate_id: StrictStr
    verify_id: StrictStr


class PushItem(BaseModel):
    model_config = ConfigDict(extra="ignore")
    item_order_id: StrictStr


class PushBody(BaseModel):
    model_config = example({"out_order_no": "M" + ORDER_ID, "item_order_list": [{"item_order_id": ITEM_ID}]},
                           extra="ignore")
    out_order_no: StrictStr
    item_order_list: list[PushItem] | None = None
    use_all: StrictBool = False
    poi_info: StrictStr | dict[str, Any] | None = Field(default=None, description=POI_INFO_DOC)


@router.post("/delivery_prepare", summary="A voucher code or QR data -> verify_token and certificates",
             **platform_answer(PrepareData))
async def delivery_prepare(body: PrepareBody, request: Request, app_id: AppId, ctx: CtxDep) -> dict[str, Any]:
    async with ctx.db.engine.connect() as conn:
        data = await service.prepare(conn, ctx.clock, app_id, code=body.code, encrypted_data=body.encrypted_data)
    return envelope(request, data)


@router.post("/delivery_verify", summary="Redeem certificates (each unused unit once)", **platform_answer(VerifyData))
async def delivery_verify(body: VerifyBody, request: Request, app_id: AppId, ctx: CtxDep) -> dict[str, Any]:
    parse_poi_info(body.poi_info)
    async def run(conn: AsyncConnection) -> dict[str, Any]:
        results = await service.verify(conn, ctx.clock, app_id, order_id=body.order_id,
                                       verify_token=body.verify_token,
                                       certificates=[(c.encrypted_code, c.certificate_id) for c in body.certificates])
        return {"verify_results": results}

    return envelope(request, await idempotent(ctx, request, app_id, "fulfillment/delivery_verify",
                                              body.model_dump(), run))


@douyin_router.post("/verify_cancel", summary="撤销核销 on Douyin's documented path (same as /api/apps/trade/v2/...)",
                   **platform_answer(CancelData))
@router.post("/verify_cancel", summary="Cancel a verification: the unit is unused (and refundable) again",
             **platform_answer(CancelData))
async def verify_cancel(body: CancelBody, request: Request, app_id: AppId, ctx: CtxDep) -> dict[str, Any]:
    async def run(conn: AsyncConnection) -> dict[str, Any]:
        await service.cancel(conn, ctx.clock, app_id, order_id=body.order_id, certificate_id=body.certificate_id,
                             verify_id=body.verify_id)
        return {}

    return envelope(request, await idempotent(ctx, request, app_id, "fulfillment/verify_cancel",
                                              body.model_dump(), run))


@router.post("/push_delivery", summary="Report redemption of merchant-issued codes (三方码, delivery_type 0 orders)",
             **platform_answer(PushData))
async def push_delivery(body: PushBody, request: Request, app_id: AppId, ctx: CtxDep) -> dict[str, Any]:
    parse_poi_info(body.poi_info)
    async def run(conn: AsyncConnection) -> dict[str, Any]:
        results = await service.push_delivery(
            conn, ctx.clock, app_id, out_order_no=body.out_order_no, use_all=body.use_all,
            item_order_ids=[i.item_order_id for i in body.item_order_list or []])
        return {"verify_results": results}

    return envelope(request, await idempotent(ctx, request, app_id, "fulfillment/push_delivery",
                                              body.model_dump(), run))
