"""The PostgreSQL order writer's deadlock fallback (issue 19 defect 7): a shared several-goods statement that
crosses another transaction's locks is chosen as the deadlock victim after `deadlock_timeout`; the writer then
takes each good alone, and every order still gets its units exactly once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from test_stock_batches import Shop, _writer

from paybutton.apps import service as app_service
from paybutton.clock import SystemClock
from paybutton.config import Settings
from paybutton.db import Database
from paybutton.order.rows import Goods
from paybutton.tables import goods

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # a PostgreSQL-only path


@pytest.fixture
async def shop(db_url: str) -> AsyncIterator[Shop]:
    db = Database(Settings(database_url=db_url))
    async with db.tx() as conn:
        app = await app_service.create_app(conn, SystemClock(), name="deadlock shop")
    try:
        yield Shop(db, db_url, app["app_id"])
    finally:
        await db.dispose()


async def _deadlocks(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"))


async def test_a_crossed_batch_is_the_deadlock_victim_and_each_good_goes_alone(shop: Shop) -> None:
    await shop.add("a", 10)
    await shop.add("b", 10)
    dsn = make_url(shop.url).set(drivername="postgresql").render_as_string(hide_password=False)
    other = await asyncpg.connect(dsn)
    w = await _writer(shop.url)
    try:
        # The other transaction waits longer before it looks for deadlocks: the writer's statement, which waits
        # first, finds the cycle after the server's deadlock_timeout (1 s) and is the one rolled back.
        await other.execute("SET deadlock_timeout = '30s'")
        before = await _deadlocks(other)
        tx = other.transaction()
        await tx.start()
        await other.execute("UPDATE goods SET updated_at = updated_at + 1 WHERE app_id = $1 AND goods_id = 'b'",
                            shop.app_id)
        t0 = time.monotonic()
        # one batch for two goods: one shared statement, which locks a (the lock order is sorted) and waits for b
        takes = asyncio.gather(w.take(shop.order("a", 2, 1)), w.take(shop.order("b", 3, 2)))
        while not await other.fetchval("SELECT count(*) FROM pg_locks WHERE NOT granted"):
            assert time.monotonic() - t0 < 10, "the writer's statement never waited for b"
            await asyncio.sleep(0.01)
        # now the other transaction wants a: a cycle; the writer's statement is the victim
        await other.execute("UPDATE goods SET updated_at = updated_at + 1 WHERE app_id = $1 AND goods_id = 'a'",
                            shop.app_id)
        await tx.commit()
        got = await asyncio.wait_for(takes, 30)
        waited = time.monotonic() - t0
    finally:
        await w.close()
    assert all(isinstance(g, Goods) for g in got), got
    assert waited >= 1.0, waited  # the deadlock_timeout wait before the fallback
    t1 = time.monotonic()
    while await _deadlocks(other) == before:  # the server counted the deadlock (its statistics lag a little)
        assert time.monotonic() - t1 < 10, "no deadlock was detected"
        await asyncio.sleep(0.1)
    await other.close()
    async with shop.db.engine.connect() as conn:
        stock = dict((await conn.execute(select(goods.c.goods_id, goods.c.stock)
                                         .where(goods.c.app_id == shop.app_id))).all())
    assert stock == {"a": 8, "b": 7}
    assert await shop.sold("a") == (8, 2, 2, 2) and await shop.sold("b") == (7, 3, 3, 3)
