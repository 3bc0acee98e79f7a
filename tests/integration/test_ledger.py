"""The ledger's core on SQLite and PostgreSQL: a posting writes a txn whose entries sum to 0, an unbalanced one
writes nothing, the same (app_id, kind, ref_id) posts once (also 8 at once), and balances read back per account,
per app, per order and per unit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from paybutton import ledger
from paybutton.ledger import Line
from paybutton.ledger.balances import app_balances, balance, order_money, orders_money, unit_settled
from paybutton.tables import ledger_entries, ledger_txns

APP = "ttledger0000000001"


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """The database's engine. The txns these tests post stand for no payment row, so they are removed after the
    test, before the fixture's `paybutton check` (which would rightly call them held money nothing paid)."""
    eng = create_async_engine(db_url)
    yield eng
    async with eng.begin() as conn:
        await conn.execute(delete(ledger_entries))
        await conn.execute(delete(ledger_txns))
    await eng.dispose()


def pay_lines(amount: int, order_id: str = "o1") -> list[Line]:
    return [Line(ledger.channel("sandbox"), amount, order_id=order_id),
            Line(ledger.held(APP), -amount, order_id=order_id)]


async def test_a_posting_is_balanced_and_posted_once(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        assert await ledger.post(conn, app_id=APP, kind=ledger.PAY, ref_id="p1", lines=pay_lines(300), at_ms=1000)
        assert not await ledger.post(conn, app_id=APP, kind=ledger.PAY, ref_id="p1", lines=pay_lines(300),
                                     at_ms=2000)
        # the same ref under another kind is another txn
        assert await ledger.post(conn, app_id=APP, kind=ledger.REFUND, ref_id="p1", lines=[
            Line(ledger.held(APP), 100, order_id="o1", item_order_id="i1"),
            Line(ledger.channel("sandbox"), -100, order_id="o1")], at_ms=3000)
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(ledger_txns))).scalar_one() == 2
        sums = (await conn.execute(select(func.sum(ledger_entries.c.amount)).group_by(ledger_entries.c.txn_id)
                                   )).scalars().all()
        assert sums == [0, 0]
        assert await balance(conn, ledger.held(APP)) == 200
        assert await balance(conn, ledger.channel("sandbox")) == 200
        assert await balance(conn, ledger.held(APP), before_ms=2000) == 300
        assert await app_balances(conn, APP) == {ledger.held(APP): 200, ledger.channel("sandbox"): 200}
        money = await order_money(conn, APP, "o1")
        assert (money.paid, money.refunded, money.settled, money.held) == (300, 100, 0, 200)


async def test_an_unbalanced_posting_writes_nothing(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        with pytest.raises(ledger.UnbalancedError):
            await ledger.post(conn, app_id=APP, kind=ledger.PAY, ref_id="bad",
                              lines=[Line(ledger.channel("sandbox"), 100), Line(ledger.held(APP), -99)], at_ms=1)
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(ledger_txns))).scalar_one() == 0


async def test_a_settle_moves_held_money_to_the_merchant_receivers_and_fees(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await ledger.post(conn, app_id=APP, kind=ledger.PAY, ref_id="p1", lines=pay_lines(1000), at_ms=1)
        await ledger.post(conn, app_id=APP, kind=ledger.SETTLE, ref_id="s1", at_ms=2, lines=[
            Line(ledger.held(APP), 600, order_id="o1", item_order_id="i1"),
            Line(ledger.merchant("m1"), -500, order_id="o1", item_order_id="i1"),
            Line(ledger.receiver("r1"), -70, order_id="o1", item_order_id="i1"),
            Line(ledger.PLATFORM_FEES, -30, order_id="o1", item_order_id="i1")])
    async with engine.connect() as conn:
        assert await app_balances(conn, APP) == {
            ledger.held(APP): 400, ledger.channel("sandbox"): 1000, ledger.merchant("m1"): 500,
            ledger.receiver("r1"): 70, ledger.PLATFORM_FEES: 30}
        assert (await orders_money(conn, APP))[(APP, "o1")].held == 400
        assert await unit_settled(conn, APP, "o1") == {"i1": 600}


async def test_eight_postings_of_the_same_payment_at_once_post_one(engine: AsyncEngine) -> None:
    async def one() -> bool:
        async with engine.begin() as conn:
            return await ledger.post(conn, app_id=APP, kind=ledger.PAY, ref_id="same", lines=pay_lines(500),
                                     at_ms=1)

    if engine.dialect.name == "sqlite":  # one writer at a time on SQLite: the unique key still decides
        results = [await one() for _ in range(8)]
    else:
        results = list(await asyncio.gather(*(one() for _ in range(8))))
    assert results.count(True) == 1
    async with engine.connect() as conn:
        assert await balance(conn, ledger.held(APP)) == 500


async def test_a_posting_rolls_back_with_the_row_that_caused_it(engine: AsyncEngine) -> None:
    """A crash (here: an error) after the posting and before the commit leaves no entry: it is the caller's
    transaction."""
    with pytest.raises(RuntimeError):
        async with engine.begin() as conn:
            assert await ledger.post(conn, app_id=APP, kind=ledger.PAY, ref_id="p9", lines=pay_lines(100), at_ms=1)
            raise RuntimeError("crash before the commit")
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(ledger_entries))).scalar_one() == 0
    async with engine.begin() as conn:  # and the retry posts it, once
        assert await ledger.post(conn, app_id=APP, kind=ledger.PAY, ref_id="p9", lines=pay_lines(100), at_ms=2)
