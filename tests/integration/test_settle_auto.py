"""Automatic settles (issue 21) on SQLite and PostgreSQL: `verify` D+0 settles right after the redemption and `pay`
D+N once N Beijing days have passed, each once with two worker loops on one database, with `is_auto_settle`."""

from __future__ import annotations

import asyncio
import dataclasses
import time

from settle_world import counts, redeem, rules
from sqlalchemy import BigInteger, Integer, literal, select
from trade_world import TradeWorld

from paybutton.apps.service import get_app
from paybutton.clock import FakeClock
from paybutton.config import Settings
from paybutton.context import AppCache
from paybutton.db import Database
from paybutton.demo.seed import DEMO_APP_ID, seed_demo
from paybutton.settle import rules as rules_of_settle
from paybutton.settle import store
from paybutton.settle.auto import run_auto_settler, settle_due


async def two_loops_settle_once(trade: TradeWorld, db_url: str) -> None:
    """Two worker loops (each its own engine and app cache) on one database: the order settles once."""
    stop = asyncio.Event()
    dbs = [Database(Settings(database_url=db_url)) for _ in range(2)]
    fast = trade.tctx.settings.model_copy(update={"sweep_interval_seconds": 0.02})
    loops = [asyncio.create_task(run_auto_settler(dataclasses.replace(trade.tctx, db=d, apps=AppCache(),
                                                                      settings=fast), stop)) for d in dbs]
    try:
        deadline = time.monotonic() + 10
        while await counts(trade) != (1, 1):
            assert time.monotonic() < deadline, "no automatic settle"
            await asyncio.sleep(0.02)
        assert await settle_due(trade.tctx) == 0  # nothing is left for another sweep
    finally:
        stop.set()
        await asyncio.gather(*loops)
        for d in dbs:
            await d.dispose()
    assert await counts(trade) == (1, 1)


async def test_verify_d0_settles_after_redemption(trade: TradeWorld, db_url: str) -> None:
    await rules(trade, settle_mode="verify", settle_days=0, settle_url=f"{trade.merchant_url()}/settle")
    order = await trade.paid_order(quantity=2)
    assert await settle_due(trade.tctx) == 0  # not redeemed yet
    await redeem(trade, order["order_id"])
    await two_loops_settle_once(trade, db_url)
    (row,) = (await trade.api("settle/query_settle", {"order_id": order["order_id"]}))["data"]["settle_list"]
    assert row["is_auto_settle"] is True and row["settle_amount"] == 2000 and row["item_order_id"] == ""
    await trade.drive()
    (note,) = trade.merchant.of_type("settle")
    assert note.signature_ok and note.msg["is_auto_settle"] is True and note.msg["order_id"] == order["order_id"]


async def test_pay_dn_settles_after_n_beijing_days(trade: TradeWorld, db_url: str) -> None:
    await rules(trade, settle_mode="pay", settle_days=2)
    order = await trade.paid_order(quantity=1)
    assert await settle_due(trade.tctx) == 0
    trade.clock.advance(86400)
    assert await settle_due(trade.tctx) == 0  # D+1
    trade.clock.advance(86400)
    await two_loops_settle_once(trade, db_url)
    (row,) = (await trade.api("settle/query_settle", {"out_order_no": order["out_order_no"]}))["data"]["settle_list"]
    assert row["is_auto_settle"] is True and row["out_settle_no"] == f"auto-{order['order_id']}"


async def test_the_demo_app_settles_verify_d0(db_url: str) -> None:
    db = Database(Settings(database_url=db_url))
    try:
        async with db.tx() as conn:
            await seed_demo(conn, FakeClock(), merchant_url="http://127.0.0.1:9", shop_origin="http://127.0.0.1:8")
            app = await get_app(conn, DEMO_APP_ID)
    finally:
        await db.dispose()
    assert (app["settle_mode"], app["settle_days"]) == ("verify", 0)
    assert app["settle_url"] == "http://127.0.0.1:9/callbacks/settle" and app["merchant_uid"]


async def test_the_sweeps_due_moment_is_the_rules_one(db_url: str) -> None:
    """store.due_at (the SQL the sweep filters on) gives rules.due_at's instant on the database, at and around
    Beijing's midnight (16:00 UTC) and for days past INTEGER's range in ms (25 days and more)."""
    midnight = 1_767_283_200_000  # 2026-01-02 00:00 in Beijing
    starts = [0, 1, midnight - 1, midnight, midnight + 1, midnight + 8 * 3_600_000, 1_767_225_600_123,
              4_102_444_799_999]
    cases = [(t, d) for t in starts for d in (0, 1, 2, 30, 400)]
    db = Database(Settings(database_url=db_url))
    try:
        async with db.engine.connect() as conn:
            q = select(*(store.due_at(literal(t, BigInteger), literal(d, Integer)) for t, d in cases))
            got = list((await conn.execute(q)).one())
    finally:
        await db.dispose()
    assert got == [rules_of_settle.due_at(t, d) for t, d in cases]


async def test_an_order_due_is_settled_past_a_sweeps_worth_not_due(trade: TradeWorld) -> None:
    """`verify` D+1, a sweep of 2: two orders paid first and redeemed today (not due) do not keep out one paid after
    them and redeemed two days ago (due). Before, the sweep read the first two by payment time and settled nothing
    until they came due."""
    await rules(trade, settle_mode="verify", settle_days=1)
    first = [await trade.paid_order(open_id=f"b{n}") for n in range(2)]
    trade.clock.advance(1)
    due = await trade.paid_order(open_id="b3")
    await redeem(trade, due["order_id"])
    trade.clock.advance(2 * 86400)
    for order in first:
        await redeem(trade, order["order_id"])
    async with trade.db.engine.connect() as conn:
        found = [r.order_id for r in await conn.execute(store.auto_candidates(100, trade.clock.now_ms()))]
    assert found == [due["order_id"]]
    assert await settle_due(trade.tctx, limit=2) == 1
    (row,) = (await trade.api("settle/query_settle", {"order_id": due["order_id"]}))["data"]["settle_list"]
    assert row["is_auto_settle"] is True


async def test_a_sweep_reads_no_order_before_its_day(trade: TradeWorld) -> None:
    """`pay` D+2: the sweep's query finds the paid orders only from their day on, not every sweep before it (each
    found order costs a transaction that rules.auto_due would turn down)."""
    await rules(trade, settle_mode="pay", settle_days=2)
    paid = sorted([(await trade.paid_order(open_id=f"b{n}"))["order_id"] for n in range(3)])

    async def found() -> list[str]:
        async with trade.db.engine.connect() as conn:
            rows = await conn.execute(store.auto_candidates(100, trade.clock.now_ms()))
            return sorted(r.order_id for r in rows)

    assert await found() == []
    trade.clock.advance(86400)
    assert await found() == []  # D+1
    trade.clock.advance(86400)
    assert await found() == paid
