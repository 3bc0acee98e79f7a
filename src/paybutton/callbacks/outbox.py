"""The durable callback outbox: written in the business transaction, listed for the log, replayable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict, Unpack

from sqlalchemy import ColumnElement, Select, select, update
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
    """One page of the callback or attempt log, newest first; pass `next_cursor` back for the next page."""

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


class CallbackFilters(TypedDict, total=False):
    """The callback log's filters, for this query and the operations above it (None or left out: any)."""

    kind: str | None
    status: str | None
    order_id: str | None
    refund_id: str | None


class AttemptFilters(TypedDict, total=False):
    """The attempt log's filters (None or left out: any); `synchronous` True keeps only the synchronous extension
    calls (no outbox row), False only the outbox's deliveries."""

    kind: str | None
    order_id: str | None
    ok: bool | None
    synchronous: bool | None


_CALLBACK_COLUMNS = {"kind": outbox.c.type, "status": outbox.c.status, "order_id": outbox.c.order_id,
                     "refund_id": outbox.c.refund_id}


async def _newest_first(conn: AsyncConnection, q: Select[Any], id_column: ColumnElement[Any], limit: int,
                        cursor: int | None) -> CallbackPage:
    """One page of `q` by descending id: `cursor` is the last id of the previous page; one row more than the page
    is read to know whether there is a next one."""
    size = max(1, min(limit, MAX_PAGE))
    if cursor is not None:
        q = q.where(id_column < cursor)
    rows = (await conn.execute(q.order_by(id_column.desc()).limit(size + 1))).mappings().all()
    items = [dict(r) for r in rows[:size]]
    return CallbackPage(items, int(items[-1]["id"]) if len(rows) > size else None)


async def list_callbacks(conn: AsyncConnection, app_id: str, *, limit: int = 50, cursor: int | None = None,
                         **filters: Unpack[CallbackFilters]) -> CallbackPage:
    """The app's callbacks, newest first, filtered; `cursor` is the last id of the previous page."""
    q = select(outbox).where(outbox.c.app_id == app_id)
    for name, value in filters.items():
        if value is not None:
            q = q.where(_CALLBACK_COLUMNS[name] == value)
    return await _newest_first(conn, q, outbox.c.id, limit, cursor)


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


async def list_attempts(conn: AsyncConnection, app_id: str, *, limit: int = 50, cursor: int | None = None,
                        **filters: Unpack[AttemptFilters]) -> CallbackPage:
    """The app's callback attempts, newest first: the outbox's and the synchronous extension calls' (which have no
    outbox row)."""
    c = callback_attempts.c
    q = select(callback_attempts).where(c.app_id == app_id)
    kind, order_id = filters.get("kind"), filters.get("order_id")
    ok, synchronous = filters.get("ok"), filters.get("synchronous")
    if kind is not None:
        q = q.where(c.type == kind)
    if order_id is not None:
        q = q.where(c.order_id == order_id)
    if ok is not None:
        q = q.where(c.ok.is_(ok))
    if synchronous is not None:
        q = q.where(c.outbox_id.is_(None) if synchronous else c.outbox_id.is_not(None))
    return await _newest_first(conn, q, c.id, limit, cursor)
