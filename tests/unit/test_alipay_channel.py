"""The Alipay cashier (python-alipay-sdk, unmodified) against the local fake gateway: RSA2 both ways."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from fakes import keys
from fakes.alipay_gateway import FakeAlipay
from fakes.receiver import Receiver

from paybutton.cashier import payconfig
from paybutton.cashier.alipay import AlipayCashier
from paybutton.cashier.base import ChargeRequest, Outcome, TradeState


@dataclass
class World:
    fake: FakeAlipay
    cashier: AlipayCashier
    receiver: Receiver
    notify_url: str


@pytest.fixture
def ali(live_factory: Any) -> World:
    fake = FakeAlipay()
    fake.base_url = live_factory(fake.app()).url
    receiver = Receiver()
    rurl = live_factory(receiver.app()).url
    # 10 s only guards against a hang (a loaded machine's answers may take over 1 s); the timeout test has its own
    receiver.cashier = AlipayCashier(payconfig.check_channel("alipay", fake.merchant_config()), timeout=10.0)
    return World(fake, receiver.cashier, receiver, f"{rurl}/notify")


def req(w: World, otn: str, *, client: Literal["desktop", "phone"] = "desktop", amount: int = 1990) -> ChargeRequest:
    return ChargeRequest(out_trade_no=otn, order_id="ord1", amount=amount, description="Latte", channel="alipay",
                         client=client, return_url="http://shop.test/back?x=1", notify_url=w.notify_url,
                         expire_at_ms=int(time.time() * 1000) + 300_000)


async def open_page(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(url)


async def test_page_pay_redirect_then_buyer_pays(ali: World) -> None:
    r = await ali.cashier.charge(req(ali, "att1"))
    assert r.outcome is Outcome.PENDING and r.action is not None and r.action.kind == "redirect"
    q = parse_qs(urlsplit(r.action.url).query)
    assert r.action.url.startswith(ali.fake.gateway + "?") and q["method"] == ["alipay.trade.page.pay"]
    assert '"total_amount":"19.90"' in q["biz_content"][0] and q["notify_url"] == [ali.notify_url]
    assert (await ali.cashier.query("att1")).state is TradeState.WAITING  # not opened at Alipay yet
    page = await open_page(r.action.url)  # the gateway checked the URL's signature and shows its cashier
    assert page.status_code == 200 and "¥19.90" in page.text
    assert (await ali.cashier.query("att1")).state is TradeState.WAITING
    notices = await ali.fake.pay("att1", times=2)  # a notify sent twice: both verified, both answered success
    assert [(n.status, n.answer) for n in notices] == [(200, b"success")] * 2
    assert [(e.kind, e.out_trade_no, e.paid, e.amount) for e in ali.receiver.events] == [
        ("payment", "att1", True, 1990)] * 2
    got = await ali.cashier.query("att1")
    assert got.state is TradeState.PAID and got.amount == 1990 and got.channel_pay_id == notices[0].params["trade_no"]


async def test_wap_pay_on_phones_and_a_tampered_url_is_refused(ali: World) -> None:
    r = await ali.cashier.charge(req(ali, "att2", client="phone"))
    assert r.action is not None and parse_qs(urlsplit(r.action.url).query)["method"] == ["alipay.trade.wap.pay"]
    tampered = r.action.url.replace("19.90", "0.01")
    page = await open_page(tampered)
    assert "isv.invalid-signature" in page.text and ali.fake.refused == ["alipay.trade.wap.pay"]


async def test_query_before_notify_close_and_timeout(ali: World) -> None:
    r = await ali.cashier.charge(req(ali, "att3"))
    assert r.action is not None
    await open_page(r.action.url)
    await ali.fake.pay("att3", notify=False)
    assert (await ali.cashier.query("att3")).state is TradeState.PAID  # the query first ...
    n = await ali.fake.deliver(ali.fake.payment_notice("att3", url=ali.notify_url))  # ... the notify after
    assert n.answer == b"success"
    r4 = await ali.cashier.charge(req(ali, "att4"))
    assert r4.action is not None
    await open_page(r4.action.url)
    await ali.cashier.close("att4")
    assert (await ali.cashier.query("att4")).state is TradeState.CLOSED
    ali.fake.mode, ali.fake.delay = "timeout", 2.5
    # UNKNOWN, not the late answer's PAID: the query gave up at its 1-s timeout instead of waiting 2.5 s for it
    # (a wall-clock bound here failed on a loaded machine; the answer itself shows who came first)
    quick = AlipayCashier(payconfig.check_channel("alipay", ali.fake.merchant_config()), timeout=1.0)
    assert (await quick.query("att3")).state is TradeState.UNKNOWN


async def test_answers_not_signed_by_alipay_are_not_trusted(ali: World) -> None:
    cfg = {**ali.fake.merchant_config(), "alipay_public_key": keys.pair("not-alipay")[1]}
    other = AlipayCashier(payconfig.check_channel("alipay", cfg), timeout=1.0)
    assert (await other.query("att1")).state is TradeState.UNKNOWN


async def test_refunds_and_their_notify(ali: World) -> None:
    r = await ali.cashier.charge(req(ali, "att5"))
    assert r.action is not None
    await open_page(r.action.url)
    await ali.fake.pay("att5")
    pay_id = ali.receiver.events[0].channel_pay_id
    ok = await ali.cashier.refund(refund_id="rf1", order_id="ord1", amount=995, channel_pay_id=pay_id,
                                  out_trade_no="att5", total=1990)
    assert ok.ok and not ok.pending and ok.channel_refund_id == f"{pay_id}:rf1"
    again = await ali.cashier.refund(refund_id="rf1", order_id="ord1", amount=995, channel_pay_id=pay_id,
                                     out_trade_no="att5", total=1990)
    assert again == ok  # idempotent by out_request_no
    for _ in range(500):  # the refund notify comes on its own: up to 10 s on a busy machine
        if len(ali.fake.notices) == 2:
            break
        await asyncio.sleep(0.02)
    # Alipay notifies the refund to the payment's notify_url: verified, read as the (paid) trade's status sync
    refund_notice = ali.fake.notices[1]
    assert refund_notice.params["out_biz_no"] == "rf1" and refund_notice.answer == b"success"
    assert [(e.kind, e.paid, e.amount) for e in ali.receiver.events] == [("payment", True, 1990)] * 2
    as_refund = ali.cashier.parse_notify("refund", {}, urlencode(refund_notice.params).encode())
    assert (as_refund.kind, as_refund.out_refund_no, as_refund.ok) == ("refund", "rf1", True)
    assert (await ali.cashier.query_refund("rf1", "att5")).ok
    assert not (await ali.cashier.query_refund("rf9", "att5")).ok
    too_much = await ali.cashier.refund(refund_id="rf2", order_id="ord1", amount=996, channel_pay_id=pay_id,
                                        out_trade_no="att5", total=1990)
    assert not too_much.ok and "REFUND_AMT" in too_much.message
    ali.fake.refund_mode = "fail"
    refused = await ali.cashier.refund(refund_id="rf3", order_id="ord1", amount=1, channel_pay_id=pay_id,
                                       out_trade_no="att5", total=1990)
    assert not refused.ok and "SELLER_BALANCE_NOT_ENOUGH" in refused.message


async def test_bad_notifies_are_refused_with_fail(ali: World) -> None:
    r = await ali.cashier.charge(req(ali, "att6"))
    assert r.action is not None
    await open_page(r.action.url)
    await ali.fake.pay("att6", notify=False)
    forged = ali.fake.payment_notice("att6", url=ali.notify_url, private=keys.pair("forger")[0])
    other_app = ali.fake.payment_notice("att6", url=ali.notify_url, app_id="2021000000000000")
    changed = ali.fake.payment_notice("att6", url=ali.notify_url)
    changed.params["total_amount"] = "0.01"  # altered after signing
    for n in (forged, other_app, changed):
        assert (await ali.fake.deliver(n)).answer == b"fail"
    assert ali.receiver.refused == ["bad signature", "notify for another app_id", "bad signature"]
    assert ali.receiver.events == []
    # a signed notify with another amount is verified and reported with its amount for the core to compare
    await ali.fake.deliver(ali.fake.payment_notice("att6", url=ali.notify_url, total_amount="0.01"))
    assert ali.receiver.events[-1].amount == 1
