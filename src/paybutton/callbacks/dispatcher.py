"""The callback dispatcher: claim due outbox rows under a lease, POST the signed stored bytes, log every
attempt, then settle each row (DONE, retry per its schedule, or DEAD) with a guarded update."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from paybutton import ids
from paybutton.callbacks.body import compact
from paybutton.callbacks.delivery import ANSWER_HEAD, Delivery, judge, lease_ms
from paybutton.callbacks.outbox import DEAD, DONE, PENDING
from paybutton.callbacks.schedules import next_delay
from paybutton.callbacks.targets import urls_now
from paybutton.context import Ctx
from paybutton.kernel.outbound import CallbackTimeout
from paybutton.loop import run_every
from paybutton.tables import callback_attempts, outbox
from paybutton.telemetry import metrics

log = logging.getLogger("paybutton.callbacks")

NO_URL_NOW = "no URL: the app has no URL for this callback now"
CONCURRENCY = 16


@dataclass(frozen=True)
class Claimed:
    """A row this worker holds the lease on."""

    id: int
    app_id: str
    type: str
    url: str | None  # as queued; `_claim` puts the URL of this attempt (the app's as it is now) in its place
    identify_name: str
    body: str
    order_id: str | None
    schedule: str
    attempts: int
    refund_id: str | None = None


def _due(now: int) -> ColumnElement[bool]:
    lease_free = or_(outbox.c.locked_until.is_(None), outbox.c.locked_until <= now)
    return and_(outbox.c.status == PENDING, outbox.c.next_attempt_at <= now, lease_free)


async def _claim(ctx: Ctx, worker_id: str, limit: int) -> list[Claimed]:
    """Lease up to `limit` due rows in one guarded statement (SKIP LOCKED on PostgreSQL): a sweep over every app
    (multi-shard on Citus by nature); each row is then settled by its app and id."""
    now = ctx.clock.now_ms()
    # Look before claiming: an idle poll must not take SQLite's write lock (the order path needs it).
    async with ctx.db.engine.connect() as conn:
        if (await conn.execute(select(outbox.c.id).where(_due(now)).limit(1))).first() is None:
            return []
    order = (outbox.c.next_attempt_at, outbox.c.id)
    ids_due = select(outbox.c.id).where(_due(now)).order_by(*order).limit(limit)
    picked: ColumnElement[bool]
    if ctx.db.is_sqlite:
        picked = outbox.c.id.in_(ids_due)
    else:
        # A materialised CTE, not `id IN (subquery)`: PostgreSQL may rescan an IN subquery (a nested loop), and
        # each rescan under SKIP LOCKED returns rows not yet taken, so one claim leased far more than `limit`.
        due = ids_due.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED")
        picked = outbox.c.id == due.c.id
    stmt = (
        update(outbox)
        .where(picked, _due(now))
        .values(locked_by=worker_id, locked_until=now + lease_ms(ctx.settings.callback_timeout_seconds), updated_at=now)
        .returning(
            outbox.c.id, outbox.c.app_id, outbox.c.type, outbox.c.url, outbox.c.identify_name, outbox.c.body,
            outbox.c.order_id, outbox.c.schedule, outbox.c.attempts, outbox.c.refund_id,
        )
    )
    async with ctx.db.tx() as conn:
        claimed = [Claimed(*r) for r in (await conn.execute(stmt)).all()]
        urls = await urls_now(conn, claimed)  # the app's URL as it is at this attempt
    return sorted((replace(c, url=u) for c, u in zip(claimed, urls, strict=True)), key=lambda c: c.id)


async def _post(ctx: Ctx, row: Claimed, logid: str) -> Delivery:
    if not row.url:  # the merchant removed the URL since: nothing is sent anywhere, the schedule goes on
        return Delivery(False, error=NO_URL_NOW)
    body = row.body.encode()
    signed = (await ctx.fresh_signer()).sign(body, ctx.clock.now_ms() // 1000)
    headers = signed.as_headers(row.identify_name, logid)
    timeout = ctx.settings.callback_timeout_seconds
    try:
        resp = await ctx.http.post(row.url, content=body, headers=headers, budget=timeout)
    except CallbackTimeout:
        return Delivery(False, error=f"timeout after {timeout}s")
    except Exception as e:  # any failure to deliver is a failed attempt, never a dead worker
        return Delivery(False, error=f"{type(e).__name__}: {e}"[:ANSWER_HEAD])
    return judge(resp)


def settlement(row: Claimed, outcome: Delivery, now: int) -> dict[str, Any]:
    """The new values for the row: DONE, PENDING again later, or DEAD when the schedule is exhausted."""
    attempts = row.attempts + 1
    values: dict[str, Any] = {
        "attempts": attempts, "locked_by": None, "locked_until": None, "updated_at": now,
        **({"url": row.url} if row.url else {}),  # where it went last: the log shows it with the queued one
        "last_http_status": outcome.http_status, "last_answer_head": outcome.head,
        "last_error": outcome.error,
    }
    if outcome.ok:
        data = None if outcome.data is None else compact(outcome.data)
        return {**values, "status": DONE, "answer_data": data}
    delay = next_delay(row.schedule, attempts)
    if delay is None:
        return {**values, "status": DEAD}
    return {**values, "status": PENDING, "next_attempt_at": now + delay * 1000}


async def _settle(
    ctx: Ctx, row: Claimed, worker_id: str, outcome: Delivery, logid: str, started: int, duration_ms: int
) -> None:
    """Log the attempt and settle the row, only if this worker still holds its lease. Attempts are numbered on
    from the callback's earlier ones (a replay's first attempt after 21 is 22), whatever its schedule's count."""
    earlier = select(func.coalesce(func.max(callback_attempts.c.attempt), 0) + 1).where(
        callback_attempts.c.app_id == row.app_id, callback_attempts.c.outbox_id == row.id).scalar_subquery()
    attempt = {
        "outbox_id": row.id, "app_id": row.app_id, "type": row.type, "order_id": row.order_id,
        "attempt": earlier, "url": row.url, "logid": logid, "started_at": started,
        "duration_ms": duration_ms, "http_status": outcome.http_status, "ok": outcome.ok,
        "answer_head": outcome.head, "error": outcome.error,
    }
    guard = and_(outbox.c.app_id == row.app_id, outbox.c.id == row.id, outbox.c.locked_by == worker_id,
                 outbox.c.status == PENDING)
    async with ctx.db.tx() as conn:
        await conn.execute(callback_attempts.insert().values(**attempt))
        result = await conn.execute(
            update(outbox).where(guard).values(**settlement(row, outcome, ctx.clock.now_ms()))
        )
    if not result.rowcount:
        log.warning("callback %s: lease lost by %s before settling", row.id, worker_id)


async def _deliver(ctx: Ctx, row: Claimed, worker_id: str) -> None:
    logid = ids.logid()
    started = ctx.clock.now_ms()
    t0 = time.perf_counter()
    outcome = await _post(ctx, row, logid)
    seconds = time.perf_counter() - t0
    duration_ms = int(seconds * 1000)
    metrics.CALLBACK_DELIVERY.labels(type=row.type, result="delivered" if outcome.ok else "failed").observe(seconds)
    await _settle(ctx, row, worker_id, outcome, logid, started, duration_ms)


async def dispatch_due(ctx: Ctx, *, worker_id: str, limit: int = 32) -> int:
    """Claim up to `limit` due callbacks and deliver them concurrently; return how many were processed.

    No transaction is open during the HTTP calls: the claim commits first, each settlement is its own."""
    rows = await _claim(ctx, worker_id, limit)
    if not rows:
        return 0
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(row: Claimed) -> None:
        async with gate:
            await _deliver(ctx, row, worker_id)

    results = await asyncio.gather(*(one(r) for r in rows), return_exceptions=True)
    for row, res in zip(rows, results, strict=True):
        if isinstance(res, BaseException):
            # The row keeps its lease and is retried once the lease runs out.
            log.error("callback %s: could not be settled", row.id, exc_info=res)
    return len(rows)


async def run_dispatcher(
    ctx: Ctx, *, worker_id: str, stop: asyncio.Event | None = None, limit: int = 32
) -> None:
    """Dispatch every `dispatch_interval_seconds` (at once again after a full batch) until `stop` is set.

    Any error is logged and the loop goes on: a database hiccup must not stop callbacks for good."""

    async def step() -> bool:
        return await dispatch_due(ctx, worker_id=worker_id, limit=limit) >= limit

    await run_every(f"callback dispatcher {worker_id}", step, lambda: ctx.settings.dispatch_interval_seconds, stop)


async def release_claims(ctx: Ctx, worker_id: str) -> int:
    """End `worker_id`'s leases on rows still PENDING (a stopping server): due again now, for any instance."""
    async with ctx.db.tx() as conn:
        result = await conn.execute(update(outbox).where(outbox.c.locked_by == worker_id, outbox.c.status == PENDING,
                                                         outbox.c.locked_until.is_not(None))
                                    .values(locked_until=None, locked_by=None, updated_at=ctx.clock.now_ms()))
    return int(result.rowcount or 0)
