"""Statements from the ledger on SQLite and PostgreSQL: the figures of a day and of a range (opening, paid in,
refunded, settled, fees, closing; a settle posted straight through ledger.post shows as settled and fees), and
`paybutton statement --csv`: one row per ledger line, UTF-8 with a BOM, the Chinese goods name intact, whose sums
per account equal the ledger's balances over the same range."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from collections import defaultdict
from pathlib import Path

from trade_world import TradeWorld
from typer.testing import CliRunner

from paybutton import ledger
from paybutton.cli import cli
from paybutton.ledger import Line
from paybutton.ledger.balances import app_balances
from paybutton.ledger.statement import beijing_days, statement

DAY1, DAY2 = dt.date(2026, 1, 1), dt.date(2026, 1, 2)  # the trade world's clock starts 2026-01-01 08:00 Beijing


async def two_days(trade: TradeWorld) -> tuple[str, str]:
    """Day 1: 精品咖啡 x2 paid (2000), 300 refunded of one unit. Day 2: another order paid (1000) and a settle of
    800 of the first order: 700 to the merchant, 50 to a receiver, 50 fees."""
    await trade.add_goods("coffee", name="精品咖啡")
    first = await trade.paid_order(quantity=2, goods_id="coffee")
    unit = first["item_orders"][0]["item_order_id"]
    env = await trade.api("refund/create_refund", {"out_order_no": first["out_order_no"], "out_refund_no": "R1",
                                                   "item_order_detail": [{"item_order_id": unit,
                                                                          "refund_amount": 300}]})
    assert env["extra"]["error_code"] == 0, env
    await trade.drive()
    trade.clock.advance(86400)
    await trade.paid_order(open_id="other", goods_id="coffee")
    app, oid = trade.app_id, first["order_id"]
    async with trade.db.tx() as conn:
        assert await ledger.post(conn, app_id=app, kind=ledger.SETTLE, ref_id="st1", at_ms=trade.clock.now_ms(),
                                 lines=[Line(ledger.held(app), 800, order_id=oid, item_order_id=unit),
                                        Line(ledger.merchant("seller1"), -700, order_id=oid, item_order_id=unit),
                                        Line(ledger.receiver("shop2"), -50, order_id=oid, item_order_id=unit),
                                        Line(ledger.PLATFORM_FEES, -50, order_id=oid, item_order_id=unit)])
    return oid, unit


async def test_a_days_figures_and_the_next(trade: TradeWorld) -> None:
    await two_days(trade)
    async with trade.db.engine.connect() as conn:
        d1 = await statement(conn, trade.app_id, *beijing_days(DAY1, DAY1))
        d2 = await statement(conn, trade.app_id, *beijing_days(DAY2, DAY2))
        end = await app_balances(conn, trade.app_id, before_ms=beijing_days(DAY2, DAY2)[1])
    assert d1.figures() == {"opening_held": 0, "opening_settled": 0, "paid_in": 2000, "refunded": 300,
                            "settled": 0, "fees": 0, "closing_held": 1700, "closing_settled": 0}
    assert d2.figures() == {"opening_held": 1700, "opening_settled": 0, "paid_in": 1000, "refunded": 0,
                            "settled": 750, "fees": 50, "closing_held": 1900, "closing_settled": 750}
    assert d2.closing_held == end[ledger.held(trade.app_id)]
    assert [ln.kind for ln in d1.lines] == ["pay", "pay", "refund", "refund"]
    assert {ln.goods_name for ln in d2.lines} == {"精品咖啡"}


async def test_the_csv_sums_equal_the_ledger(trade: TradeWorld, db_url: str, tmp_path: Path) -> None:
    oid, unit = await two_days(trade)
    out = tmp_path / "statement.csv"
    args = ["statement", "--app", trade.app_id, "--from", "2026-01-01", "--to", "2026-01-02", "--csv", str(out),
            "--database", db_url]
    r = await asyncio.to_thread(CliRunner().invoke, cli, args)
    assert r.exit_code == 0, r.output
    assert "paid in" in r.output and "30.00 yuan (3000 fen)" in r.output and "7 ledger lines" not in r.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert list(rows[0]) == ["时间 (北京时间)", "类型", "订单号", "子单号", "商品", "支付单号", "退款单号", "结算单号",
                             "账户", "金额 (分)", "金额 (元)", "流水号"]
    assert {row["商品"] for row in rows} == {"精品咖啡"}
    sums: dict[str, int] = defaultdict(int)
    for row in rows:
        fen = int(row["金额 (分)"])
        assert row["金额 (元)"] == f"{fen / 100:.2f}"
        sums[row["账户"]] += fen
    start, end = beijing_days(DAY1, DAY2)
    async with trade.db.engine.connect() as conn:
        before = await app_balances(conn, trade.app_id, before_ms=start)
        after = await app_balances(conn, trade.app_id, before_ms=end)
    assert dict(sums) == {a: after[a] - before.get(a, 0) for a in after}
    settle_rows = [row for row in rows if row["结算单号"] == "st1"]
    assert len(settle_rows) == 4 and {row["子单号"] for row in settle_rows} == {unit}
    assert {row["订单号"] for row in settle_rows} == {oid}


async def test_statement_refuses_a_bad_range(trade: TradeWorld, db_url: str) -> None:
    runner = CliRunner()
    base = ["statement", "--app", trade.app_id, "--database", db_url]
    bad = await asyncio.to_thread(runner.invoke, cli, [*base, "--from", "2026-13-01", "--to", "2026-01-02"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
    back = await asyncio.to_thread(runner.invoke, cli, [*base, "--from", "2026-01-02", "--to", "2026-01-01"])
    assert back.exit_code == 2 and "before --from" in back.output
    none = await asyncio.to_thread(runner.invoke, cli, ["statement", "--app", "ttnothere", "--from", "2026-01-01",
                                                        "--to", "2026-01-01", "--database", db_url])
    assert none.exit_code == 2
