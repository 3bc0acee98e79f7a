"""Platform OpenAPI fulfilment-tool routes (issue 22): `/api/trade/v2/fulfillment/query_user_certificates` and
`…/order_can_use` (Douyin's paths, without /apps/), and `/api/apps/trade/v2/toolkit/query_certificate_info`,
`verify_local_certificates`, `change_lock_status`, `push_service_done` (paths as the PyPI `bytedance` SDK's
contracts give them)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.context import CtxDep
from paybutton.fulfillment import tools
from paybutton.fulfillment.api import DOUYIN_PREFIX, POI_INFO_DOC
from paybutton.fulfillment.api_models import CERT_ID, ITEM_ID, ORDER_ID, VerifyData
from paybutton.fulfillment.poi import parse_poi_info
from paybutton.fulfillment.tools_api_models import (
    CertificateInfoData,
    LockData,
    OrderCanUseData,
    ServiceDoneData,
    UserCertificatesData,
)
from paybutton.kernel.answers import example, platform_answer
from paybutton.kernel.auth import AppId
from paybutton.kernel.envelope import envelope
from paybutton.kernel.idempotency import idempotent
from paybutton.kernel.surfaces import TOOLKIT_PREFIX

douyin_router = APIRouter(prefix=DOUYIN_PREFIX, tags=["fulfillment tools"])
toolkit_router = APIRouter(prefix=TOOLKIT_PREFIX, tags=["fulfillment tools"])

OrderId = Annotated[StrictStr, Field(max_length=32)]
CertId = Annotated[StrictStr, Field(max_length=32)]


class UserCertificatesBody(BaseModel):
    model_config = example({"open_id": "buyer-1", "account_id": "tt5eed000000000001", "page": 1, "page_size": 10},
                           extra="ignore")
    open_id: Annotated[StrictStr, Field(max_length=128)]
    account_id: Annotated[StrictStr, Field(max_length=64)] | None = Field(default=None, description="accepted")
    poi_id: Annotated[StrictStr, Field(max_length=64)] | None = Field(default=None, description="accepted")
    page: Annotated[StrictInt, Field(ge=1, le=10000)] = 1
    page_size: Annotated[StrictInt, Field(ge=1, le=50)] = 10


class OrderCanUseBody(BaseModel):
    model_config = example({"order_id": ORDER_ID, "poi_id": "7000000001"}, extra="ignore")
    order_id: OrderId
    poi_id: Annotated[StrictStr, Field(max_length=64)] | None = Field(default=None, description="accepted")


class CertificateInfoBody(BaseModel):
    model_config = example({"certificate_id": CERT_ID}, extra="ignore")
    certificate_id: CertId | None = None
    code: Annotated[StrictStr, Field(max_length=64)] | None = Field(default=None, description="the voucher code")
    encrypted_data: Annotated[StrictStr, Field(max_length=64)] | None = Field(
        default=None, description="the voucher QR's data (pbv1:CODE)")


class LocalCertificate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    certificate_id: CertId


class VerifyLocalBody(BaseModel):
    model_config = example({"certificates": [{"certificate_id": CERT_ID}]}, extra="ignore")
    certificates: list[LocalCertificate] = Field(min_length=1, max_length=100)
    poi_info: StrictStr | dict[str, Any] | None = Field(default=None, description=POI_INFO_DOC)


class LockBody(BaseModel):
    model_config = example({"certificate_id": CERT_ID, "lock_status": 1}, extra="ignore")
    certificate_id: CertId
    lock_status: Literal[0, 1] = Field(description="1 lock (no redemption, no refund), 0 unlock")


class ServiceDoneBody(BaseModel):
    model_config = example({"order_id": ORDER_ID, "item_order_id_list": [ITEM_ID]}, extra="ignore")
    order_id: OrderId
    item_order_id_list: list[Annotated[StrictStr, Field(max_length=32)]] | None = Field(
        default=None, max_length=100, description="absent: every redeemed unit of the order")


@douyin_router.post("/query_user_certificates", summary="A buyer's orders with usable certificates",
                    **platform_answer(UserCertificatesData))
async def query_user_certificates(body: UserCertificatesBody, request: Request, app_id: AppId, ctx: CtxDep
                                  ) -> dict[str, Any]:
    async with ctx.db.engine.connect() as conn:
        data = await tools.user_certificates(conn, ctx.clock, app_id, open_id=body.open_id, page=body.page,
                                             page_size=body.page_size)
    return envelope(request, data)


@douyin_router.post("/order_can_use", summary="Whether an order can be used now, and its usable certificates",
                    **platform_answer(OrderCanUseData))
async def order_can_use(body: OrderCanUseBody, request: Request, app_id: AppId, ctx: CtxDep) -> dict[str, Any]:
    async with ctx.db.engine.connect() as conn:
        data = await tools.order_can_use(conn, ctx.clock, app_id, body.order_id)
    return envelope(request, data)


@toolkit_router.post("/query_certificate_info", summary="One certificate: state, lock, booking",
                     **platform_answer(CertificateInfoData))
async def query_certificate_info(body: CertificateInfoBody, request: Request, app_id: AppId, ctx: CtxDep
                                 ) -> dict[str, Any]:
    async with ctx.db.engine.connect() as conn:
        data = await tools.certificate_info(conn, ctx.clock, app_id, certificate_id=body.certificate_id,
                                            code=body.code or body.encrypted_data)
    return envelope(request, data)


@toolkit_router.post("/verify_local_certificates", summary="Redeem certificates by id (no verify_token)",
                     **platform_answer(VerifyData))
async def verify_local_certificates(body: VerifyLocalBody, request: Request, app_id: AppId, ctx: CtxDep
                                    ) -> dict[str, Any]:
    parse_poi_info(body.poi_info)

    async def run(conn: AsyncConnection) -> dict[str, Any]:
        ids = [c.certificate_id for c in body.certificates]
        return {"verify_results": await tools.verify_local(conn, ctx.clock, app_id, ids)}

    return envelope(request, await idempotent(ctx, request, app_id, "toolkit/verify_local_certificates",
                                              body.model_dump(), run))


@toolkit_router.post("/change_lock_status", summary="Lock (1) or unlock (0) a certificate", **platform_answer(LockData))
async def change_lock_status(body: LockBody, request: Request, app_id: AppId, ctx: CtxDep) -> dict[str, Any]:
    async def run(conn: AsyncConnection) -> dict[str, Any]:
        return await tools.change_lock(conn, ctx.clock, app_id, certificate_id=body.certificate_id,
                                       lock=body.lock_status == 1)

    return envelope(request, await idempotent(ctx, request, app_id, "toolkit/change_lock_status",
                                              body.model_dump(), run))


@toolkit_router.post("/push_service_done", summary="The service of redeemed units is done",
                     **platform_answer(ServiceDoneData))
async def push_service_done(body: ServiceDoneBody, request: Request, app_id: AppId, ctx: CtxDep) -> dict[str, Any]:
    async def run(conn: AsyncConnection) -> dict[str, Any]:
        return await tools.service_done(conn, ctx.clock, app_id, order_id=body.order_id,
                                        item_order_ids=body.item_order_id_list or [])

    return envelope(request, await idempotent(ctx, request, app_id, "toolkit/push_service_done",
                                              body.model_dump(), run))
