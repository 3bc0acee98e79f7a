"""The planner's statistics of the order tables, refreshed by the order writer while a new database fills up
(PostgreSQL only).

`paybutton db upgrade` analyses the tables it creates (db.upgrade), so a new installation starts with statistics
that say "empty", and autovacuum refreshes them only on its next round, up to `autovacuum_naptime` (1 minute by
default) into the first sales. Meanwhile PostgreSQL guesses 0.5 % of the rows for `app_id = ...` and for
`status = 'INIT'`, and the writer's batch acceptance (store_pg.ACCEPT_BATCH) was planned as a bitmap over every
pending order of the app, re-read for each batch: 6 ms a statement at 15,000 orders, growing with them, instead
of 0.2 ms (`make bench` on PostgreSQL, auto_explain). So the writer counts the orders it writes, and when they
outnumber twice what the statistics know it runs ANALYZE on the tables the order path plans on, in the
background; the next check is at twice the count. That is a handful of ANALYZEs over a database's life (each
samples at most 30,000 rows); once autovacuum keeps up, a check finds the statistics current and does nothing."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg

from paybutton.telemetry import metrics

log = logging.getLogger("paybutton.order.pg_stats")

TABLES = ("orders", "item_orders", "goods")  # what the order writer's statements plan on
FIRST_CHECK = 1000  # orders written by this process before the first look at the statistics


class StatsRefresh:
    """One per order writer: `wrote(n)` after each write; closes with the writer."""

    def __init__(self, pool: asyncpg.Pool, first_check: int = FIRST_CHECK) -> None:
        self.pool = pool
        self.written = 0
        self.next_check = first_check
        self._task: asyncio.Task[None] | None = None

    def wrote(self, n: int) -> None:
        self.written += n
        if self.written >= self.next_check and self._task is None:
            self.next_check = 2 * self.written
            self._task = asyncio.create_task(self._check(self.written), name="paybutton-order-stats")

    async def _check(self, written: int) -> None:
        try:
            async with self.pool.acquire() as conn:
                known = await conn.fetchval("SELECT reltuples FROM pg_class WHERE oid = 'orders'::regclass")
                if known is None or known < written / 2:
                    await conn.execute(f"ANALYZE {', '.join(TABLES)}")
                    metrics.ORDER_STATS_REFRESHED.inc()
                    log.info("refreshed the order tables' statistics: %d orders written here, %d known",
                             written, int(known or 0))
        except (asyncpg.PostgresError, OSError) as e:  # e.g. a role that does not own the tables: autovacuum's job
            log.warning("could not refresh the order tables' statistics: %s: %s", type(e).__name__, e)
            self.next_check = 2**62  # once is enough to say so
        finally:
            self._task = None

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
