"""The sandbox produces a bill too (issue 20), so the demo reconciles: after traffic through the sandbox (paid
orders, a refund) the day reconciles clean; the worker runs yesterday's once the bills' hour has come, once; two
instances at once run a day once."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

from trade_world import TradeWorld

from paybutton.clock import BEIJING
from paybutton.recon import running, store, views

D1 = date(2026, 1, 1)
BUYER = "/api/buyer/v1"


async def traffic(trade: TradeWorld) -> None:
    orders = [await trade.paid_order(f"b{i}", quantity=1 + i % 2) for i in range(4)]
    r = await trade.http.post(f"{trade.url}{BUYER}/orders/{orders[1]['order_id']}/refunds",
                              headers=trade.auth("b1"), json={"quantity": 1, "reason": "不想要了"})
    assert r.status_code == 200, r.text
    await trade.drive()


def at_beijing(hour: int, day: date) -> int:
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=BEIJING).timestamp() * 1000)


async def test_the_sandbox_bill_reconciles_clean_after_traffic(trade: TradeWorld) -> None:
    await traffic(trade)
    trade.clock.set(at_beijing(9, D1 + timedelta(days=1)))
    assert await running.reconcile_due(trade.tctx) == 0  # before the bills' hour (recon_hour_beijing: 10)
    trade.clock.set(at_beijing(10, D1 + timedelta(days=1)))
    assert await running.reconcile_due(trade.tctx) == 1
    assert await running.reconcile_due(trade.tctx) == 0  # once
    async with trade.db.engine.connect() as conn:
        rep = await views.day_report(conn, trade.app_id, D1.isoformat())
    (run,) = rep["runs"]
    assert (run["channel"], run["state"], run["bill_lines"]) == ("sandbox", "DONE", 5)
    assert run["counts"] == {"matched": 5, "long": 0, "short": 0, "diff": 0} and run["lines"] == []
    assert run["amounts"]["matched"] == 6000 + 1000 and rep["open_breaks"] == [] and rep["pending"] == 0


async def test_two_instances_at_once_run_a_day_once(trade: TradeWorld) -> None:
    await traffic(trade)
    trade.clock.advance(86400)
    got = await asyncio.gather(*(running.run_day(trade.tctx, trade.app_id, "sandbox", D1) for _ in range(3)))
    assert sorted(got) == [False, False, True]
    assert await running.run_day(trade.tctx, trade.app_id, "sandbox", D1) is False  # done: only read back
    async with trade.db.engine.connect() as conn:
        run = await store.run_row(conn, trade.app_id, "sandbox", D1.isoformat())
        assert run is not None and (run.state, run.tries, run.matched) == ("DONE", 1, 5)
        assert await store.lines_of(conn, run.run_id, exclude_matched=False) != []


async def test_a_free_order_paid_through_the_sandbox_is_on_its_bill_as_zero(trade: TradeWorld) -> None:
    """A 0-fen payment posts a ledger transaction without entries: the sandbox's bill (read from the ledger) still
    shows it, as 0, so it matches instead of waiting as a short."""
    await trade.paid_order("free", goods_id="free", price=0)
    await trade.paid_order("paid", goods_id="g", price=1000)
    trade.clock.advance(86400)
    assert await running.run_day(trade.tctx, trade.app_id, "sandbox", D1) is True
    async with trade.db.engine.connect() as conn:
        rep = await views.day_report(conn, trade.app_id, D1.isoformat())
    (run,) = rep["runs"]
    assert (run["bill_lines"], run["counts"], run["amounts"]["matched"]) == (
        2, {"matched": 2, "long": 0, "short": 0, "diff": 0}, 1000), run
