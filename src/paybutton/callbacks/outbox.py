"""The durable callback outbox: written in the business transaction, listed for the log, replayable.

The log's filters are defined here, once: the statuses and callback types they accept (`STATUSES`,
`CALLBACK_TYPES`, `ATTEMPT_TYPES`) and which rows they keep (`CallbackFilter`, `AttemptFilter`). The operations
API, the CLI and the console all filter through them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal, TypedDict, Unpack, get_args

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.callbacks.body import build_body, identify_name
from paybutton.callbacks.schedules import SCHEDULES, check_schedule, schedule_for
from paybutton.clock import Clock
from paybutton.tables import callback_attempts, outbox

Status = Literal["PENDING", "DONE", "DEAD", "NO_URL"]
PENDING: Final = "PENDING"
DONE: Final = "DONE"
DEAD: Final = "DEAD"
NO_URL: Final = "NO_URL"
STATUSES: tuple[Status, ...] = get_args(Status)
REPLAYABLE = (DEAD, DONE)
MAX_PAGE = 200

# The outbox's callback types (each has its retry schedule), and the synchronous extension calls made while the
# buyer waits (they have no outbox row: only the attempts log has them).
CALLBACK_TYPES: tuple[str, ...] = tuple(SCHEDULES)
SYNC_TYPES = ("pre_create_order", "query_marketing_info", "calculate_price", "query_and_calculate")
ATTEMPT_TYPES: tuple[str, ...] = (*SYNC_TYPES, *(k for k in CALLBACK_TYPES if k not in SYNC_TYPES))


class CallbackFilter(TypedDict, total=False):
    """Which callbacks of the log: each key left out (or None) keeps every row."""

    kind: str | None
    status: str | None
    order_id: str | None
    refund_id: str | None


class AttemptFilter(TypedDict, total=False):
    """Which attempts of the log: `ok` True keeps the answered ones (err_no 0); `synchronous` True keeps only the
    synchronous extension calls, False only the outbox's deliveries."""

    kind: str | None
    order_id: str | None
    ok: bool | None
    synchronous: bool | None


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
    conn: AsyncConnection, app_id: str, *, limit: int = 50, cursor: int | None = None, **flt: Unpack[CallbackFilter]
) -> CallbackPage:
    """The app's callbacks, newest first, filtered; `cursor` is the last id of the previous page."""
    c = outbox.c
    columns = {"kind": c.type, "status": c.status, "order_id": c.order_id, "refund_id": c.refund_id}
    q = select(outbox).where(c.app_id == app_id, *(columns[k] == v for k, v in flt.items() if v is not None))
    items, next_cursor = await _newest_first(conn, q, c.id, limit, cursor)
    return CallbackPage(items, next_cursor)


async def _newest_first(
    conn: AsyncConnection, q: Select[Any], id_col: Any, limit: int, cursor: int | None
) -> tuple[list[dict[str, Any]], int | None]:
    """One page of `q` by id, newest first, after `cursor`; and the cursor of the next page (None: no more)."""
    size = max(1, min(limit, MAX_PAGE))
    if cursor is not None:
        q = q.where(id_col < cursor)
    rows = (await conn.execute(q.order_by(id_col.desc()).limit(size + 1))).mappings().all()
    items = [dict(r) for r in rows[:size]]
    return items, int(items[-1]["id"]) if len(rows) > size else None


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
            .where(callback_attempts.c.app_id == app_id, callback_attempts.c.outbox_id == id)
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
    conn: AsyncConnection, app_id: str, *, limit: int = 50, cursor: int | None = None, **flt: Unpack[AttemptFilter]
) -> tuple[list[dict[str, Any]], int | None]:
    """The app's callback attempts, newest first: the outbox's and the synchronous extension calls' (which have no
    outbox row). Returns (rows, next cursor)."""
    c = callback_attempts.c
    q = select(callback_attempts).where(c.app_id == app_id)
    if (kind := flt.get("kind")) is not None:
        q = q.where(c.type == kind)
    if (order_id := flt.get("order_id")) is not None:
        q = q.where(c.order_id == order_id)
    if (ok := flt.get("ok")) is not None:
        q = q.where(c.ok.is_(ok))
    if (synchronous := flt.get("synchronous")) is not None:
        q = q.where(c.outbox_id.is_(None) if synchronous else c.outbox_id.is_not(None))
    return await _newest_first(conn, q, c.id, limit, cursor)
