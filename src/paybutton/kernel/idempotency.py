"""Idempotency-Key on the OpenAPI's writes: one write per app and key; the same key and body answer the stored
answer, another body IDEMPOTENCY_KEY_REUSED. (Order placement has its own scheme: order_keys.py.)"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request

from paybutton.errors import TradeError
from paybutton.kernel.ports import KernelCtx
from paybutton.tables import idempotency_keys

MAX_KEY = 255


def request_hash(route: str, body: Any) -> str:
    return hashlib.sha256((route + "\n" + json.dumps(body, sort_keys=True, default=str)).encode()).hexdigest()


async def idempotent(
    ctx: KernelCtx,
    request: Request,
    app_id: str,
    route: str,
    body: Any,
    run: Callable[[AsyncConnection], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    """Run a write once per Idempotency-Key: same key and body -> the stored answer; other body -> error.

    The key row is inserted in the same transaction as the write, so a stored answer always belongs to a
    committed change, and two concurrent requests with one key cannot both run."""
    key = request.headers.get("idempotency-key")
    if not key:
        async with ctx.db.tx() as conn:
            return await run(conn)
    if len(key) > MAX_KEY:
        raise TradeError("INVALID_PARAMETER", "Idempotency-Key is longer than 255 characters")
    digest = request_hash(route, body)
    try:
        async with ctx.db.tx() as conn:
            await conn.execute(
                idempotency_keys.insert().values(
                    app_id=app_id, key=key, route=route, request_hash=digest, created_at=ctx.clock.now_ms()
                )
            )
            data = await run(conn)
            await conn.execute(
                update(idempotency_keys)
                .where(idempotency_keys.c.app_id == app_id, idempotency_keys.c.key == key)
                .values(response_body=json.dumps(data))
            )
            return data
    except IntegrityError:
        stored = await stored_answer(ctx, app_id, key, digest)
        if stored is None:
            raise
        return stored


async def key_row(ctx: KernelCtx, app_id: str, key: str, digest: str) -> Any | None:
    """The row of a key another request took first (None when it is gone); IDEMPOTENCY_KEY_REUSED when it was
    taken for another body. The one read of a held key: stored_answer and the order path's lease both use it."""
    async with ctx.db.engine.connect() as conn:
        row = (
            await conn.execute(
                select(idempotency_keys).where(idempotency_keys.c.app_id == app_id, idempotency_keys.c.key == key)
            )
        ).first()
    if row is not None and row.request_hash != digest:
        raise TradeError("IDEMPOTENCY_KEY_REUSED") from None
    return row


def answer_of(row: Any) -> dict[str, Any] | None:
    """The answer stored on a key row, None while there is none yet."""
    if row.response_body is None:
        return None
    stored: dict[str, Any] = json.loads(row.response_body)
    return stored


async def stored_answer(ctx: KernelCtx, app_id: str, key: str, digest: str) -> dict[str, Any] | None:
    """The answer stored under a key another request took first; IDEMPOTENCY_KEY_REUSED for another body,
    IDEMPOTENCY_IN_PROGRESS while there is no answer yet; None when the key row is gone."""
    row = await key_row(ctx, app_id, key, digest)
    if row is None:
        return None
    stored = answer_of(row)
    if stored is None:
        raise TradeError("IDEMPOTENCY_IN_PROGRESS") from None
    return stored
