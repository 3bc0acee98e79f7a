"""Installation-level routes: health, the error registry as JSON, the platform public key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from paybutton.api.models_meta import ErrorRegistry, Health
from paybutton.context import CtxDep
from paybutton.errors import registry_json
from paybutton.kernel.answers import answer
from paybutton.order.writer_registry import writer_of

router = APIRouter(tags=["meta"])


@router.get("/healthz", summary="Liveness, the database, and this process's sold-out memory (order_path)",
            **answer(Health))
async def healthz(ctx: CtxDep) -> dict[str, Any]:
    from sqlalchemy import text

    async with ctx.db.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    writer = await writer_of(ctx)
    return {"ok": True, "database": ctx.db.engine.dialect.name, "order_path": writer.order_path_counters()}


@router.get("/api/errors", summary="The error registry (every errNo and server code, zh-CN and en)",
            **answer(ErrorRegistry))
async def errors() -> dict[str, Any]:
    return registry_json()


@router.get("/api/platform/public_key", response_class=PlainTextResponse,
            summary="The platform public key (PEM) that signs every callback")
async def public_key(ctx: CtxDep) -> str:
    return (await ctx.fresh_signer()).public_pem
