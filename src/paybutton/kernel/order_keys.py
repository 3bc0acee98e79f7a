"""Idempotent order placement: POST /api/buyer/v1/orders with an `Idempotency-Key` places one order per key.

Keys are scoped per app and buyer (the stored key is a digest of the buyer and the key, in idempotency_keys
beside the OpenAPI's keys). Same key and body -> the first order's answer; same key, other body ->
IDEMPOTENCY_KEY_REUSED; while the first is still being placed -> IDEMPOTENCY_IN_PROGRESS. Placing an order spans
several transactions and the merchant's pre_create_order, so the key row is written first and the answer stored
after; a placement that fails frees its key (a retry places again). A process that dies mid-placement leaves
the key in progress: that tap's retries are refused, and the order it may have placed expires unpaid.
Without the header nothing here runs: no query is added to the order path."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from paybutton.errors import TradeError
from paybutton.kernel.idempotency import MAX_KEY, request_hash, stored_answer
from paybutton.kernel.ports import KernelCtx
from paybutton.tables import idempotency_keys

ROUTE = "POST /api/buyer/v1/orders"


def scoped_key(open_id: str, key: str) -> str:
    return "buyer:" + hashlib.sha256(f"{open_id}\n{key}".encode()).hexdigest()


async def place_once(ctx: KernelCtx, app_id: str, open_id: str, key: str | None, body: Any,
                     run: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    if not key:
        return await run()
    if len(key) > MAX_KEY:
        raise TradeError("INVALID_PARAMETER", "Idempotency-Key is longer than 255 characters")
    k = scoped_key(open_id, key)
    digest = request_hash(ROUTE, body)
    mine = (idempotency_keys.c.app_id == app_id) & (idempotency_keys.c.key == k)
    try:
        async with ctx.db.tx() as conn:
            await conn.execute(idempotency_keys.insert().values(
                app_id=app_id, key=k, route=ROUTE, request_hash=digest, created_at=ctx.clock.now_ms()))
    except IntegrityError:
        stored = await stored_answer(ctx, app_id, k, digest)
        if stored is None:  # freed by a failed placement meanwhile
            raise TradeError("IDEMPOTENCY_IN_PROGRESS") from None
        return stored
    try:
        view = await run()
    except BaseException:
        async with ctx.db.tx() as conn:
            await conn.execute(delete(idempotency_keys).where(mine, idempotency_keys.c.response_body.is_(None)))
        raise
    async with ctx.db.tx() as conn:
        await conn.execute(update(idempotency_keys).where(mine).values(
            response_body=json.dumps(view, ensure_ascii=False, separators=(",", ":"))))
    return view
