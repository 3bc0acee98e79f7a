"""`make bench`'s paying part and its reconciliation (issue 20), small, on both databases: buyers place, pay through
the sandbox cashier and get refunds (whole and one unit) from a real server with its workers running, against the
bench's stub merchant; the sandbox's bill of the day reconciles clean and accounts for exactly what the buyers
paid and got back. A payment row altered in the database makes the same check report the difference."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update

sys.path.append(str(Path(__file__).resolve().parents[2]))  # the repository's root: `bench` is not installed

from bench import paying
from bench.stub_merchant import StubMerchant
from paybutton.app import create_app
from paybutton.apps import service as app_service
from paybutton.clock import BEIJING, Clock, FakeClock, SystemClock
from paybutton.config import Settings
from paybutton.db import Database
from paybutton.goods.service import create_goods
from paybutton.recon import store
from paybutton.tables import payments, recon_lines, recon_runs

ORDERS = 24  # 20 paid (every 5th left unpaid), 2 refunded whole, 2 by one unit


async def _world(db_url: str, live_factory: Any, clock: Clock | None = None) -> tuple[str, str, str]:
    """A real server with its workers (on `clock`), the bench's stub merchant, an app and two goods."""
    server = live_factory(create_app(Settings(database_url=db_url, sweep_interval_seconds=0.2), clock=clock))
    merchant = live_factory(StubMerchant(server.app.state.ctx.signer.public_pem))
    db = Database(Settings(database_url=db_url))
    try:
        async with db.tx() as conn:
            clock = clock or SystemClock()
            a = await app_service.create_app(conn, clock, name="bench shop",
                                             pre_order_url=f"{merchant.url}/pre_create_order")
            for gid in ("pay-a", "pay-b"):
                await create_goods(conn, clock, app_id=a["app_id"], goods_id=gid, name=gid, price=990, stock=1000,
                                   photo_url="https://example.com/g.png")
    finally:
        await db.dispose()
    return server.url, a["app_id"], a["secret"]


async def _forget_runs(db_url: str) -> None:
    """The day's reconciliation is stored as DONE (read back, never run again): clear it to run it afresh."""
    db = Database(Settings(database_url=db_url))
    try:
        async with db.tx() as conn:
            await conn.execute(delete(recon_lines))
            await conn.execute(delete(recon_runs))
    finally:
        await db.dispose()


async def _alter_a_payment(db_url: str, app_id: str, by: int) -> str:
    """Add `by` fen to the amount of one paid attempt; putting it back (-by) also resolves the break it left, as a
    person would (`paybutton reconcile --resolve`), so the database ends consistent."""
    db = Database(Settings(database_url=db_url))
    try:
        async with db.tx() as conn:
            pid = (await conn.execute(select(payments.c.payment_id).where(payments.c.state == "SUCCESS")
                                      .order_by(payments.c.payment_id).limit(1))).scalar_one()
            await conn.execute(update(payments).where(payments.c.payment_id == pid)
                               .values(amount=payments.c.amount + by))
            if by < 0:
                ids = [r.id for r in await store.open_lines(conn, app_id)]
                await store.resolve_by_hand(conn, app_id, ids, SystemClock().now_ms(), "test: put back")
        return str(pid)
    finally:
        await db.dispose()


async def test_the_bench_traffic_reconciles_clean_and_an_altered_payment_does_not(db_url: str,
                                                                                    live_factory: Any) -> None:
    url, app_id, secret = await _world(db_url, live_factory)
    did = await paying.traffic([url], app_id, secret, ["pay-a", "pay-b"], orders=ORDERS, concurrency=8,
                               refund_wait_s=30)
    assert did["errors"] == {} and (did["placed"], did["paid"]) == (ORDERS, 20), did
    assert did["refunds"] == {"whole": 2, "one unit": 2} and did["refunds_succeeded"] == 4, did
    days = paying.traffic_days(did["started_ms"], did["ended_ms"])
    reports = await paying.reconcile(db_url, app_id, days)
    assert paying.verdict(reports, did) == [], reports
    runs = [r for rep in reports for r in rep["runs"]]
    assert {r["channel"] for r in runs} == {"sandbox"} and all(r["state"] == "DONE" for r in runs)
    assert sum(r["counts"]["matched"] for r in runs) == sum(r["bill_lines"] for r in runs) == 24
    assert sum(r["amounts"]["matched"] for r in runs) == did["paid_fen"] + did["refunded_fen"]
    assert sum(rep["matched_by_kind"]["refund"][0] for rep in reports) == 4

    await _forget_runs(db_url)
    altered = await _alter_a_payment(db_url, app_id, 1)
    broken = await paying.reconcile(db_url, app_id, days)
    bad = paying.verdict(broken, did)
    diffs = [ln for rep in broken for r in rep["runs"] for ln in r["lines"] if ln["klass"] == "diff"]
    assert [(d["out_trade_no"], d["our_amount"] - d["channel_amount"]) for d in diffs] == [(altered, 1)], broken
    assert any("1 diff" in b for b in bad) and any(b.startswith("matched payments 19 ") for b in bad), bad
    await _alter_a_payment(db_url, app_id, -1)


async def test_traffic_across_beijing_midnight_reconciles_both_days(db_url: str, live_factory: Any) -> None:
    """Paid at 23:59 Beijing (15:59 UTC), refunded two minutes later, on the next Beijing day: the bench reconciles
    both days, the payments on the first and the refunds on the second, each clean."""
    d1, d2 = date(2026, 1, 1), date(2026, 1, 2)
    clock = FakeClock(int(datetime(2026, 1, 1, 23, 59, tzinfo=BEIJING).timestamp() * 1000))
    url, app_id, secret = await _world(db_url, live_factory, clock)
    did = await paying.traffic([url], app_id, secret, ["pay-a"], orders=12, concurrency=4, refund_wait_s=30,
                               clock=clock, before_refunds=lambda: clock.advance(120))
    assert (did["paid"], did["refunds_succeeded"], did["errors"]) == (10, 2, {}), did
    days = paying.traffic_days(did["started_ms"], did["ended_ms"])
    assert days == [d1, d2]
    reports = await paying.reconcile(db_url, app_id, days)
    assert paying.verdict(reports, did) == [], reports
    assert [(r["date"], r["matched_by_kind"]) for r in reports] == [
        (d1.isoformat(), {"pay": [10, did["paid_fen"]], "refund": [0, 0]}),
        (d2.isoformat(), {"pay": [0, 0], "refund": [2, did["refunded_fen"]]})]
