"""The sold-out memory (order/soldout.py) gives exactly the database's answer for the same goods row, or none
(issue 19 defect 1), through the real order writers on both databases.

Every sell state a good can be in (shelf, sale window before/in/after, limits, phone required, stock 0 or 1) is
asked with every kind of order (inside/outside the limits, with/without a phone number): the first answer comes
from the database (memory reset), the second may come from memory; they must be the same refusal."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import update

from paybutton import ids
from paybutton.apps import service as app_service
from paybutton.clock import SystemClock
from paybutton.config import Settings
from paybutton.db import Database
from paybutton.errors import TradeError
from paybutton.goods import service as goods_service
from paybutton.order.rows import NewOrder
from paybutton.order.states import PreOrder
from paybutton.order.writer_pg import PostgresWriter
from paybutton.order.writer_registry import open_writer
from paybutton.order.writer_sqlite import SqliteWriter
from paybutton.tables import goods

HOUR_MS = 3_600_000
NOW = SystemClock().now_ms()
WINDOW = (None, NOW - HOUR_MS, NOW + HOUR_MS)  # no bound, a bound in the past, a bound in the future
STATES = list(itertools.product((True, False), WINDOW, WINDOW, ((1, 5), (2, 5)), (False, True), (0, 1)))
ASKS = list(itertools.product((1, 2, 6), (False, True)))  # (quantity, the buyer gave a phone number)

Writer = PostgresWriter | SqliteWriter


class Shop:
    def __init__(self, db: Database, url: str, app_id: str, writer: Writer) -> None:
        self.db, self.url, self.app_id, self.writer = db, url, app_id, writer
        self.n = 0

    async def add(self, goods_id: str, stock: int, **state: object) -> None:
        async with self.db.tx() as conn:
            await goods_service.create_goods(conn, SystemClock(), app_id=self.app_id, goods_id=goods_id,
                                             name=goods_id, price=100, stock=stock, max_limits=5)
            if state:  # any state, even one the goods rules would refuse to write (sale_end before sale_start)
                await conn.execute(update(goods).where(goods.c.app_id == self.app_id, goods.c.goods_id == goods_id)
                                   .values(**state))

    async def ask(self, goods_id: str, quantity: int = 1, phone: bool = False) -> str:
        """The order path's answer: "sold" or the refusal's code and message."""
        self.n += 1
        oid = ids.order_id()
        o = NewOrder(order_id=oid, app_id=self.app_id, open_id=f"buyer{self.n}", goods_id=goods_id, goods_type=1,
                     quantity=quantity, phone_num="13800000000" if phone else None, contact_name=None,
                     cp_extra=None, out_order_no=oid, pre_order_status=PreOrder.OK.value, delivery_type=0,
                     pay_expire_ms=600_000, item_ids=ids.item_order_ids(quantity), now=SystemClock().now_ms())
        try:
            await self.writer.take(o)  # a batch writes the order with the stock it takes
        except TradeError as e:
            return f"{e.name}: {e.message}"
        return "sold"

    def from_memory(self) -> int:
        return self.writer.soldout.counters()["sold_out_from_memory"]


@pytest.fixture
async def shop(db_url: str) -> AsyncIterator[Shop]:
    db = Database(Settings(database_url=db_url))
    async with db.tx() as conn:
        app = await app_service.create_app(conn, SystemClock(), name="sold-out answers")
    w = await open_writer(db_url, 4)
    assert isinstance(w, PostgresWriter | SqliteWriter)
    t0 = time.monotonic()
    while not w.soldout.sure:  # the watcher's first vouch
        assert time.monotonic() - t0 < 10
        await asyncio.sleep(0.01)
    try:
        yield Shop(db, db_url, app["app_id"], w)
    finally:
        await w.close()
        await db.dispose()


async def test_memory_answers_as_the_database_in_every_sell_state(shop: Shop) -> None:
    mismatches, sold_out_by_db, memory_before = [], 0, shop.from_memory()
    for n, (on_shelf, start, end, (lo, hi), phone_required, stock) in enumerate(STATES):
        gid = f"g{n}"
        await shop.add(gid, stock, on_shelf=on_shelf, sale_start=start, sale_end=end, min_limits=lo,
                       max_limits=hi, phone_required=phone_required)
        for q, phone in ASKS:
            shop.writer.soldout.reset()  # the first answer is the database's
            by_db = await shop.ask(gid, q, phone)
            again = await shop.ask(gid, q, phone)  # from memory when the first one marked the good
            if by_db == "sold":
                continue  # the state changed (stock 1 -> 0): the next ask compares the new state
            sold_out_by_db += by_db.startswith("GOODS_SOLD_OUT")
            if again != by_db:
                mismatches.append((dict(on_shelf=on_shelf, start=start, end=end, limits=(lo, hi),
                                        phone_required=phone_required, stock=stock, q=q, phone=phone),
                                   by_db, again))
    assert not mismatches, f"{len(mismatches)} answers differ, e.g. {mismatches[:3]}"
    # and memory did answer (else this test proves nothing): most sold-out answers came from it
    assert shop.from_memory() - memory_before > sold_out_by_db // 2, (shop.from_memory(), sold_out_by_db)


async def test_bought_then_off_shelf_answers_off_shelf_every_time(shop: Shop) -> None:
    """The issue's case: stock 1, buy it, take it off the shelf; every later order gets GOODS_OFF_SHELF."""
    await shop.add("last", 1)
    assert await shop.ask("last") == "sold"
    assert (await shop.ask("last")).startswith("GOODS_SOLD_OUT")
    async with shop.db.tx() as conn:  # the console's / CLI's update: signals the reopen in its transaction
        await goods_service.update_goods(conn, SystemClock(), app_id=shop.app_id, goods_id="last", on_shelf=False)
    t0 = time.monotonic()  # the NOTIFY (PostgreSQL) / the poll (SQLite) forgets the mark of the row before it
    while shop.writer.soldout.counters()["goods_marked_sold_out"]:
        assert time.monotonic() - t0 < 5
        await asyncio.sleep(0.01)
    answers = [await shop.ask("last") for _ in range(4)]
    assert answers[0].startswith("GOODS_OFF_SHELF") and answers == answers[:1] * 4, answers
