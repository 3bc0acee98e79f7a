"""Sold-out memory (paybutton.order.soldout): a good the database said is sold out is answered from memory; a
restock committed by ANOTHER process reopens it here within 1 s (PostgreSQL: LISTEN/NOTIFY; SQLite: the poll);
a listener that loses its connection stops answering from memory, reconnects and forgets what it may have missed."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from paybutton.apps import service as app_service
from paybutton.clock import SystemClock
from paybutton.config import Settings
from paybutton.db import Database
from paybutton.goods import service as goods_service
from paybutton.goods.reopened import notify_reopen
from paybutton.order.soldout import Mark, PgListener, SoldOut, SqlitePoller, start_watcher
from paybutton.tables import goods

# The other process: restock (stock 5) and notify in ONE transaction, as a restock of the goods service does,
# then print the wall-clock time of the commit.
RESTOCK = """
import asyncio, sys, time
from paybutton.clock import SystemClock
from paybutton.config import Settings
from paybutton.db import Database
from paybutton.goods import service
from paybutton.goods.reopened import notify_reopen

async def main(url, app_id, goods_id):
    db = Database(Settings(database_url=url))
    async with db.tx() as conn:
        await service.update_goods(conn, SystemClock(), app_id=app_id, goods_id=goods_id, stock=5)
        await notify_reopen(conn, app_id, goods_id)
    print(time.time(), flush=True)
    await db.dispose()

asyncio.run(main(*sys.argv[1:]))
"""


@dataclass
class Shop:
    db: Database
    url: str
    app_id: str
    registry: SoldOut
    watcher: PgListener | SqlitePoller

    async def add(self, goods_id: str, stock: int) -> None:
        async with self.db.tx() as conn:
            await goods_service.create_goods(conn, SystemClock(), app_id=self.app_id, goods_id=goods_id,
                                             name=goods_id, price=100, stock=stock, max_limits=10)

    async def mark(self, goods_id: str) -> bool:
        """What the order path does when its guarded update took nothing: token, read the row, mark."""
        token = self.registry.begin()
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(select(goods).where(goods.c.app_id == self.app_id,
                                                          goods.c.goods_id == goods_id))).one()
        assert row.stock == 0
        return self.registry.mark(token, Mark.from_row(row._mapping))

    def answer(self, goods_id: str, quantity: int = 1) -> bool:
        return self.registry.answer(self.app_id, goods_id, quantity, SystemClock().now_ms(), False) is not None


@pytest.fixture
async def shop(db_url: str) -> AsyncIterator[Shop]:
    db = Database(Settings(database_url=db_url))
    async with db.tx() as conn:
        app = await app_service.create_app(conn, SystemClock(), name="sold-out shop")
    registry = SoldOut()
    watcher = start_watcher(registry, db_url)
    await asyncio.wait_for(watcher.ready.wait(), 10)
    try:
        yield Shop(db, db_url, app["app_id"], registry, watcher)
    finally:
        await watcher.close()
        await db.dispose()


async def wait_until(cond: Callable[[], bool], within: float) -> float:
    """Seconds until cond() is true (fails after `within` seconds)."""
    t0 = time.monotonic()
    while not cond():
        assert time.monotonic() - t0 < within, "condition not met in time"
        await asyncio.sleep(0.01)
    return time.monotonic() - t0


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}


async def test_marked_good_is_answered_from_memory(shop: Shop) -> None:
    await shop.add("gone", 0)
    assert not shop.answer("gone")  # nothing known yet: the database answers
    assert await shop.mark("gone")
    assert shop.answer("gone") and shop.answer("gone", 2)
    assert not shop.answer("gone", 11)  # outside the limits: the database says QUANTITY_OUT_OF_LIMITS
    assert not shop.answer("other")
    shop.registry.answered_by_database()
    c = shop.registry.counters()
    assert (c["sold_out_from_memory"], c["sold_out_from_database"], c["goods_marked_sold_out"]) == (2, 1, 1)
    assert c["memory_sure"]


async def test_restock_in_another_process_reopens_within_1s(shop: Shop) -> None:
    await shop.add("flash", 0)
    assert await shop.mark("flash")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RESTOCK, shop.url, shop.app_id, "flash",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=child_env())
    line = await asyncio.wait_for(proc.stdout.readline(), 60) if proc.stdout else b""
    assert line, (await proc.communicate())[1].decode()
    await wait_until(lambda: not shop.answer("flash"), 5)
    reopened_after = time.time() - float(line)
    assert await proc.wait() == 0
    assert reopened_after < 1.0, reopened_after
    async with shop.db.engine.connect() as conn:
        assert (await conn.execute(select(goods.c.stock).where(goods.c.goods_id == "flash"))).scalar_one() == 5


async def test_restock_by_the_cli_reopens(shop: Shop) -> None:
    """`paybutton goods update --stock` in another process: on PostgreSQL the goods service's NOTIFY (sent in the
    update's transaction), on SQLite the poll, which sees the committed row by itself."""
    await shop.add("cli", 0)
    assert await shop.mark("cli")
    cli = str(Path(sys.executable).parent / "paybutton")
    proc = await asyncio.create_subprocess_exec(
        cli, "goods", "update", "--app", shop.app_id, "--id", "cli", "--stock", "3", "--database",
        shop.url.replace("+aiosqlite", ""), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=child_env())
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    committed = time.monotonic()
    await wait_until(lambda: not shop.answer("cli"), 1.0)
    assert time.monotonic() - committed < 1.0


async def test_a_reopen_after_the_read_refuses_the_mark(shop: Shop) -> None:
    """The restock between the order path's read and its mark is not lost."""
    await shop.add("race", 0)
    token = shop.registry.begin()
    async with shop.db.engine.connect() as conn:
        row = (await conn.execute(select(goods).where(goods.c.goods_id == "race"))).one()
    shop.registry.reopen(shop.app_id, "race")  # what the NOTIFY / poll does when the restock lands
    assert not shop.registry.mark(token, Mark.from_row(row._mapping))
    assert not shop.answer("race")
    assert await shop.mark("race")  # a fresh read marks again


async def test_listener_reconnects_and_forgets(shop: Shop) -> None:
    await shop.add("lost", 0)
    assert await shop.mark("lost")
    w = shop.watcher
    if isinstance(w, PgListener):
        async with shop.db.engine.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": w.backend_pid})
            await conn.commit()
    else:
        conn_ = w._conn  # the poll's connection breaks: every read on it fails until it reconnects
        assert conn_ is not None
        await asyncio.get_running_loop().run_in_executor(w._pool, conn_.close)
    # Not sure any more: the database answers (never a long wrong "sold out").
    await wait_until(lambda: not shop.answer("lost"), 2.0)
    await wait_until(lambda: w.connections == 2 and shop.registry.sure, 10.0)
    if isinstance(w, PgListener):
        assert shop.registry.counters()["goods_marked_sold_out"] == 0  # it may have missed a NOTIFY
    assert await shop.mark("lost") and shop.answer("lost")
    # And the new connection carries reopen signals.
    async with shop.db.tx() as conn:
        await goods_service.update_goods(conn, SystemClock(), app_id=shop.app_id, goods_id="lost", stock=1)
        await notify_reopen(conn, shop.app_id, "lost")
    await wait_until(lambda: not shop.answer("lost"), 1.0)


def test_memory_is_silent_when_unsure_or_old() -> None:
    now = [100.0]
    reg = SoldOut(max_age_s=5.0, monotonic=lambda: now[0])
    m = Mark("app", "g", True, None, None, 1, 10, 0, False, 100, 1)
    assert not reg.mark(reg.begin(), m)  # nobody vouched: no mark
    reg.vouch(1.5)
    assert reg.mark(reg.begin(), m) and answer(reg, "g", 1, 0)
    now[0] += 2.0  # the watcher stopped vouching
    assert not answer(reg, "g", 1, 0)
    reg.vouch(1.5)
    assert answer(reg, "g", 1, 0)
    now[0] += 1.0
    reg.vouch(10.0)
    now[0] += 2.5  # older than max_age_s: dropped
    assert not answer(reg, "g", 1, 0) and reg.counters()["goods_marked_sold_out"] == 0
    t = reg.begin()
    reg.reset()
    assert not reg.mark(t, m) and reg.mark(reg.begin(), m)
    assert not answer(reg, "g", m.max_limits + 1, 0)
    assert not answer(SoldOut(), "g", 1, 0)
    assert answer(reg, "g", 1, 0)
    sale_ended = Mark("app", "h", True, None, 50, 1, 10, 0, False, 100, 1)
    assert reg.mark(reg.begin(), sale_ended) and not answer(reg, "h", 1, 50)


def answer(reg: SoldOut, goods_id: str, quantity: int, now_ms: int) -> bool:
    return reg.answer("app", goods_id, quantity, now_ms, False) is not None


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # the LISTEN connection is PostgreSQL's
async def test_the_listener_always_ends_when_closed(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Closing the listener while its ping has just been answered ends it: on Python 3.11 `asyncio.wait_for`
    dropped a cancellation that arrived as the awaited call finished, so the listener went on pinging and the
    app's shutdown waited for it forever (a landing-page test hung 600 s). With no pause between pings, a close
    lands in that moment within a few dozen tries."""
    import paybutton.order.soldout as soldout

    monkeypatch.setattr(soldout, "PING_S", 0)
    dsn = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    for i in range(150):
        listener = PgListener(SoldOut(), dsn).start()
        await asyncio.wait_for(listener.ready.wait(), 10)
        await asyncio.sleep((i % 7) / 1000)
        await asyncio.wait_for(listener.close(), 5)  # TimeoutError here: the cancellation was lost
