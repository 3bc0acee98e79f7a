"""Profit sharing on the real channels (issue 20), over real HTTP against the fake WeChat Pay and Alipay gateways, on
SQLite and PostgreSQL: an order paid through the channel and settled with one receiver sends the receiver's share
through the channel's own profit sharing after the settle commits; a query finishes it, the `share` ledger txn posts
once (run twice: acts once) and `paybutton check` is clean; a channel refusal leaves the share FAILED with the
channel's reason and nothing posted; a channel that does not answer is asked again by the worker; a share still
processing is asked about on the reconciler's schedule by one instance; a refund never needs a share returned;
`receiver add` takes the channel accounts."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from fakes.alipay_gateway import FakeAlipay
from fakes.wechat_gateway import FakeWechat
from settle_world import redeem, settle
from sqlalchemy import func, select
from trade_world import TradeWorld
from typer.testing import CliRunner

from paybutton.apps import service as app_service
from paybutton.apps import settle_rules
from paybutton.cli import cli
from paybutton.config import Settings
from paybutton.context import AppCache
from paybutton.db import Database
from paybutton.fulfillment.service import verify_code
from paybutton.ledger import balances
from paybutton.settle import sharing
from paybutton.tables import channel_shares, ledger_txns, payments

BUYER = "/api/buyer/v1"
RECEIVER = "7000000000000000009"
WECHAT_ACCOUNT, ALIPAY_ACCOUNT = "1900000110", "2088101117955612"
PAST_NEXT_CHECK = 600  # seconds: past any step of the schedule a share is asked about on (order/reconcile.delay_ms)


@pytest.fixture
async def real(trade: TradeWorld, live_factory: Any) -> tuple[TradeWorld, FakeWechat, FakeAlipay]:
    wx, ali = FakeWechat(), FakeAlipay()
    wx.base_url = live_factory(wx.app()).url
    ali.base_url = live_factory(ali.app()).url
    ali.clock = lambda: trade.clock.now_ms() / 1000
    trade.server.app.state.ctx.settings.public_url = trade.url
    async with trade.db.tx() as conn:
        await app_service.set_pay_channel(conn, trade.clock, trade.app_id, "wechat", wx.merchant_config())
        await app_service.set_pay_channel(conn, trade.clock, trade.app_id, "alipay", ali.merchant_config())
        await settle_rules.add_receiver(conn, trade.clock, RECEIVER, "渠道商", wechat_account=WECHAT_ACCOUNT,
                                        alipay_account=ALIPAY_ACCOUNT)
    trade.server.app.state.ctx.apps.forget(trade.app_id)
    trade.tctx.apps.forget(trade.app_id)
    await trade.tctx.app(trade.app_id)
    await trade.add_goods("g", price=1000)
    return trade, wx, ali


async def paid(trade: TradeWorld, who: str, channel: str, fake: Any) -> dict[str, Any]:
    """An order paid through `channel` (wechat: the buyer pays at the fake; alipay: opens the page and pays)."""
    r = await trade.http.post(f"{trade.url}{BUYER}/orders", headers=trade.auth(who),
                              json={"goods_id": "g", "goods_type": 1, "quantity": 1})
    oid = str(r.json()["order_id"])
    await trade.http.post(f"{trade.url}{BUYER}/orders/{oid}/cashier", headers=trade.auth(who))
    r = await trade.http.post(f"{trade.url}{BUYER}/orders/{oid}/pay", json={"channel": channel},
                              headers=trade.auth(who))
    assert r.status_code == 200, r.text
    async with trade.db.engine.connect() as conn:
        pid = (await conn.execute(select(payments.c.payment_id).where(payments.c.order_id == oid))).scalar_one()
    if channel == "wechat":
        await trade.http.post(f"{fake.base_url}/_fake/pay/{pid}")
    else:
        assert (await trade.http.get(r.json()["result"]["action"]["url"])).status_code == 200
        await trade.http.post(f"{fake.base_url}/_fake/pay/{pid}")
    got = (await trade.http.get(f"{trade.url}{BUYER}/orders/{oid}", headers=trade.auth(who))).json()
    assert got["status"] == "SUCCESS", got
    await redeem(trade, oid)
    return {"order_id": oid, "out_order_no": got["out_order_no"]}


async def share_row(trade: TradeWorld) -> Any:
    async with trade.db.engine.connect() as conn:
        return (await conn.execute(select(channel_shares))).one()


async def share_txns(trade: TradeWorld) -> int:
    async with trade.db.engine.connect() as conn:
        q = select(func.count()).select_from(ledger_txns).where(ledger_txns.c.kind == "share")
        return int((await conn.execute(q)).scalar_one())


async def settle_with_receiver(trade: TradeWorld, order: dict[str, Any]) -> None:
    env = await settle(trade, order, "S1", settle_params=f'[{{"merchant_uid":"{RECEIVER}","amount":200}}]')
    assert env["extra"]["error_code"] == 0, env


async def finished_once(trade: TradeWorld, channel: str, db_url: str) -> None:
    trade.clock.advance(PAST_NEXT_CHECK)
    for _ in range(2):  # run twice: acts once
        await sharing.advance_due(trade.tctx)
    row = await share_row(trade)
    assert (row.state, row.channel, row.amount, row.sent) == ("FINISHED", channel, 200, True), row
    assert await share_txns(trade) == 1
    async with trade.db.engine.connect() as conn:
        assert await balances.balance(conn, f"receiver:{RECEIVER}") == 0  # owed 200 by the settle, paid 200
        assert await balances.balance(conn, f"channel:{channel}") == 800
    got = await asyncio.to_thread(CliRunner().invoke, cli, ["check", "--database", db_url])
    assert got.exit_code == 0, got.output


async def test_wechat_share_goes_through_profit_sharing(real: Any, db_url: str) -> None:
    trade, wx, _ = real
    order = await paid(trade, "w1", "wechat", wx)
    (trade_seen,) = wx.trades.values()
    assert trade_seen["profit_sharing"] is True  # settle_info.profit_sharing: a receiver has a WeChat account
    await settle_with_receiver(trade, order)
    (sent,) = wx.sharing["orders"].values()  # sent after the settle committed
    assert sent["receivers"][0]["account"] == WECHAT_ACCOUNT and sent["receivers"][0]["amount"] == 200
    assert wx.sharing["receivers"][WECHAT_ACCOUNT]["name"]  # added as a receiver first
    assert (await share_row(trade)).state == "PROCESSING" and await share_txns(trade) == 0
    await finished_once(trade, "wechatpay", db_url)
    assert wx.sharing["queries"] == 1


async def test_alipay_share_goes_through_royalty_settle(real: Any, db_url: str) -> None:
    trade, _, ali = real
    ali.sharing["bound"].add(ALIPAY_ACCOUNT)  # the merchant bound the receiver (alipay.trade.royalty.relation.bind)
    order = await paid(trade, "a1", "alipay", ali)
    await settle_with_receiver(trade, order)
    (sent,) = ali.sharing["settles"].values()
    assert sent["details"][0]["trans_in"] == ALIPAY_ACCOUNT and sent["details"][0]["amount"] == "2.00"
    assert (await share_row(trade)).state == "PROCESSING" and await share_txns(trade) == 0
    await finished_once(trade, "alipay", db_url)
    assert ali.sharing["queries"] == 1


async def test_channel_refusals_leave_the_share_failed(real: Any, db_url: str) -> None:
    trade, wx, ali = real
    wx.sharing["mode"] = "close"  # WeChat Pay closes the receiver's share (ACCOUNT_ABNORMAL)
    await settle_with_receiver(trade, await paid(trade, "w2", "wechat", wx))
    trade.clock.advance(PAST_NEXT_CHECK)
    await sharing.advance_due(trade.tctx)
    row = await share_row(trade)
    assert row.state == "FAILED" and "ACCOUNT_ABNORMAL" in row.message and await share_txns(trade) == 0
    # Alipay refuses a receiver that was never bound: FAILED at once with its reason
    order = await paid(trade, "a2", "alipay", ali)
    env = await settle(trade, order, "S2", settle_params=f'[{{"merchant_uid":"{RECEIVER}","amount":200}}]')
    async with trade.db.engine.connect() as conn:
        row = (await conn.execute(select(channel_shares).where(
            channel_shares.c.settle_id == env["data"]["settle_id"]))).one()
    assert row.state == "FAILED" and "分账关系未绑定" in row.message and await share_txns(trade) == 0
    assert await sharing.advance_due(trade.tctx) == 0 and await share_txns(trade) == 0
    got = await asyncio.to_thread(CliRunner().invoke, cli, ["check", "--database", db_url])
    assert got.exit_code == 0, got.output


async def test_refund_never_needs_a_share_returned(real: Any, db_url: str) -> None:
    """Shares come only out of settled units' money, and a settled unit never refunds (ITEM_SETTLED): a refund of
    the other unit takes unshared money, which WeChat Pay refunds without a return (its fake refuses a refund that
    would reach shared money), and the settled unit's refund is refused."""
    trade, wx, _ = real
    r = await trade.http.post(f"{trade.url}{BUYER}/orders", headers=trade.auth("w3"),
                              json={"goods_id": "g", "goods_type": 1, "quantity": 2})
    oid = str(r.json()["order_id"])
    await trade.http.post(f"{trade.url}{BUYER}/orders/{oid}/cashier", headers=trade.auth("w3"))
    assert (await trade.http.post(f"{trade.url}{BUYER}/orders/{oid}/pay", json={"channel": "wechat"},
                                  headers=trade.auth("w3"))).status_code == 200
    (pid,) = wx.trades
    await trade.http.post(f"{wx.base_url}/_fake/pay/{pid}")
    units = await trade.items(oid)
    async with trade.db.tx() as conn:
        await verify_code(conn, trade.clock, units[0].voucher_code)
    out_no = (await trade.http.get(f"{trade.url}{BUYER}/orders/{oid}", headers=trade.auth("w3"))).json()[
        "out_order_no"]
    order = {"order_id": oid, "out_order_no": out_no}
    env = await settle(trade, order, "S1", item_order_id=units[0].item_order_id,
                       settle_params=f'[{{"merchant_uid":"{RECEIVER}","amount":200}}]')
    assert env["extra"]["error_code"] == 0, env
    trade.clock.advance(PAST_NEXT_CHECK)
    await sharing.advance_due(trade.tctx)
    row = await share_row(trade)
    assert row.state == "FINISHED" and row.finish is False  # a unit is left: the rest stays for its settle
    assert wx.trades[pid]["shared"] == 200

    async def refund(unit: Any, no: str) -> dict[str, Any]:
        return await trade.api("refund/create_refund", {"out_order_no": out_no, "out_refund_no": no,
                                                        "item_order_detail": [{"item_order_id": unit.item_order_id}]})

    assert "已结算" in (await refund(units[0], "R1"))["extra"]["description"]
    got = await refund(units[1], "R2")
    assert got["extra"]["error_code"] == 0, got
    await trade.drive()
    (done,) = wx.refunds.values()
    assert done["view"]["amount"]["refund"] == 1000 and done["view"]["status"] == "SUCCESS"
    assert await trade.refund(got["data"]["refund_id"]) is not None
    assert (await trade.refund(got["data"]["refund_id"])).status == "SUCCESS"
    cli_got = await asyncio.to_thread(CliRunner().invoke, cli, ["check", "--database", db_url])
    assert cli_got.exit_code == 0, cli_got.output


async def test_receiver_add_takes_channel_accounts(trade: TradeWorld, db_url: str) -> None:
    def run(*args: str) -> Any:
        return CliRunner().invoke(cli, ["receiver", *args, "--database", db_url])

    got = await asyncio.to_thread(run, "add", "7000000000000000011", "--name", "渠道", "--wechat-account",
                                  "1900000111", "--alipay-account", "2088101117955613", "--json")
    assert got.exit_code == 0, got.output
    listed = await asyncio.to_thread(run, "list", "--json")
    assert '"wechat_account": "1900000111"' in listed.output and '"alipay_account": "2088101117955613"' in listed.output
    bad = await asyncio.to_thread(run, "add", "7000000000000000012", "--name", "x", "--alipay-account", "12345")
    assert bad.exit_code != 0 and "2088" in bad.output


async def test_a_channel_that_does_not_answer_is_asked_again(real: Any, db_url: str) -> None:
    trade, wx, _ = real
    order = await paid(trade, "w4", "wechat", wx)
    wx.mode = "error"  # WeChat Pay answers 500 while the settle commits
    await settle_with_receiver(trade, order)
    row = await share_row(trade)
    assert (row.state, row.sent) == ("PROCESSING", False) and "did not answer" in row.message
    asked = len(wx.requests)
    await sharing.advance_due(trade.tctx)  # not asked again at once: its next check is 5 s after
    assert len(wx.requests) == asked
    trade.clock.advance(PAST_NEXT_CHECK)
    await sharing.advance_due(trade.tctx)  # still down: left PROCESSING, nothing posted
    assert len(wx.requests) > asked
    assert (await share_row(trade)).state == "PROCESSING" and await share_txns(trade) == 0
    wx.mode = "ok"
    trade.clock.advance(PAST_NEXT_CHECK)
    await sharing.advance_due(trade.tctx)  # sent now (the same out_order_no)
    assert (await share_row(trade)).sent is True and len(wx.sharing["orders"]) == 1
    await finished_once(trade, "wechatpay", db_url)


async def test_a_share_still_processing_is_asked_on_a_schedule_by_one_instance(real: Any, db_url: str) -> None:
    """WeChat Pay shares asynchronously (请求分账: 异步处理): a share still PROCESSING after a query is asked about
    again on the reconciler's schedule (5 s after the request, then 10 s, then 30 s), not at every sweep, and by
    one of two instances sweeping at once."""
    trade, wx, _ = real
    wx.sharing["pending"] = 2  # the first two queries find it still processing
    await settle_with_receiver(trade, await paid(trade, "w5", "wechat", wx))  # sent at once: asked about in 5 s
    other_db = Database(Settings(database_url=db_url))
    other = dataclasses.replace(trade.tctx, db=other_db, apps=AppCache())

    async def sweep(seconds: float) -> tuple[int, str]:
        trade.clock.advance(seconds)
        await asyncio.gather(sharing.advance_due(trade.tctx), sharing.advance_due(other))
        return wx.sharing["queries"], (await share_row(trade)).state

    try:
        assert [await sweep(s) for s in (0, 4.999, 0.001)] == [(0, "PROCESSING"), (0, "PROCESSING"),
                                                                 (1, "PROCESSING")]
        assert [await sweep(s) for s in (1, 9, 29.999, 0.001)] == [(1, "PROCESSING"), (2, "PROCESSING"),
                                                                    (2, "PROCESSING"), (3, "FINISHED")]
    finally:
        await other_db.dispose()
    assert await share_txns(trade) == 1
