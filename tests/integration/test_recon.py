"""Daily reconciliation (issue 20) against the fake gateways' bills, on both databases: a WeChat Pay day with
matched lines, one long (a payment whose notify and queries were lost), one short and one amount difference ->
`paybutton reconcile` reports each, settles the long one once (run twice: still once), the console shows them, the
short becomes a break when the next day's bill lacks it too, `paybutton check` lists the breaks until a person
resolves them (`paybutton reconcile --resolve ID --note ...`)."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import date
from typing import Any

from click.testing import Result
from fakes import wechat_bills
from sqlalchemy import func, select
from test_real_channels import attempt, pay, place, refund_one_unit
from test_real_channels import real as real_channels  # noqa: F401  (the fixture: the app on both fakes)
from trade_world import TradeWorld
from typer.testing import CliRunner

from paybutton.cli import cli
from paybutton.tables import outbox, recon_lines

D1, D2 = "2026-01-01", "2026-01-02"  # the trade world's fake clock starts on 2026-01-01 08:00 Beijing
runner = CliRunner()


async def run_cli(*args: str) -> Result:
    return await asyncio.to_thread(runner.invoke, cli, list(args))


async def reconcile(trade: TradeWorld, db_url: str, day: str) -> tuple[int, dict[str, Any]]:
    res = await run_cli("reconcile", "--app", trade.app_id, "--date", day, "--json", "--database", db_url)
    assert res.exit_code in (0, 1, 3), res.output
    return res.exit_code, json.loads(res.stdout)


async def paid_by_wechat(trade: TradeWorld, wx: Any, who: str, quantity: int = 1,
                         notify: bool = True) -> tuple[str, str]:
    oid = await place(trade, who, quantity)
    assert (await pay(trade, who, oid, "wechat")).status_code == 200
    p = await attempt(trade, oid)
    await wx.pay(p.payment_id, notify=notify)
    return oid, str(p.payment_id)


def run_of(rep: dict[str, Any], channel: str) -> dict[str, Any]:
    (run,) = [r for r in rep["runs"] if r["channel"] == channel]
    return run


async def payment_callbacks(trade: TradeWorld, oid: str) -> int:
    async with trade.db.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(outbox).where(
            outbox.c.order_id == oid, outbox.c.type == "payment"))).scalar_one())


async def console_page(trade: TradeWorld, day: str) -> str:
    page = await trade.http.get(f"{trade.url}/console/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf, page.text
    await trade.http.post(f"{trade.url}/console/login", data={
        "app_id": trade.app_id, "password": trade.app["secret"], "csrf": csrf.group(1), "next": "/console"})
    got = await trade.http.get(f"{trade.url}/console/recon", params={"date": day, "lang": "en"})
    assert got.status_code == 200, got.text
    return got.text


async def test_a_wechat_day_matched_long_short_and_difference(real_channels: Any, db_url: str) -> None:  # noqa: F811
    trade, wx, _ = real_channels
    o1, _ = await paid_by_wechat(trade, wx, "m1", quantity=2)
    rid = await refund_one_unit(trade, "m1", o1)  # matched: the payment and its refund
    assert (await trade.refund(rid)).status == "SUCCESS"
    o2, p2 = await paid_by_wechat(trade, wx, "long", notify=False)  # paid at WeChat; the notify is lost
    _, p3 = await paid_by_wechat(trade, wx, "short")
    _, p4 = await paid_by_wechat(trade, wx, "diff")
    assert (await attempt(trade, o2)).state == "PROCESSING" and await payment_callbacks(trade, o2) == 0
    wechat_bills.book(wx, D1)
    wechat_bills.script(wx).day_of[p3] = "2025-12-30"  # WeChat has no trade p3 on D1 (nor on D2)
    wx.trades[p4]["amount"] = 900  # WeChat says 9.00 where we hold 10.00
    trade.clock.advance(86400)

    code, rep = await reconcile(trade, db_url, D1)
    assert code == 1, rep  # the difference is a break
    w = run_of(rep, "wechatpay")
    assert w["state"] == "DONE" and w["bill_lines"] == 4  # p1, its refund, p2, p4
    assert w["counts"] == {"matched": 2, "long": 1, "short": 1, "diff": 1}
    assert w["amounts"] == {"matched": 3000, "long": 1000, "short": 1000, "diff": 900}
    lines = {ln["klass"]: ln for ln in w["lines"]}
    assert (lines["long"]["out_trade_no"], lines["long"]["action"], lines["long"]["state"]) == (p2, "paid", "ok")
    assert (lines["short"]["out_trade_no"], lines["short"]["state"]) == (p3, "pending")
    assert (lines["diff"]["out_trade_no"], lines["diff"]["channel_amount"], lines["diff"]["our_amount"],
            lines["diff"]["state"]) == (p4, 900, 1000, "break")
    assert [b["out_trade_no"] for b in rep["open_breaks"]] == [p4] and rep["pending"] == 1
    assert {r["channel"]: r["state"] for r in rep["runs"]} == {"sandbox": "DONE", "wechatpay": "DONE",
                                                               "alipay": "DONE"}
    assert (await attempt(trade, o2)).state == "SUCCESS"  # settled through the paid path: the order is paid
    assert (await trade.http.get(f"{trade.url}/api/buyer/v1/orders/{o2}", headers=trade.auth("long"))
            ).json()["status"] == "SUCCESS"
    assert await payment_callbacks(trade, o2) == 1
    async with trade.db.engine.connect() as conn:
        stored = (await conn.execute(select(func.count()).select_from(recon_lines))).scalar_one()

    code2, rep2 = await reconcile(trade, db_url, D1)  # run twice: acts once
    assert code2 == 1 and rep2 == rep
    assert await payment_callbacks(trade, o2) == 1
    async with trade.db.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(recon_lines))).scalar_one() == stored

    html = await console_page(trade, D1)
    for key, klass, state in ((p2, "long", "ok"), (p3, "short", "pending"), (p4, "diff", "break")):
        assert f'data-klass="{klass}" data-state="{state}"' in html and key in html, klass
    assert "Settled: the order is paid" in html and "The amounts differ" in html
    assert "Not in the channel&#39;s bill" in html or "Not in the channel's bill" in html

    # the next day: WeChat's bill of D2 lacks p3 too -> the short becomes a break
    _, p5 = await paid_by_wechat(trade, wx, "d2")
    wechat_bills.script(wx).day_of[p5] = D2
    trade.clock.advance(86400)
    code, rep = await reconcile(trade, db_url, D2)
    assert code == 1 and run_of(rep, "wechatpay")["counts"] == {"matched": 1, "long": 0, "short": 0, "diff": 0}
    assert sorted(b["out_trade_no"] for b in rep["open_breaks"]) == sorted([p3, p4]) and rep["pending"] == 0
    check = await run_cli("check", "--database", db_url)
    assert check.exit_code == 1 and f"reconciliation break: app {trade.app_id} wechatpay {D1}" in check.output
    assert p3 in check.output and p4 in check.output
    # a person deals with the breaks and says so: check is clean again
    ids = [str(b["id"]) for b in rep["open_breaks"]]
    res = await run_cli("reconcile", "--app", trade.app_id, "--resolve", ids[0], "--database", db_url)
    assert res.exit_code == 2 and "--note" in res.output
    res = await run_cli("reconcile", "--app", trade.app_id, "--resolve", ids[0], "--resolve", ids[1], "--note",
                        "refunded by hand", "--database", db_url)
    assert res.exit_code == 0 and "resolved 2 line(s); 0 break(s) still open" in res.output, res.output
    assert (await run_cli("check", "--database", db_url)).exit_code == 0


async def test_reconcile_refuses_a_day_that_has_not_ended(real_channels: Any, db_url: str) -> None:  # noqa: F811
    trade, _, _ = real_channels
    res = await run_cli("reconcile", "--app", trade.app_id, "--date", "2099-01-01", "--database", db_url)
    assert res.exit_code == 2 and "has not ended yet" in res.output
    res = await run_cli("reconcile", "--app", trade.app_id, "--date", "01/01/2026", "--database", db_url)
    assert res.exit_code == 2 and "YYYY-MM-DD" in res.output


def test_day_constant_is_the_fake_clocks_day() -> None:
    assert date.fromisoformat(D1).isoformat() == D1
