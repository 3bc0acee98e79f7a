"""Idempotent order placement: POST /api/buyer/v1/orders with an `Idempotency-Key` places one order per key.

Keys are scoped per app and buyer (the stored key is a digest of the buyer and the key, in idempotency_keys
beside the OpenAPI's keys). Same key and body -> the first order's answer; same key, other body ->
IDEMPOTENCY_KEY_REUSED; while the first is still being placed -> IDEMPOTENCY_IN_PROGRESS. Placing an order spans
several transactions and the merchant's pre_create_order, so the key row is written first and the answer stored
after; a placement that fails frees its key (a retry places again).

The key row names the order id the placement writes (`order_id`) and holds the key until `lease_until`
(settings.order_key_lease_seconds, longer than any placement). A process that dies mid-placement leaves the key
in progress only until then: the next retry finds the order that was placed under that id and answers it (and
stores it), or, when none was written, takes the key over (a new lease, the same order id: should the old holder
still write it, the order's primary key lets only one through) and places it.
Without the header nothing here runs: no query is added to the order path."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from paybutton import ids
from paybutton.errors import TradeError
from paybutton.kernel.idempotency import MAX_KEY, answer_of, key_row, request_hash
from paybutton.kernel.ports import KernelCtx
from paybutton.tables import idempotency_keys

ROUTE = "POST /api/buyer/v1/orders"

Place = Callable[[str], Awaitable[dict[str, Any]]]  # places the order under this order id; its view
Find = Callable[[str], Awaitable[dict[str, Any] | None]]  # the buyer's order with this id (its view), or None


def scoped_key(open_id: str, key: str) -> str:
    return "buyer:" + hashlib.sha256(f"{open_id}\n{key}".encode()).hexdigest()


def _dumps(view: dict[str, Any]) -> str:
    return json.dumps(view, ensure_ascii=False, separators=(",", ":"))


async def place_once(ctx: KernelCtx, app_id: str, open_id: str, key: str | None, body: Any,
                     run: Place, find: Find, lease_ms: int) -> dict[str, Any]:
    """`run` places the order under the id it is given; `lease_ms`: settings.order_key_lease_seconds."""
    if not key:
        return await run(ids.order_id())
    if len(key) > MAX_KEY:
        raise TradeError("INVALID_PARAMETER", "Idempotency-Key is longer than 255 characters")
    k = scoped_key(open_id, key)
    digest = request_hash(ROUTE, body)
    mine = (idempotency_keys.c.app_id == app_id) & (idempotency_keys.c.key == k)
    oid, lease = ids.order_id(), ctx.clock.now_ms() + lease_ms
    try:
        async with ctx.db.tx() as conn:
            await conn.execute(idempotency_keys.insert().values(
                app_id=app_id, key=k, route=ROUTE, request_hash=digest, created_at=ctx.clock.now_ms(),
                order_id=oid, lease_until=lease))
    except IntegrityError:
        held = await _held(ctx, app_id, k, digest, find, lease_ms)
        if isinstance(held, dict):
            return held
        oid, lease = held
    try:
        view = await run(oid)
    except BaseException:
        async with ctx.db.tx() as conn:  # free the key, unless another retry took it over meanwhile
            await conn.execute(delete(idempotency_keys).where(
                mine, idempotency_keys.c.response_body.is_(None), idempotency_keys.c.lease_until == lease))
        raise
    async with ctx.db.tx() as conn:
        await conn.execute(update(idempotency_keys).where(mine).values(response_body=_dumps(view)))
    return view


async def _held(ctx: KernelCtx, app_id: str, k: str, digest: str, find: Find,
                lease_ms: int) -> dict[str, Any] | tuple[str, int]:
    """A key another request wrote first: its stored answer; or, its lease over, the order its holder placed
    (stored now) or (order id, new lease) to place it under; else IDEMPOTENCY_KEY_REUSED / _IN_PROGRESS."""
    row = await key_row(ctx, app_id, k, digest)
    if row is None:  # freed by a failed placement meanwhile
        raise TradeError("IDEMPOTENCY_IN_PROGRESS")
    stored = answer_of(row)
    if stored is not None:
        return stored
    until = row.lease_until if row.lease_until is not None else row.created_at + lease_ms  # a key from before 0008
    if ctx.clock.now_ms() < until:
        raise TradeError("IDEMPOTENCY_IN_PROGRESS")
    oid = row.order_id or ids.order_id()
    placed = await find(oid)
    mine = (idempotency_keys.c.app_id == app_id) & (idempotency_keys.c.key == k)
    free = mine & idempotency_keys.c.response_body.is_(None)
    async with ctx.db.tx() as conn:
        if placed is not None:  # the holder wrote the order and died before storing its answer
            await conn.execute(update(idempotency_keys).where(free).values(response_body=_dumps(placed)))
            return placed
        lease = ctx.clock.now_ms() + lease_ms
        took = await conn.execute(update(idempotency_keys).where(
            free, idempotency_keys.c.lease_until.is_(None) if row.lease_until is None
            else idempotency_keys.c.lease_until == row.lease_until).values(order_id=oid, lease_until=lease))
    if took.rowcount != 1:  # another retry took it over first
        raise TradeError("IDEMPOTENCY_IN_PROGRESS")
    return oid, lease
