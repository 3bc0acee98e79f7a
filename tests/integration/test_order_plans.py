"""The PostgreSQL order writer's batch statements read the rows of their batch, not the app's (order/store_pg.py,
order/pg_stats.py).

TAKE_MANY (several goods of one app in one statement) and ACCEPT_BATCH (the merchant's acceptances of one app) name
the app (`app_id = :app_id`, for Citus's routing). With only that and a join to the batch, PostgreSQL planned
TAKE_MANY on a shop of 200 goods as a nested loop that read the whole catalogue and re-ran the batch's unnest once
per good (1.8 ms a statement instead of 0.2): `make bench`'s "many" scenario spent 70 % more PostgreSQL CPU per
order. The statement now also bounds the goods by the batch's own array (`= ANY(...)`), which the primary key
answers. And a new database's statistics say "empty" until autovacuum's first round: ACCEPT_BATCH was then planned
as a bitmap over every pending order of the app, re-read for each batch; the writer now refreshes the statistics
itself while the tables fill up. These tests run EXPLAIN ANALYZE and count the rows each plan node reads."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from prometheus_client import REGISTRY
from sqlalchemy.engine import make_url

from paybutton import ids
from paybutton.apps import service as app_service
from paybutton.clock import SystemClock
from paybutton.config import Settings
from paybutton.db import Database
from paybutton.goods import service as goods_service
from paybutton.order.rows import NewOrder
from paybutton.order.states import PreOrder
from paybutton.order.store_pg import ACCEPTS_NAMES, ACCEPTS_SQL, MANY_NAMES, MANY_SQL
from paybutton.order.writer_pg import PostgresWriter
from paybutton.order.writer_registry import open_writer

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # PostgreSQL's planner

GOODS, BATCH = 250, 17


def _pending(app_id: str, goods_id: str, n: int, now: int) -> NewOrder:
    oid = ids.order_id()
    return NewOrder(order_id=oid, app_id=app_id, open_id=f"buyer{n}", goods_id=goods_id, goods_type=1, quantity=1,
                    phone_num=None, contact_name=None, cp_extra=None, out_order_no=None,
                    pre_order_status=PreOrder.PENDING.value, delivery_type=0, pay_expire_ms=600_000,
                    item_ids=ids.item_order_ids(1), now=now)


@pytest.fixture
async def shop(db_url: str) -> AsyncIterator[tuple[asyncpg.Connection, str, str]]:
    """A shop of GOODS goods, its statistics as `paybutton db upgrade` leaves a new database's (analysed empty),
    and nothing sold yet: a raw connection, the database URL and the app id."""
    dsn = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    raw = await asyncpg.connect(dsn)
    await raw.execute("ANALYZE goods; ANALYZE orders; ANALYZE item_orders")  # empty, as after `db upgrade`
    db = Database(Settings(database_url=db_url))
    clock = SystemClock()
    async with db.tx() as conn:
        app_id = (await app_service.create_app(conn, clock, name="plans"))["app_id"]
        for n in range(GOODS):
            await goods_service.create_goods(conn, clock, app_id=app_id, goods_id=f"g{n:03d}", name=f"g{n}",
                                             price=100, stock=10**6, max_limits=5)
    await db.dispose()
    try:
        yield raw, db_url, app_id
    finally:
        await raw.close()


async def _sell(url: str, app_id: str, orders: int, first_check: int) -> PostgresWriter:
    """`orders` pending orders (the merchant has not answered yet) of one unit over the GOODS goods, through the
    real order writer (batches); the writer is returned open, with its statistics refresher checking first at
    `first_check` orders."""
    w = await open_writer(url, 4)
    assert isinstance(w, PostgresWriter)
    w.stats.next_check = first_check
    now = SystemClock().now_ms()
    for start in range(0, orders, 2000):  # taken as the server takes them: many at once, in batches
        await asyncio.gather(*(w.take(_pending(app_id, f"g{n % GOODS:03d}", n, now))
                               for n in range(start, min(orders, start + 2000))))
    return w


def _refreshed() -> float:
    """ANALYZEs the order writers of this process ran (GET /metrics: paybutton_order_stats_refreshed_total)."""
    return REGISTRY.get_sample_value("paybutton_order_stats_refreshed_total") or 0.0


def _work(node: dict[str, Any]) -> int:
    """Rows read by a plan and its sub-plans: each node's rows out and rows it filtered away, times its loops."""
    loops = int(node.get("Actual Loops", 1))
    own = sum(int(node.get(k, 0)) for k in ("Actual Rows", "Rows Removed by Filter", "Rows Removed by Join Filter",
                                             "Rows Removed by Index Recheck"))
    return own * loops + sum(_work(child) for child in node.get("Plans", []))


async def _explain(conn: asyncpg.Connection, mode: str, sql: str, args: list[Any]) -> int:
    tx = conn.transaction()
    await tx.start()
    try:
        await conn.execute(f"SET LOCAL plan_cache_mode = {mode}")
        plan = await conn.fetchval("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, *args)
    finally:
        await tx.rollback()  # EXPLAIN ANALYZE ran the statement: nothing of it stays
    return _work((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])


async def _accept_work(conn: asyncpg.Connection, app_id: str, mode: str) -> int:
    """Rows read to accept BATCH of the app's newest pending orders in one statement."""
    oids = [r[0] for r in await conn.fetch(
        "SELECT order_id FROM orders WHERE app_id = $1 ORDER BY created_at DESC, order_id LIMIT $2", app_id, BATCH)]
    p: dict[str, Any] = {n: [] for n in ACCEPTS_NAMES}
    p.update(app_id=app_id, order_id=oids, out_order_no=[f"m{i}" for i in oids], expire_at=[0] * BATCH,
             schema=[None] * BATCH, now=[0] * BATCH)
    return await _explain(conn, mode, ACCEPTS_SQL, [p[n] for n in ACCEPTS_NAMES])


@pytest.mark.parametrize("mode", ["force_generic_plan", "force_custom_plan"])
async def test_take_many_reads_its_goods_not_the_catalogue(shop: tuple[asyncpg.Connection, str, str],
                                                           mode: str) -> None:
    conn, _, app_id = shop
    rows = await conn.fetch("SELECT goods_id, xmin::text FROM goods WHERE app_id = $1 ORDER BY goods_id LIMIT $2",
                            app_id, BATCH)
    p: dict[str, Any] = {n: [] for n in MANY_NAMES}
    p.update(app_id=app_id, g_app_id=[app_id] * BATCH, g_goods_id=[r[0] for r in rows], g_total=[1] * BATCH,
             g_version=[r[1] for r in rows], g_now=[SystemClock().now_ms()] * BATCH)
    work = await _explain(conn, mode, MANY_SQL, [p[n] for n in MANY_NAMES])
    # on a new database's statistics: the catalogue once at most (a small shop's goods are cheaper scanned than
    # looked up) plus the batch; never the catalogue times the batch (the nested loop read 8,784 rows here)
    assert work <= 2 * GOODS + 10 * BATCH, f"{work} rows read to take {BATCH} goods of {GOODS}"


async def test_a_new_databases_statistics_are_refreshed_by_the_writer(shop: tuple[asyncpg.Connection, str, str]) \
        -> None:
    conn, url, app_id = shop
    # the premise: 20,000 orders sold on the statistics of an empty database (no refresh), and accepting 17 of
    # them reads every pending order of the app
    before = _refreshed()
    w = await _sell(url, app_id, 20_000, first_check=10**9)
    try:
        stale = await _accept_work(conn, app_id, "force_generic_plan")
        assert stale > 5_000, f"the stale plan read only {stale} rows: this test no longer shows the premise"
        assert _refreshed() == before
        # the refresher's first look: its count outnumbers twice what the statistics know (0): ANALYZE
        w.stats.next_check = w.stats.written + 1
        now = SystemClock().now_ms()
        await asyncio.gather(*(w.take(_pending(app_id, "g000", n, now)) for n in range(3)))
        for _ in range(200):
            if _refreshed() > before:
                break
            await asyncio.sleep(0.05)
        assert _refreshed() == before + 1
        assert w.stats.next_check == 2 * (20_000 + 1)  # doubling: a handful of ANALYZEs over a database's life
    finally:
        await w.close()
    assert await conn.fetchval("SELECT reltuples FROM pg_class WHERE oid = 'orders'::regclass") >= 10_000
    for mode in ("force_generic_plan", "force_custom_plan"):
        work = await _accept_work(conn, app_id, mode)
        assert work <= 10 * BATCH, f"{mode}: {work} rows read to accept {BATCH} of the app's 20,000 pending orders"


async def test_statistics_already_current_are_left_alone(shop: tuple[asyncpg.Connection, str, str]) -> None:
    """Once autovacuum keeps up, a check finds the statistics current and runs nothing."""
    conn, url, app_id = shop
    before = _refreshed()
    w = await _sell(url, app_id, 1_200, first_check=10**9)
    try:
        await conn.execute("ANALYZE orders")
        w.stats.next_check = w.stats.written + 1
        await w.take(_pending(app_id, "g001", 0, SystemClock().now_ms()))
        for _ in range(40):
            await asyncio.sleep(0.05)
            if w.stats.next_check > w.stats.written + 1 and w.stats._task is None:
                break
        assert _refreshed() == before
        assert w.stats.next_check == 2 * (1_200 + 1)
    finally:
        await w.close()
