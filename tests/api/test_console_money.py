"""The console's money (issue 21), on SQLite and PostgreSQL: the dashboard's balances (held, settled, fees) and
its four server-drawn charts per hour and per day, each with its figures for a screen reader (the SVG's title and
description, and a table); the Statement page per day and per month with its CSV; a settle posted straight
through ledger.post shows as settled and fees; another app sees none of it."""

from __future__ import annotations

import re

from test_console import PASSWORD, World, sign_in, world

from paybutton import ledger
from paybutton.ledger import Line

__all__ = ["world"]


async def shop(world: World) -> tuple[dict[str, str], str]:
    """Two paid orders of 精品咖啡 (3 units, 3000 fen), then a settle of 800 of the first: 700 to the merchant,
    50 to a receiver, 50 fees."""
    a = await world.new_app("Coffee", console_password=PASSWORD)
    await world.add_goods(a, "coffee", name="精品咖啡")
    async with world.client() as http:
        first = await world.paid_order(http, a, "coffee", quantity=2)
        await world.paid_order(http, a, "coffee", open_id="u2")
    app, oid = a["app_id"], first["order_id"]
    async with world.ctx.db.tx() as conn:
        await ledger.post(conn, app_id=app, kind=ledger.SETTLE, ref_id="st-1", at_ms=world.clock.now_ms(), lines=[
            Line(ledger.held(app), 800, order_id=oid), Line(ledger.merchant("seller"), -700, order_id=oid),
            Line(ledger.receiver("partner"), -50, order_id=oid), Line(ledger.PLATFORM_FEES, -50, order_id=oid)])
    return a, oid


def shown(html: str, name: str) -> str:
    m = re.search(rf'data-testid="{name}">(?:<b>)?([^<]*)', html)
    assert m, name
    return m.group(1)


async def test_the_dashboard_shows_balances_and_charts(world: World) -> None:
    a, _ = await shop(world)
    async with world.client() as http:
        await sign_in(http, a["app_id"], PASSWORD)
        page = (await http.get("/console")).text
        assert [shown(page, k) for k in ("bal_held", "bal_settled", "bal_fees")] == ["¥22.00", "¥7.50", "¥0.50"]
        for key in ("orders", "takings", "refunds", "settles"):
            assert f'data-testid="chart-{key}"' in page
        assert page.count('role="img" aria-labelledby=') == 4 and "<script" not in page
        takings = page.split('data-testid="chart-takings"')[1].split("</figure>")[0]
        assert "<desc" in takings and "合计 ¥30.00" in takings and "最高 ¥30.00" in takings
        assert takings.count('<th scope="row">') == 24  # one figure per hour
        for span, rows in (("7d", 7), ("30d", 30)):
            per_day = (await http.get(f"/console?span={span}")).text
            orders = per_day.split('data-testid="chart-orders"')[1].split("</figure>")[0]
            assert orders.count('<th scope="row">') == rows and "合计 2" in orders
            assert f'href="/console?span={span}" aria-current="page"' in per_day


async def test_the_statement_per_day_and_month_with_its_csv(world: World) -> None:
    a, oid = await shop(world)
    async with world.client() as http:
        await sign_in(http, a["app_id"], PASSWORD)
        day = await http.get("/console/statement")  # today in Beijing time: 2026-01-01 on the fake clock
        assert day.status_code == 200 and "对账单 · 2026-01-01" in day.text
        got = {k: shown(day.text, k) for k in ("opening_held", "paid_in", "refunded", "settled", "fees",
                                                 "closing_held", "closing_settled")}
        assert got == {"opening_held": "¥0.00", "paid_in": "+¥30.00", "refunded": "−¥0.00", "settled": "+¥7.50",
                       "fees": "−¥0.50", "closing_held": "¥22.00", "closing_settled": "¥7.50"}
        assert day.text.count("<tr data-kind=") == 8 and "精品咖啡" in day.text and f"/console/orders/{oid}" in day.text
        month = await http.get("/console/statement?month=2026-01")
        assert shown(month.text, "closing_held") == "¥22.00" and 'href="/console/statement?month=2025-12"' in month.text
        before = await http.get("/console/statement?day=2025-12-31")
        assert shown(before.text, "closing_held") == "¥0.00" and "<tr data-kind=" not in before.text
        csv = await http.get("/console/statement.csv?month=2026-01")
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
        assert "attachment" in csv.headers["content-disposition"]
        body = csv.content.decode("utf-8")
        assert body.startswith("\ufeff时间 (北京时间),类型,") and body.count("\r\n") == 9 and "精品咖啡" in body
        bad = await http.get("/console/statement?month=2026-13")
        assert bad.status_code == 400 and 'data-testid="st-error"' in bad.text
        assert (await http.get("/console/statement.csv?day=nope")).status_code == 404
    other = await world.new_app("Other", console_password=PASSWORD)
    async with world.client() as http:
        await sign_in(http, other["app_id"], PASSWORD)
        theirs = (await http.get("/console/statement")).text
        assert "<tr data-kind=" not in theirs and shown(theirs, "paid_in") == "+¥0.00"
        assert shown((await http.get("/console")).text, "bal_held") == "¥0.00"
