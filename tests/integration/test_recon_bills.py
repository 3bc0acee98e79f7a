"""Bad bills (issue 20, "Bad input and failure"), on both databases: a bill that does not download, a hash that
does not match, a file in an unexpected format or encoding, a day with no bill yet: each a clear reason on the run
(the CLI and the console show it), nothing changed (the long payment stays unsettled, no line written), and the day
is tried again: the worker after RETRY_MS, `paybutton reconcile` at once; the long payment then settles as a
late one when its order ended meanwhile (refunded automatically, once). And an Alipay day that reconciles: a
payment and its refund from the GBK zip."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fakes import alipay_bills, wechat_bills
from sqlalchemy import func, select
from test_real_channels import attempt, pay, place, refund_one_unit
from test_real_channels import real as real_channels  # noqa: F401  (the fixture: the app on both fakes)
from test_recon import console_page, paid_by_wechat, reconcile, run_cli, run_of
from trade_world import TradeWorld

from paybutton.order import ending
from paybutton.recon import running, store
from paybutton.tables import recon_lines
from paybutton.tables import refunds as refunds_t

D1 = date(2026, 1, 1)

WECHAT_CASES = [("creating", "not_ready", "STATEMENT_CREATING"), ("lost", "download", "HTTP 500"),
                ("bad_hash", "hash", "SHA1"), ("not_gzip", "format", "gzip"), ("bad_format", "format", "商户订单号"),
                ("gbk", "encoding", "UTF-8"), ("nothing", "not_ready", "NO_STATEMENT_EXIST")]
ALIPAY_CASES = [("not_ready", "not_ready", "no bill"), ("lost", "download", "HTTP 404"),
                ("utf8", "encoding", "GBK"), ("not_zip", "format", "not a zip"), ("no_summary", "format", "汇总")]


async def run_row(trade: TradeWorld, channel: str) -> Any:
    async with trade.db.engine.connect() as conn:
        return await store.run_row(conn, trade.app_id, channel, D1.isoformat())


async def lines(trade: TradeWorld) -> int:
    async with trade.db.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(recon_lines))).scalar_one())


async def paid_by_alipay(trade: TradeWorld, ali: Any, who: str, notify: bool = True) -> tuple[str, str]:
    oid = await place(trade, who)
    r = await pay(trade, who, oid, "alipay")
    assert r.status_code == 200, r.text
    page = await trade.http.get(r.json()["result"]["action"]["url"])  # the buyer opens Alipay's page
    assert page.status_code == 200
    p = await attempt(trade, oid)
    await ali.pay(p.payment_id, notify=notify)
    return oid, str(p.payment_id)


async def test_bad_wechat_bills_change_nothing_and_the_day_is_tried_again(real_channels: Any, db_url: str) -> None:  # noqa: F811
    trade, wx, _ = real_channels
    await paid_by_wechat(trade, wx, "paid")  # we hold a payment that day: "no bill" cannot be an empty day
    o, p = await paid_by_wechat(trade, wx, "long", notify=False)
    trade.clock.advance(86400)
    for mode, problem, said in WECHAT_CASES:
        wechat_bills.script(wx).mode = mode
        wechat_bills.book(wx, "2025-12-30" if mode == "nothing" else D1.isoformat())
        assert await running.run_day(trade.tctx, trade.app_id, "wechatpay", D1) is True
        run = await run_row(trade, "wechatpay")
        assert (run.state, run.problem) == ("FAILED", problem), (mode, run.message)
        assert said in run.message, (mode, run.message)
        assert (await attempt(trade, o)).state == "PROCESSING" and await lines(trade) == 0, mode
        # the worker leaves it until the retry is due; it then tries again (and fails the same way)
        assert await running.run_day(trade.tctx, trade.app_id, "wechatpay", D1, retry_now=False) is False
    trade.clock.advance(running.RETRY_MS / 1000)  # the worker's retry is due: it tries the day again
    assert await running.run_day(trade.tctx, trade.app_id, "wechatpay", D1, retry_now=False) is True
    assert (await run_row(trade, "wechatpay")).state == "FAILED"
    code, rep = await reconcile(trade, db_url, D1.isoformat())  # the CLI says why, and exits 3
    assert code == 3 and run_of(rep, "wechatpay")["problem"] == "not_ready"
    res = await run_cli("reconcile", "--app", trade.app_id, "--date", D1.isoformat(), "--database", db_url)
    assert res.exit_code == 3 and "wechatpay: not reconciled: no bill for this day yet" in res.output
    html = await console_page(trade, D1.isoformat())
    assert 'data-problem="not_ready"' in html and "No bill for this day yet" in html
    wechat_bills.script(wx).mode = "ok"
    wechat_bills.book(wx, D1.isoformat())
    assert await ending.expire_due(trade.tctx) >= 1  # the long payment's order has timed out meanwhile
    assert await running.run_day(trade.tctx, trade.app_id, "wechatpay", D1) is True  # on demand: at once
    run = await run_row(trade, "wechatpay")
    assert (run.state, run.matched, run.long, run.tries) == ("DONE", 1, 1, len(WECHAT_CASES) + 4)
    a = await attempt(trade, o)
    assert (a.state, a.late) == ("SUCCESS", True)  # kept as a late payment: refunded automatically, once
    async with trade.db.engine.connect() as conn:
        (line,) = await store.lines_of(conn, run.run_id)
    assert (line.out_trade_no, line.klass, line.action, line.state) == (p, "long", "late", "ok")
    await trade.drive()
    async with trade.db.engine.connect() as conn:
        (refund,) = (await conn.execute(select(refunds_t).where(refunds_t.c.order_id == o))).all()
    assert (refund.payment_id, refund.source, refund.status) == (p, 6, "SUCCESS")


@pytest.mark.parametrize("mode,problem,said", ALIPAY_CASES)
async def test_a_bad_alipay_bill_changes_nothing(real_channels: Any, mode: str, problem: str, said: str) -> None:  # noqa: F811
    trade, _, ali = real_channels
    o, p = await paid_by_alipay(trade, ali, "long", notify=False)
    alipay_bills.book(ali, D1.isoformat())
    alipay_bills.script(ali).mode = mode
    trade.clock.advance(86400)
    assert await running.run_day(trade.tctx, trade.app_id, "alipay", D1) is True
    run = await run_row(trade, "alipay")
    assert (run.state, run.problem) == ("FAILED", problem) and said in run.message, run.message
    assert (await attempt(trade, o)).state == "PROCESSING" and await lines(trade) == 0
    alipay_bills.script(ali).mode = "ok"
    assert await running.run_day(trade.tctx, trade.app_id, "alipay", D1) is True  # on demand: at once
    run = await run_row(trade, "alipay")
    assert (run.state, run.long, run.matched) == ("DONE", 1, 0) and p
    assert (await attempt(trade, o)).state == "SUCCESS"


async def test_an_alipay_day_reconciles_from_its_gbk_zip(real_channels: Any, db_url: str) -> None:  # noqa: F811
    trade, _, ali = real_channels
    o1, _ = await paid_by_alipay(trade, ali, "a1")
    await paid_by_alipay(trade, ali, "a2")
    await refund_one_unit(trade, "a1", o1)
    alipay_bills.book(ali, D1.isoformat())
    trade.clock.advance(86400)
    code, rep = await reconcile(trade, db_url, D1.isoformat())
    assert code == 0, rep
    a = run_of(rep, "alipay")
    assert a["counts"] == {"matched": 3, "long": 0, "short": 0, "diff": 0} and a["amounts"]["matched"] == 3000
    assert alipay_bills.script(ali).asked == [D1.isoformat()]
