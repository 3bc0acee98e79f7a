"""The fulfilment tool's settings on Douyin's paths (/api/apps/trade/v2/toolkit/...): query_text (the preset
texts), update_merchant_conf (which texts and QR display the voucher shows), update_merchant_path (the
mini-program pages it opens) and button_white_setting (who sees an order-detail button). Stored per app
(toolkit/store.py); the voucher card reads them through GET /api/buyer/v1/orders/{ref}/toolkit (toolkit/display.py).

Their answers carry Douyin's `{err_no, err_msg, log_id, data}` (the PyPI `bytedance` SDK checks `err_no` for these
calls) and the platform's `{data, extra}` envelope in one object; an error does the same (kernel/render.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.context import Ctx, CtxDep
from paybutton.errors import TradeError
from paybutton.kernel.answers import platform_answer
from paybutton.kernel.auth import AppId
from paybutton.kernel.envelope import envelope, logid_of
from paybutton.kernel.idempotency import idempotent
from paybutton.kernel.surfaces import TOOLKIT_PREFIX
from paybutton.toolkit import store, texts
from paybutton.toolkit.api_models import (
    ButtonWhiteBody,
    MerchantConfBody,
    MerchantPathBody,
    QueryTextBody,
    QueryTextData,
    SettingsData,
)

router = APIRouter(prefix=TOOLKIT_PREFIX, tags=["toolkit"])

# Which preset type each text id of update_merchant_conf must be (texts.GUIDANCE or texts.BUTTON).
TEXT_FIELDS = {"guidance_text_id": texts.GUIDANCE, "button_text_id": texts.BUTTON,
               "detail_page_text_id": texts.BUTTON, "arrival_store_button_text_id": texts.BUTTON,
               "arrival_home_button_text_id": texts.BUTTON}


def toolkit_envelope(request: Request, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Douyin's toolkit answer `{err_no: 0, err_msg, log_id, data}` with the platform's `extra` beside it."""
    return {"err_no": 0, "err_msg": "", "log_id": logid_of(request), **envelope(request, data)}


async def _save(ctx: Ctx, request: Request, app_id: str, route: str, body: BaseModel, column: str,
                change: Callable[[Any], Any]) -> None:
    """Set one setting to change(its current value), read and written in one transaction, once per
    Idempotency-Key (kernel/idempotency.py, as every OpenAPI write)."""
    async with ctx.db.tx() as conn:
        await store.ensure_row(conn, app_id, ctx.clock.now_ms())

    async def run(conn: AsyncConnection) -> dict[str, Any]:
        current = (await store.read(conn, app_id))[column]
        await store.write(conn, app_id, column, change(current), ctx.clock.now_ms())
        return {}

    await idempotent(ctx, request, app_id, route, body.model_dump(mode="json"), run)


@router.post("/query_text", summary="The preset texts the fulfilment tool's display can use",
             **platform_answer(QueryTextData))
async def query_text(body: QueryTextBody, request: Request, app_id: AppId) -> dict[str, Any]:
    return toolkit_envelope(request, {"text_list": texts.text_list(body.text_type)})


@router.post("/update_merchant_conf", summary="Which texts and QR display the voucher shows",
             **platform_answer(SettingsData))
async def update_merchant_conf(body: MerchantConfBody, request: Request, app_id: AppId,
                               ctx: CtxDep) -> dict[str, Any]:
    for part in (body.delivery_app_info, body.product_double_open_info):
        for name, text_type in TEXT_FIELDS.items():
            text_id = getattr(part, name, None)
            if text_id is not None and texts.text_of(text_id, text_type) is None:
                raise TradeError("TOOLKIT_TEXT_UNKNOWN", f"{name} {text_id}")
    conf = body.model_dump(exclude_none=True)
    await _save(ctx, request, app_id, "toolkit/update_merchant_conf", body, "merchant_conf", lambda _: conf)
    return toolkit_envelope(request)


@router.post("/update_merchant_path", summary="The mini-program pages the fulfilment tool opens",
             **platform_answer(SettingsData))
async def update_merchant_path(body: MerchantPathBody, request: Request, app_id: AppId,
                               ctx: CtxDep) -> dict[str, Any]:
    paths = body.model_dump()
    await _save(ctx, request, app_id, "toolkit/update_merchant_path", body, "merchant_paths", lambda _: paths)
    return toolkit_envelope(request)


@router.post("/button_white_setting", summary="Who sees an order-detail button: every user or a list",
             **platform_answer(SettingsData))
async def button_white_setting(body: ButtonWhiteBody, request: Request, app_id: AppId,
                               ctx: CtxDep) -> dict[str, Any]:
    setting = {"open_all": bool(body.open_all), "uid_list": body.uid_list or []}
    await _save(ctx, request, app_id, "toolkit/button_white_setting", body, "button_white",
                lambda now: {**(now or {}), str(body.button_type): setting})
    return toolkit_envelope(request)
