"""The order writer on PostgreSQL: asyncpg directly, each step one prepared statement in its own (implicit)
transaction.

A library good's orders are taken in batches (order/batch.py): one statement per batch takes the sum with an
UPDATE guarded by the row version the plan was made on (`xmin`), and inserts the winners' orders and item
orders, built by order/rows.py. The row each batch leaves is kept, so the next batch of this process plans on
it without a read; when another process changed the row meanwhile the guard misses, and the batch plans again
on the row read with FOR UPDATE in a transaction (so several processes on one hot row always make progress).
An order priced by the merchant (marketing) takes its stock alone (TAKE_ORDER: the four columns that depend on
the goods row, rows.GOODS_COLUMNS, computed in the statement), guarded on the price it was priced at."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from paybutton.db import PG_SESSION_SETTINGS
from paybutton.errors import TradeError
from paybutton.goods.selling import refusal
from paybutton.order import rows, soldout
from paybutton.order.batch import Batcher, from_memory, goods_of, plan, remember
from paybutton.order.pg_stats import StatsRefresh
from paybutton.order.rows import ITEM_COLUMNS, ORDER_COLUMNS, Goods, NewOrder
from paybutton.order.store import ATTEMPT_COLUMNS
from paybutton.order.store_pg import (
    ACCEPT_NAMES,
    ACCEPT_SQL,
    ACCEPTS_NAMES,
    ACCEPTS_SQL,
    ALONE_NAMES,
    ALONE_SQL,
    INSERT_NAMES,
    INSERT_SQL,
    LOCK_SQL,
    MANY_NAMES,
    MANY_SQL,
    READ_MANY_SQL,
    READ_SQL,
    TAKE_NAMES,
    TAKE_SQL,
)
from paybutton.order.writer import (
    Acceptance,
    DuplicateOutOrderNo,
    OrderPathCounters,
    accept_params,
    counters,
)
from paybutton.telemetry import metrics

_NO_GOODS = Goods(name="", photo_url="", price=0, labels="[]", date_rule="", biz_line=0)


def take_params(o: NewOrder) -> dict[str, Any]:
    """The take statement's parameters: the order row without its goods columns, and the guard's values."""
    params: dict[str, Any] = dict(rows.order_row(o, _NO_GOODS))
    params.update(q=o.quantity, now=o.now, has_phone=o.phone_num is not None, price=o.price,
                  item_ids=o.item_ids, item_prices=None if o.price is None else rows.item_prices(o, o.price))
    return params


async def _keep_session(conn: asyncpg.Connection) -> None:
    """No reset query on release: these statements leave no session state (no SET, LISTEN, advisory lock or
    open transaction), and asyncpg's default reset costs a round trip to the server per statement."""


Key = tuple[str, str]
ORDERS_POOL_IN_USE = metrics.DB_POOL_IN_USE.labels(pool="orders")


class PostgresWriter:
    def __init__(self, pool: asyncpg.Pool, dsn: str) -> None:
        self.pool = pool
        self.soldout = soldout.SoldOut()
        self._watcher = soldout.start_watcher(self.soldout, dsn)
        # Batches are per app: each statement names its one app (on Citus, routed to that app's node).
        self._batches: Batcher[str, NewOrder, Goods] = Batcher(self._take_batch, kind="take")
        self.replans = 0  # batches that could not use the row their process last left (another process wrote)
        self._seen: dict[Key, dict[str, Any]] = {}  # the goods row as this process's last batch left it
        self._accepts: Batcher[str, Acceptance, bool] = Batcher(self._accept_batch, kind="accept")
        self.stats = StatsRefresh(pool)  # the planner's statistics while a new database fills up

    @contextlib.asynccontextmanager
    async def _acquire(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection of the order path's pool, counted (paybutton_db_pool_in_use{pool="orders"})."""
        async with self.pool.acquire() as conn:
            ORDERS_POOL_IN_USE.inc()
            try:
                yield conn
            finally:
                ORDERS_POOL_IN_USE.dec()

    @classmethod
    async def open(cls, database_url: str, size: int) -> PostgresWriter:
        u = make_url(database_url)
        dsn = u.set(drivername="postgresql").render_as_string(hide_password=False)
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=size, reset=_keep_session,
                                         server_settings=PG_SESSION_SETTINGS)
        metrics.DB_POOL_SIZE.labels(pool="orders").set(size)
        return cls(pool, database_url)

    async def take(self, o: NewOrder) -> Goods:
        from_memory(self.soldout, o)
        if o.price is not None:
            async with self._acquire() as conn:
                g = await self._take_one(conn, o)
        else:
            g = await self._batches.submit(o.app_id, o)
        self.stats.wrote(1)
        return g

    async def _take_one(self, conn: asyncpg.Connection, o: NewOrder) -> Goods:
        """One order, its own guarded statement (the price priced, or a batch that kept missing)."""
        p = take_params(o)
        row = await conn.fetchrow(TAKE_SQL, *[p[n] for n in TAKE_NAMES])
        if row is not None:
            return Goods(*row)
        raise refusal(await self._read(conn, (o.app_id, o.goods_id)), o.goods_id, o.now, o.quantity,
                      o.phone_num is not None)

    async def _read(self, conn: asyncpg.Connection, key: Key, sql: str = "") -> dict[str, Any] | None:
        row = await conn.fetchrow(sql or READ_SQL, key[0], key[1])
        return None if row is None else dict(row)

    async def _take_batch(self, app_id: str, batch: list[NewOrder]) -> list[Goods | TradeError]:
        """Every good of the batch (one app's) whose row this process knows goes in one shared statement; the
        others (and any whose row another process changed meanwhile) each on their own, at the same time."""
        token = self.soldout.begin()
        groups: dict[Key, list[int]] = {}
        for n, o in enumerate(batch):
            groups.setdefault((o.app_id, o.goods_id), []).append(n)
        results: dict[int, Goods | TradeError] = {}
        left = list(groups)
        if len(groups) > 1:
            async with self._acquire() as conn:
                left = await self._take_many(conn, app_id, batch, groups, token, results)

        async def alone(key: Key) -> None:
            ns = groups[key]
            async with self._acquire() as conn:
                got = await self._take_group(conn, key, [batch[n] for n in ns], token)
            results.update(zip(ns, got, strict=True))

        if len(left) == 1:
            await alone(left[0])  # one good (the hot one): no task for it
        else:
            await asyncio.gather(*(alone(k) for k in left))
        return [results[n] for n in range(len(batch))]

    async def _take_many(self, conn: asyncpg.Connection, app_id: str, batch: list[NewOrder],
                         groups: dict[Key, list[int]], token: int, results: dict[int, Goods | TradeError]) -> list[Key]:
        """Several goods in one statement, each guarded by the version its plan read: planned on the rows this
        process's batches left, the others read first in one statement; the goods whose row another process
        changed meanwhile are read and planned once more. The keys still to take (each then on its own)."""
        todo = sorted(groups)  # one lock order for every process (fewer lock waits between them)
        for _ in range(2):
            unknown = [k for k in todo if k not in self._seen]
            if unknown:
                self._seen.update(await self._read_many(conn, app_id, unknown))
            plans: dict[Key, tuple[dict[str, Any], list[NewOrder], list[TradeError | None]]] = {}
            for key in todo:
                row = self._seen.get(key)
                if row is not None:
                    orders_of = [batch[n] for n in groups[key]]
                    outcomes = plan(row, key[1], orders_of)
                    if any(r is None for r in outcomes):
                        plans[key] = (row, orders_of, outcomes)
            if not plans:
                break
            for key in plans:
                del self._seen[key]
            try:
                afters = await self._write_many(conn, app_id, plans)
            except asyncpg.DeadlockDetectedError:  # two processes' shared statements crossed: each good alone
                break
            for key, after in afters.items():
                results.update(zip(groups[key], self._taken(key, token, after, plans[key][2]), strict=True))
            self.replans += len(plans) - len(afters)
            todo = [k for k in todo if k not in afters]
            if len(afters) == len(plans):
                break
        return todo

    async def _read_many(self, conn: asyncpg.Connection, app_id: str, keys: list[Key]) -> dict[Key, dict[str, Any]]:
        got = await conn.fetch(READ_MANY_SQL, app_id, [k[1] for k in keys])
        return {(r["app_id"], r["goods_id"]): dict(r) for r in got}

    async def _take_group(self, conn: asyncpg.Connection, key: Key, batch: list[NewOrder],
                          token: int) -> list[Goods | TradeError]:
        """One good's orders: alone (its own guarded statement), or planned on the row this process's last batch
        left (else on the row read now) and taken in one statement guarded by its version; when another process
        changed the row in between, planned on the row read and locked until commit."""
        if len(batch) == 1:
            return [await self._take_alone(conn, key, batch[0], token)]
        row, fresh = self._seen.pop(key, None), False
        for _ in range(2):
            if row is None:
                row, fresh = await self._read(conn, key), True
            outcomes = plan(row, key[1], batch)
            if row is None or all(r is not None for r in outcomes):
                if fresh:  # nothing fits the row as it is now: the refusals stand
                    return self._taken(key, token, row, outcomes)
                row = None  # planned on this process's last row: read it before refusing
                continue
            after = await self._write(conn, key, row, batch, outcomes)
            if after is not None:
                return self._taken(key, token, after, outcomes)
            self.replans += 1
            row = None
        async with conn.transaction():
            row = await self._read(conn, key, LOCK_SQL)
            outcomes = plan(row, key[1], batch)
            after = row
            if row is not None and any(r is None for r in outcomes):
                after = await self._write(conn, key, row, batch, outcomes)
                if after is None:
                    raise RuntimeError("the goods row changed under its lock")
        return self._taken(key, token, after, outcomes)

    async def _take_alone(self, conn: asyncpg.Connection, key: Key, o: NewOrder, token: int) -> Goods | TradeError:
        p = take_params(o)
        row = await conn.fetchrow(ALONE_SQL, *[p[n] for n in ALONE_NAMES])
        if row is not None:
            return self._taken(key, token, dict(row), [None])[0]
        now = await self._read(conn, key)
        refused = refusal(now, o.goods_id, o.now, o.quantity, o.phone_num is not None)
        self._taken(key, token, now, [refused])
        return refused

    def _taken(self, key: Key, token: int, after: dict[str, Any] | None,
               outcomes: list[TradeError | None]) -> list[Goods | TradeError]:
        """The batch's answers; `after` is the row as the batch left it (None: no such good, all refused)."""
        if after is None:
            return [r if r is not None else TradeError("GOODS_NOT_FOUND", key[1]) for r in outcomes]
        self._seen[key] = after
        remember(self.soldout, token, outcomes, after)
        g = goods_of(after)
        return [g if r is None else r for r in outcomes]

    async def _write(self, conn: asyncpg.Connection, key: Key, row: dict[str, Any], batch: list[NewOrder],
                     outcomes: list[TradeError | None]) -> dict[str, Any] | None:
        """One good's batch: the shared statement with one good; None when its version is no longer the planned
        one."""
        return (await self._write_many(conn, key[0], {key: (row, batch, outcomes)})).get(key)

    async def _write_many(self, conn: asyncpg.Connection, app_id: str, plans: dict[Key, tuple[dict[str, Any],
                          list[NewOrder], list[TradeError | None]]]) -> dict[Key, dict[str, Any]]:
        """One statement for several goods of one app: each good's sum, guarded by its version, and its winners'
        rows. The rows as left, by good (a good whose version moved is missing: none of its orders were written)."""
        p: dict[str, Any] = {f"g_{c}": [] for c in ("app_id", "goods_id", "total", "version", "now")}
        p["app_id"] = app_id
        order_rows: list[Mapping[str, Any]] = []
        items: list[Mapping[str, Any]] = []
        for (app_id, goods_id), (row, batch, outcomes) in plans.items():
            winners = [o for o, r in zip(batch, outcomes, strict=True) if r is None]
            g = goods_of(row)
            order_rows += [rows.order_row(o, g) for o in winners]
            items += [i for o in winners for i in rows.item_rows(o, g.price)]
            for k, v in (("app_id", app_id), ("goods_id", goods_id), ("total", sum(o.quantity for o in winners)),
                         ("version", row["version"]), ("now", max(o.now for o in winners))):
                p[f"g_{k}"].append(v)
        p.update({f"o_{c}": [r[c] for r in order_rows] for c in ORDER_COLUMNS})
        p.update({f"i_{c}": [i[c] for i in items] for c in ITEM_COLUMNS})
        got = await conn.fetch(MANY_SQL, *[p[n] for n in MANY_NAMES])
        return {(r["app_id"], r["goods_id"]): dict(r) for r in got}

    async def insert(self, o: NewOrder, g: Goods) -> None:
        p: dict[str, Any] = {**rows.order_row(o, g), "now": o.now, "item_ids": o.item_ids,
                             "item_prices": rows.item_prices(o, g.price)}
        async with self._acquire() as conn:
            await conn.execute(INSERT_SQL, *[p[n] for n in INSERT_NAMES])
        self.stats.wrote(1)

    async def accept(self, a: Acceptance) -> bool:
        return await self._accepts.submit(a.app_id, a)

    async def _accept_one(self, conn: asyncpg.Connection, a: Acceptance) -> bool | Exception:
        p = accept_params(a)
        try:
            return bool(await conn.fetchval(ACCEPT_SQL, *[p[n] for n in ACCEPT_NAMES]))
        except asyncpg.UniqueViolationError:
            return DuplicateOutOrderNo(a.out_order_no)

    async def _accept_batch(self, app_id: str, batch: list[Acceptance]) -> list[bool | Exception]:
        """Every acceptance that arrived during the previous one's round trip, in one statement (a duplicate
        out_order_no in it fails the statement: then each goes alone, and only that one fails)."""
        async with self._acquire() as conn:
            if len(batch) == 1:
                return [await self._accept_one(conn, batch[0])]
            logged = [a for a in batch if a.attempt]
            p: dict[str, Any] = {"app_id": app_id, "order_id": [a.order_id for a in batch],
                                 "out_order_no": [a.out_order_no for a in batch],
                                 "expire_at": [a.expire_at for a in batch], "schema": [a.schema for a in batch],
                                 "now": [a.now for a in batch]}
            p.update({f"a_{c}": [(a.attempt or {}).get(c) for a in logged] for c in ATTEMPT_COLUMNS})
            try:
                done = {r[0] for r in await conn.fetch(ACCEPTS_SQL, *[p[n] for n in ACCEPTS_NAMES])}
            except asyncpg.UniqueViolationError:
                return [await self._accept_one(conn, a) for a in batch]
        return [a.order_id in done for a in batch]

    def order_path_counters(self) -> OrderPathCounters:
        return counters(self.soldout, self._batches, self._accepts)

    async def close(self) -> None:
        await self._accepts.close()
        await self._batches.close()
        await self.stats.close()
        await self._watcher.close()
        await self.pool.close()
