"""The WeChat Pay cashier (wechatpayv3, unmodified) against the local fake gateway: signed both ways."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from fakes import keys
from fakes.receiver import Receiver
from fakes.wechat_gateway import FakeWechat

from paybutton.cashier import payconfig
from paybutton.cashier.base import ChargeRequest, Outcome, TradeState
from paybutton.cashier.wechatpay import WechatPayCashier


@dataclass
class World:
    fake: FakeWechat
    cashier: WechatPayCashier
    receiver: Receiver
    notify_url: str


@pytest.fixture
def wx(live_factory: Any) -> World:
    fake = FakeWechat()
    fake.base_url = live_factory(fake.app()).url
    receiver = Receiver()
    rurl = live_factory(receiver.app()).url
    cfg = payconfig.check_channel("wechat", fake.merchant_config())
    # 10 s only guards against a hang (a loaded machine's answers may take over 1 s); the timeout test has its own
    receiver.cashier = WechatPayCashier(cfg, refund_notify_url=f"{rurl}/notify/refund", timeout=10.0)
    return World(fake, receiver.cashier, receiver, f"{rurl}/notify")


def req(w: World, otn: str, *, client: Literal["desktop", "phone"] = "desktop", amount: int = 1990) -> ChargeRequest:
    return ChargeRequest(out_trade_no=otn, order_id="ord1", amount=amount, description="Latte", channel="wechat",
                         client=client,
                         return_url="http://shop.test/back?x=1", notify_url=w.notify_url,
                         expire_at_ms=int(time.time() * 1000) + 300_000)


async def test_native_qr_then_buyer_pays_and_notify_settles(wx: World) -> None:
    r = await wx.cashier.charge(req(wx, "wxatt1"))
    assert r.outcome is Outcome.PENDING and r.action is not None
    assert r.action.kind == "qr" and r.action.url.startswith("weixin://wxpay/bizpayurl?pr=")
    again = await wx.cashier.charge(req(wx, "wxatt1"))  # the same attempt asked twice: the same QR, one trade
    assert again.action == r.action and len(wx.fake.trades) == 1
    assert (await wx.cashier.query("wxatt1")).state is TradeState.WAITING
    notices = await wx.fake.pay("wxatt1", times=2)  # a notify sent twice: both verified, both answered 204
    assert [n.status for n in notices] == [204, 204]
    assert [(e.kind, e.out_trade_no, e.paid, e.amount) for e in wx.receiver.events] == [
        ("payment", "wxatt1", True, 1990)] * 2
    q = await wx.cashier.query("wxatt1")
    assert q.state is TradeState.PAID and q.amount == 1990
    assert q.channel_pay_id == wx.receiver.events[0].channel_pay_id and q.channel_pay_id


async def test_query_before_notify_then_close(wx: World) -> None:
    await wx.cashier.charge(req(wx, "wxatt2"))
    await wx.fake.pay("wxatt2", notify=False)
    q = await wx.cashier.query("wxatt2")  # the query sees the payment before any notify
    assert q.state is TradeState.PAID and q.amount == 1990
    n = await wx.fake.send_payment_notify("wxatt2")  # the notify after the query is still accepted
    assert n.status == 204
    await wx.cashier.charge(req(wx, "wxatt3"))
    await wx.cashier.close("wxatt3")
    assert (await wx.cashier.query("wxatt3")).state is TradeState.CLOSED
    assert (await wx.cashier.query("never-made")).state is TradeState.CLOSED


async def test_h5_redirect_on_phones(wx: World) -> None:
    r = await wx.cashier.charge(req(wx, "wxatt4", client="phone"))
    assert r.outcome is Outcome.PENDING and r.action is not None and r.action.kind == "redirect"
    assert r.action.url.startswith(wx.fake.base_url + "/_fake/h5?prepay_id=")
    assert "redirect_url=http%3A%2F%2Fshop.test%2Fback%3Fx%3D1" in r.action.url


async def test_refused_down_and_timeout(wx: World) -> None:
    wx.fake.mode = "refuse"
    r = await wx.cashier.charge(req(wx, "wxatt5"))
    assert r.outcome is Outcome.FAIL and "NO_AUTH" in r.message
    wx.fake.mode = "error"
    assert (await wx.cashier.charge(req(wx, "wxatt6"))).outcome is Outcome.UNKNOWN
    assert (await wx.cashier.query("wxatt6")).state is TradeState.UNKNOWN
    wx.fake.mode, wx.fake.delay = "timeout", 2.5
    # UNKNOWN, not the late answer's created trade: the charge gave up at its 1-s timeout instead of waiting 2.5 s
    # for it (the answer itself shows who came first; a wall-clock bound can fail on a loaded machine)
    quick = WechatPayCashier(payconfig.check_channel("wechat", wx.fake.merchant_config()), timeout=1.0)
    assert (await quick.charge(req(wx, "wxatt7"))).outcome is Outcome.UNKNOWN
    wx.fake.mode = "ok"
    # the lost answer is settled by query: the fake did create the trade
    assert (await wx.cashier.query("wxatt7")).state is TradeState.WAITING


async def test_wrong_merchant_key_is_refused_by_the_gateway(wx: World, live_factory: Any) -> None:
    cfg = {**wx.fake.merchant_config(), "private_key": keys.pair("someone-else")[0]}
    other = WechatPayCashier(payconfig.check_channel("wechat", cfg), timeout=1.0)
    r = await other.charge(req(wx, "wxatt8"))
    assert r.outcome is Outcome.FAIL and "SIGN_ERROR" in r.message
    assert ("POST", "/v3/pay/transactions/native", 401) in wx.fake.requests


async def test_an_answer_not_signed_by_the_platform_is_not_trusted(wx: World) -> None:
    cfg = {**wx.fake.merchant_config(), "platform_public_key": keys.pair("not-the-platform")[1]}
    other = WechatPayCashier(payconfig.check_channel("wechat", cfg), timeout=1.0)
    assert (await other.charge(req(wx, "wxatt9"))).outcome is Outcome.UNKNOWN


async def test_refunds_success_processing_and_failure(wx: World) -> None:
    await wx.cashier.charge(req(wx, "wxatt10"))
    await wx.fake.pay("wxatt10")
    pay_id = (await wx.cashier.query("wxatt10")).channel_pay_id
    r = await wx.cashier.refund(refund_id="rf1", order_id="ord1", amount=995, channel_pay_id=pay_id,
                                out_trade_no="wxatt10", total=1990)
    assert r.ok and not r.pending and r.channel_refund_id
    assert await wx.cashier.refund(refund_id="rf1", order_id="ord1", amount=995, channel_pay_id=pay_id,
                                   out_trade_no="wxatt10", total=1990) == r  # idempotent by out_refund_no
    for _ in range(100):
        if any(e.kind == "refund" for e in wx.receiver.events):
            break
        await asyncio.sleep(0.02)
    ev = [e for e in wx.receiver.events if e.kind == "refund"]
    assert [(e.out_refund_no, e.ok, e.amount) for e in ev] == [("rf1", True, 995)]
    wx.fake.refund_mode = "processing"
    r2 = await wx.cashier.refund(refund_id="rf2", order_id="ord1", amount=500, channel_pay_id=None,
                                 out_trade_no="wxatt10", total=None)
    assert r2.ok and r2.pending
    assert (await wx.cashier.query_refund("rf2")).pending
    n = await wx.fake.refund_done("rf2")
    assert n is not None and n.status == 204
    assert (await wx.cashier.query_refund("rf2")).ok and not (await wx.cashier.query_refund("rf2")).pending
    wx.fake.refund_mode = "fail"
    r3 = await wx.cashier.refund(refund_id="rf3", order_id="ord1", amount=1, channel_pay_id=pay_id,
                                 out_trade_no="wxatt10", total=1990)
    assert not r3.ok and "NOT_ENOUGH" in r3.message
    wx.fake.refund_mode = "success"
    r4 = await wx.cashier.refund(refund_id="rf4", order_id="ord1", amount=496, channel_pay_id=pay_id,
                                 out_trade_no="wxatt10", total=1990)  # 995 + 500 + 496 > 1990
    assert not r4.ok and "INVALID_REQUEST" in r4.message


async def test_bad_notifies_are_refused_and_answered_as_wechat_expects(wx: World) -> None:
    await wx.cashier.charge(req(wx, "wxatt11"))
    await wx.fake.pay("wxatt11", notify=False)
    bad = [
        wx.fake.payment_notice("wxatt11", url=wx.notify_url, private=keys.pair("forger")[0]),  # bad signature
        wx.fake.payment_notice("wxatt11", url=wx.notify_url, ts=int(time.time()) - 3600),  # stale: a replay
        wx.fake.payment_notice("wxatt11", url=wx.notify_url, apiv3_key="x" * 32),  # not our APIv3 key
    ]
    for n in bad:
        got = await wx.fake.deliver(n)
        assert got.status == 500 and json.loads(got.answer)["code"] == "FAIL"
    good = await wx.fake.deliver(wx.fake.payment_notice("wxatt11", url=wx.notify_url))
    assert good.status == 204
    # the very same signed bytes again: WeChat Pay sends a notify more than once ("同样的通知可能会多次发送"); a
    # verified duplicate is answered success (it was 500), and the core takes it once
    replay = await wx.fake.deliver(good)
    assert replay.status == 204
    assert len(wx.receiver.events) == 2 and wx.receiver.events[0] == wx.receiver.events[1]
    assert wx.receiver.refused == ["bad signature or undecryptable resource", wx.receiver.refused[1],
                                   "bad signature or undecryptable resource"]
    assert wx.receiver.refused[1].startswith("stale notify")
    # unknown trade / wrong amount: verified, and the amount is reported for the core to compare with the attempt
    await wx.fake.deliver(wx.fake.payment_notice("wxatt11", url=wx.notify_url, amount=1))
    assert wx.receiver.events[-1].amount == 1
