"""Callback operations (ours, in the platform style): /api/apps/trade/v2/callbacks/{list,query,attempts,replay,test}."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, StrictBool, StrictFloat, StrictInt, StrictStr
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.callbacks import ops, outbox
from paybutton.callbacks.api_models import AttemptPageData, CallbackData, CallbackPageData, TestData
from paybutton.context import CtxDep
from paybutton.kernel.answers import example, platform_answer
from paybutton.kernel.auth import AppId
from paybutton.kernel.envelope import envelope
from paybutton.kernel.idempotency import idempotent

router = APIRouter(prefix="/api/apps/trade/v2/callbacks", tags=["callbacks"])

MAX_ID = 2**63 - 1  # BIGINT
CallbackId = Annotated[StrictInt, Field(ge=1, le=MAX_ID, description="the callback's id (from callbacks/list)")]
Cursor = Annotated[StrictInt | None, Field(ge=1, le=MAX_ID, description="the previous page's next_cursor")]
Target = Literal["pre_create_order", "payment", "pre_create_refund", "refund", "marketing"]


class ListBody(BaseModel):
    model_config = example({"status": "DEAD", "limit": 20}, extra="forbid")
    type: StrictStr | None = Field(default=None, max_length=32, description="payment, refund, pre_create_refund, test…")
    status: outbox.Status | None = None
    order_id: StrictStr | None = Field(default=None, max_length=32)
    refund_id: StrictStr | None = Field(default=None, max_length=32)
    limit: Annotated[StrictInt, Field(ge=1, le=outbox.MAX_PAGE)] = 20
    cursor: Cursor = None

    def filter(self) -> outbox.CallbackFilter:
        return outbox.CallbackFilter(kind=self.type, status=self.status, order_id=self.order_id,
                                     refund_id=self.refund_id)


class AttemptsBody(BaseModel):
    model_config = example({"ok": False, "limit": 20}, extra="forbid")
    type: StrictStr | None = Field(default=None, max_length=32, description="pre_create_order, payment, …")
    order_id: StrictStr | None = Field(default=None, max_length=32)
    ok: StrictBool | None = Field(default=None, description="true: answered err_no 0; false: failed")
    synchronous: StrictBool | None = Field(
        default=None, description="true: only the extension calls made while the buyer waits; false: only outbox ones")
    limit: Annotated[StrictInt, Field(ge=1, le=outbox.MAX_PAGE)] = 20
    cursor: Cursor = None

    def filter(self) -> outbox.AttemptFilter:
        return outbox.AttemptFilter(kind=self.type, order_id=self.order_id, ok=self.ok, synchronous=self.synchronous)


class OneBody(BaseModel):
    model_config = example({"callback_id": 1}, extra="forbid")
    callback_id: CallbackId


class TestBody(BaseModel):
    model_config = example({"kind": "payment", "wait_seconds": 2.0}, extra="forbid")
    kind: Target = Field(default="payment", description="which of the app's callback URLs to test")
    wait_seconds: Annotated[StrictFloat, Field(ge=0, le=10,
                                               description="wait this long for the answer (0: queue only)")] = 0


@router.post("/list", summary="The callback log, newest first (filter by type, status, order_id, refund_id)",
             **platform_answer(CallbackPageData))
async def list_(body: ListBody, request: Request, ctx: CtxDep, app_id: AppId) -> dict[str, Any]:
    async with ctx.db.engine.connect() as conn:
        page = await ops.list_callbacks(conn, app_id, limit=body.limit, cursor=body.cursor, **body.filter())
    return envelope(request, page)


@router.post("/query", summary="One callback: the exact body sent, its answer and every attempt",
             **platform_answer(CallbackData))
async def query(body: OneBody, request: Request, ctx: CtxDep, app_id: AppId) -> dict[str, Any]:
    async with ctx.db.engine.connect() as conn:
        found = await ops.get_callback(conn, app_id, body.callback_id)
    return envelope(request, {"callback": found})


@router.post("/attempts", summary="Every callback attempt, newest first, synchronous extension calls included",
             **platform_answer(AttemptPageData))
async def attempts(body: AttemptsBody, request: Request, ctx: CtxDep, app_id: AppId) -> dict[str, Any]:
    async with ctx.db.engine.connect() as conn:
        page = await ops.list_attempts(conn, app_id, limit=body.limit, cursor=body.cursor, **body.filter())
    return envelope(request, page)


@router.post("/replay", summary="Send a dead letter (status DEAD) again, now, with a fresh retry schedule",
             **platform_answer(CallbackData))
async def replay(body: OneBody, request: Request, ctx: CtxDep, app_id: AppId) -> dict[str, Any]:
    async def run(conn: AsyncConnection) -> dict[str, Any]:
        return {"callback": await ops.replay(conn, ctx.clock, app_id, body.callback_id)}

    return envelope(request, await idempotent(ctx, request, app_id, "callbacks/replay", body.model_dump(), run))


@router.post("/test", summary="Send a signed `test` callback to one of the app's callback URLs",
             **platform_answer(TestData))
async def send_test(body: TestBody, request: Request, ctx: CtxDep, app_id: AppId) -> dict[str, Any]:
    async def run(conn: AsyncConnection) -> dict[str, Any]:
        return {"callback_id": await ops.send_test_callback(conn, ctx.clock, app_id, body.kind)}

    queued = await idempotent(ctx, request, app_id, "callbacks/test", body.model_dump(), run)
    found = await ops.wait_settled(ctx.db.engine, app_id, int(queued["callback_id"]), body.wait_seconds)
    return envelope(request, {"callback_id": queued["callback_id"], "callback": found})
