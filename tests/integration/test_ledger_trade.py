"""The trade posts to the ledger, on SQLite and PostgreSQL: a paid order posts `pay` (channel +, held -), a
refund by amount of one unit posts `refund` (held + on that unit, channel -), the balances follow; and
`paybutton check` proves the ledger: a payment without its txn, a txn that does not balance and an order whose
held money went below 0 each exit 1 with a line naming it."""

from __future__ import annotations

import asyncio

from click.testing import Result
from sqlalchemy import delete, select
from trade_world import TradeWorld
from typer.testing import CliRunner

from paybutton import ledger
from paybutton.cli import cli
from paybutton.ledger import Line
from paybutton.ledger.balances import app_balances, order_money
from paybutton.tables import ledger_entries, ledger_txns, payments


async def check_cli(db_url: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, cli, ["check", "--database", db_url])


async def test_a_payment_and_a_unit_refund_post_balanced_txns(trade: TradeWorld) -> None:
    order = await trade.paid_order(quantity=2)
    oid, unit = order["order_id"], order["item_orders"][1]["item_order_id"]
    env = await trade.api("refund/create_refund", {"out_order_no": order["out_order_no"], "out_refund_no": "R1",
                                                   "item_order_detail": [{"item_order_id": unit,
                                                                          "refund_amount": 300}]})
    assert env["extra"]["error_code"] == 0, env
    await trade.drive()
    app = trade.app_id
    async with trade.db.engine.connect() as conn:
        money = await order_money(conn, app, oid)
        assert (money.paid, money.refunded, money.settled, money.held) == (2000, 300, 0, 1700)
        assert await app_balances(conn, app) == {ledger.held(app): 1700, ledger.channel("sandbox"): 1700}
        kinds = (await conn.execute(select(ledger_txns.c.kind).order_by(ledger_txns.c.created_at))).scalars().all()
        assert list(kinds) == ["pay", "refund"]
        unit_line = (await conn.execute(select(ledger_entries.c.amount).where(
            ledger_entries.c.item_order_id == unit))).scalars().all()
        assert list(unit_line) == [300]
    assert await trade.problems() == []


async def test_check_proves_the_ledger(trade: TradeWorld, db_url: str) -> None:
    order = await trade.paid_order()
    oid, app = order["order_id"], trade.app_id
    assert (await check_cli(db_url)).exit_code == 0
    async with trade.db.engine.connect() as conn:
        pid = (await conn.execute(select(payments.c.payment_id).where(payments.c.order_id == oid))).scalar_one()
    async with trade.db.tx() as conn:  # the payment's txn lost
        txn = (await conn.execute(select(ledger_txns.c.txn_id).where(ledger_txns.c.ref_id == pid))).scalar_one()
        await conn.execute(delete(ledger_entries).where(ledger_entries.c.txn_id == txn))
        await conn.execute(delete(ledger_txns).where(ledger_txns.c.txn_id == txn))
        # a txn that does not balance, written behind post()'s back
        await conn.execute(ledger_txns.insert().values(txn_id="lxbad", app_id=app, kind="settle", ref_id="s0",
                                                       created_at=1, memo=""))
        await conn.execute(ledger_entries.insert().values(txn_id="lxbad", app_id=app, account=ledger.held(app),
                                                          order_id=oid, amount=5))
    broken = await check_cli(db_url)
    assert broken.exit_code == 1
    assert f"ledger: payment {pid} (order {oid}) paid 1000 but has no pay txn" in broken.output
    assert "ledger: txn lxbad (settle s0) does not balance: its entries sum to 5, not 0" in broken.output
    assert f"ledger: order {oid} (app {app}): held -5 is below 0" in broken.output
    async with trade.db.tx() as conn:  # put it right: the pay txn again, the bad one gone
        await conn.execute(delete(ledger_entries).where(ledger_entries.c.txn_id == "lxbad"))
        await conn.execute(delete(ledger_txns).where(ledger_txns.c.txn_id == "lxbad"))
        assert await ledger.post(conn, app_id=app, kind=ledger.PAY, ref_id=pid, at_ms=1, lines=[
            Line(ledger.channel("sandbox"), 1000, order_id=oid), Line(ledger.held(app), -1000, order_id=oid)])
    assert (await check_cli(db_url)).exit_code == 0


async def _snapshot(trade: TradeWorld) -> tuple[dict[str, int], list[tuple[str, str, int]]]:
    async with trade.db.engine.connect() as conn:
        balances = await app_balances(conn, trade.app_id)
        lines = (await conn.execute(
            select(ledger_txns.c.kind, ledger_txns.c.ref_id, ledger_entries.c.amount)
            .select_from(ledger_txns.join(ledger_entries, ledger_entries.c.txn_id == ledger_txns.c.txn_id)))).all()
    return balances, sorted((k, r, a) for k, r, a in lines)


async def test_the_migration_back_fills_what_was_paid_and_refunded(trade: TradeWorld, db_url: str) -> None:
    """A database from before the ledger: its txns are written by migration 0010, the same as the live ones."""
    from alembic import command

    from paybutton.db import alembic_config

    whole = await trade.paid_order(open_id="a")
    part = await trade.paid_order(open_id="b", quantity=2)
    r = await trade.http.post(f"{trade.url}/api/buyer/v1/orders/{whole['order_id']}/refunds",
                              headers=trade.auth("a"), json={"reason": "不想要了", "note": ""})
    assert r.status_code == 200, r.text
    env = await trade.api("refund/create_refund", {
        "out_order_no": part["out_order_no"], "out_refund_no": "R2",
        "item_order_detail": [{"item_order_id": part["item_orders"][0]["item_order_id"], "refund_amount": 250}]})
    assert env["extra"]["error_code"] == 0, env
    await trade.drive()
    live = await _snapshot(trade)
    assert live[0] == {ledger.held(trade.app_id): 1750, ledger.channel("sandbox"): 1750}
    await trade.db.engine.dispose()
    cfg = alembic_config(db_url)
    await asyncio.to_thread(command.downgrade, cfg, "0009")  # the ledger's tables gone: a database of before
    await asyncio.to_thread(command.upgrade, cfg, "head")
    assert await _snapshot(trade) == live
    assert await trade.problems() == []
