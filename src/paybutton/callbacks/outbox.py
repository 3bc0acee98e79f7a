"""The durable callback outbox: written in the business transaction, listed for the log, replayable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.callbacks.body import build_body, identify_name
from paybutton.callbacks.schedules import check_schedule, schedule_for
from paybutton.clock import Clock
from paybutton.tables import callback_attempts, outbox

PENDING = "PENDING"
DONE = "DONE"
DEAD = "DEAD"
NO_URL = "NO_URL"
REPLAYABLE = (DEAD, DONE)
MAX_PAGE = 200


@dataclass(frozen=True)
class CallbackPage:
    """One page of the callback log, newest first; pass `next_cursor` back for the next page."""

    items: list[dict[str, Any]]
    next_cursor: int | None


async def enqueue(
    conn: AsyncConnection,
    clock: Clock,
    *,
    app_id: str,
    kind: str,
    url: str | None,
    msg: dict[str, Any],
    order_id: str | None = None,
    refund_id: str | None = None,
    schedule: str | None = None,
) -> int:
    """Write the exact body to send, due now, in the caller's transaction (never commits); return its id.

    Without a URL the row is still written (status NO_URL, so the log shows it) and is never sent."""
    now = clock.now_ms()
    result = await conn.execute(
        outbox.insert().values(
            app_id=app_id,
            type=kind,
            url=url or None,
            identify_name=identify_name(kind),
            body=build_body(kind, msg).decode(),
            order_id=order_id,
            refund_id=refund_id,
            schedule=check_schedule(schedule or schedule_for(kind)),
            status=PENDING if url else NO_URL,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
    )
    pk = result.inserted_primary_key
    assert pk is not None
    return int(pk[0])


async def list_callbacks(
    conn: AsyncConnection,
    app_id: str,
    *,
    status: str | None = None,
    kind: str | None = None,
    order_id: str | None = None,
    limit: int = 50,
    cursor: int | None = None,
    refund_id: str | None = None,
) -> CallbackPage:
    """The app's callbacks, newest first, filtered; `cursor` is the last id of the previous page."""
    size = max(1, min(limit, MAX_PAGE))
    q = select(outbox).where(outbox.c.app_id == app_id)
    if status is not None:
        q = q.where(outbox.c.status == status)
    if kind is not None:
        q = q.where(outbox.c.type == kind)
    if order_id is not None:
        q = q.where(outbox.c.order_id == order_id)
    if refund_id is not None:
        q = q.where(outbox.c.refund_id == refund_id)
    if cursor is not None:
        q = q.where(outbox.c.id < cursor)
    rows = (await conn.execute(q.order_by(outbox.c.id.desc()).limit(size + 1))).mappings().all()
    items = [dict(r) for r in rows[:size]]
    next_cursor = int(items[-1]["id"]) if len(rows) > size else None
    return CallbackPage(items, next_cursor)


async def get_callback(conn: AsyncConnection, app_id: str, id: int) -> dict[str, Any] | None:
    """One callback with its attempts (oldest first) under `attempt_log`; None when the app has none such."""
    row = (
        await conn.execute(select(outbox).where(outbox.c.id == id, outbox.c.app_id == app_id))
    ).mappings().first()
    if row is None:
        return None
    attempts = (
        await conn.execute(
            select(callback_attempts)
            .where(callback_attempts.c.outbox_id == id)
            .order_by(callback_attempts.c.id)
        )
    ).mappings().all()
    return {**dict(row), "attempt_log": [dict(a) for a in attempts]}


async def replay(
    conn: AsyncConnection, clock: Clock, app_id: str, id: int, *, statuses: tuple[str, ...] = REPLAYABLE
) -> bool:
    """Put a DEAD (or DONE) callback back to PENDING, due now, attempts reset. False when not replayable.

    `statuses` narrows what may be replayed (the operations API replays dead letters only)."""
    now = clock.now_ms()
    result = await conn.execute(
        update(outbox)
        .where(outbox.c.id == id, outbox.c.app_id == app_id, outbox.c.status.in_(statuses))
        .values(
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            locked_by=None,
            locked_until=None,
            updated_at=now,
        )
    )
    return bool(result.rowcount)


async def list_attempts(
    conn: AsyncConnection,
    app_id: str,
    *,
    kind: str | None = None,
    order_id: str | None = None,
    ok: bool | None = None,
    synchronous: bool | None = None,
    limit: int = 50,
    cursor: int | None = None,
) -> tuple[list[dict[str, Any]], int | None]:
    """The app's callback attempts, newest first: the outbox's and the synchronous extension calls' (which have no
    outbox row). `synchronous` True keeps only the latter, False only the former. Returns (rows, next cursor)."""
    size = max(1, min(limit, MAX_PAGE))
    c = callback_attempts.c
    q = select(callback_attempts).where(c.app_id == app_id)
    if kind is not None:
        q = q.where(c.type == kind)
    if order_id is not None:
        q = q.where(c.order_id == order_id)
    if ok is not None:
        q = q.where(c.ok.is_(ok))
    if synchronous is not None:
        q = q.where(c.outbox_id.is_(None) if synchronous else c.outbox_id.is_not(None))
    if cursor is not None:
        q = q.where(c.id < cursor)
    rows = (await conn.execute(q.order_by(c.id.desc()).limit(size + 1))).mappings().all()
    items = [dict(r) for r in rows[:size]]
    return items, int(items[-1]["id"]) if len(rows) > size else None
