"""Alipay's documented rules, against the strict fake: Beijing-time timestamps whatever the host's zone, wap pay's
product_code, the subject's characters, an unopened trade, WAIT_BUYER_PAY / TRADE_FINISHED notifies, the notify's
seller_id, and a refund answered fund_change N confirmed by alipay.trade.fastpay.refund.query."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fakes.alipay_gateway import FakeAlipay
from fakes.receiver import Receiver
from test_alipay_channel import World, open_page, req

from paybutton.cashier import payconfig
from paybutton.cashier.alipay import AlipayCashier
from paybutton.cashier.base import Outcome, TradeState


@pytest.fixture
def ali(live_factory: Any) -> World:
    fake = FakeAlipay()
    fake.base_url = live_factory(fake.app()).url
    receiver = Receiver()
    rurl = live_factory(receiver.app()).url
    # 10 s only guards against a hang: a loaded machine's answers may take over 1 s
    receiver.cashier = AlipayCashier(payconfig.check_channel("alipay", fake.merchant_config()), timeout=10.0)
    return World(fake, receiver.cashier, receiver, f"{rurl}/notify")


@pytest.fixture
def new_york() -> Iterator[None]:
    """The host's zone is not Beijing's (12-13 hours behind)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


async def test_timestamps_are_beijing_time_whatever_the_host_zone(ali: World, new_york: None) -> None:
    r = await ali.cashier.charge(req(ali, "aliTz1"))
    assert r.action is not None
    page = await open_page(r.action.url)
    assert page.status_code == 200 and "¥19.90" in page.text, page.text
    assert (await ali.cashier.query("aliTz1")).state is TradeState.WAITING
    assert ali.fake.refused == []


async def test_wap_pay_sends_quick_wap_way_and_a_clean_subject(ali: World) -> None:
    base = req(ali, "aliWap1", client="phone")
    r = await ali.cashier.charge(dataclasses.replace(base, description="Tea/Coffee = A&B"))
    assert r.action is not None
    page = await open_page(r.action.url)
    assert page.status_code == 200, page.text
    t = ali.fake.trades["aliWap1"]
    assert t["product_code"] == "QUICK_WAP_WAY" and t["subject"] == "Tea Coffee A B"


async def test_an_unopened_trade_is_absent_and_cannot_be_opened_after_time_expire(ali: World) -> None:
    r = await ali.cashier.charge(req(ali, "aliNo1"))
    q = await ali.cashier.query("aliNo1")
    assert q.state is TradeState.WAITING and q.absent  # never opened: ACQ.TRADE_NOT_EXIST
    past = int(time.time() * 1000) - 1000
    late = await ali.cashier.charge(dataclasses.replace(req(ali, "aliNo2"), expire_at_ms=past))
    assert r.action is not None and late.action is not None
    page = await open_page(late.action.url)
    assert "ACQ.TRADE_HAS_CLOSE" in page.text and "aliNo2" not in ali.fake.trades
    opened = await open_page(r.action.url)
    assert opened.status_code == 200 and not (await ali.cashier.query("aliNo1")).absent


async def test_wait_buyer_pay_is_not_final_and_trade_finished_is_paid(ali: World) -> None:
    r = await ali.cashier.charge(req(ali, "aliWait1"))
    assert r.action is not None
    await open_page(r.action.url)
    n = await ali.fake.notify_status("aliWait1", "WAIT_BUYER_PAY")
    assert n.answer == b"success"
    ev = ali.receiver.events[-1]
    assert not ev.paid and not ev.final
    await ali.fake.pay("aliWait1")
    assert ali.receiver.events[-1].paid and ali.receiver.events[-1].final
    n = await ali.fake.notify_status("aliWait1", "TRADE_FINISHED")
    assert n.answer == b"success" and ali.receiver.events[-1].paid and ali.receiver.events[-1].final


async def test_a_notify_for_another_seller_is_refused(ali: World) -> None:
    r = await ali.cashier.charge(req(ali, "aliSel1"))
    assert r.action is not None
    await open_page(r.action.url)
    await ali.fake.pay("aliSel1", notify=False)
    n = await ali.fake.deliver(ali.fake.payment_notice("aliSel1", url=ali.notify_url, seller_id="2088000000000001"))
    assert n.answer == b"fail" and ali.receiver.refused[-1].startswith("notify for another seller_id")


async def test_fund_change_n_stays_pending_until_the_refund_query_says_success(ali: World) -> None:
    r = await ali.cashier.charge(req(ali, "aliRf1"))
    assert r.action is not None
    await open_page(r.action.url)
    await ali.fake.pay("aliRf1")
    ali.fake.refund_mode = "slow"
    kw: dict[str, Any] = {"refund_id": "rfslow1", "order_id": "ord1", "amount": 990, "channel_pay_id": None,
                          "out_trade_no": "aliRf1", "total": 1990}
    first = await ali.cashier.refund(**kw)
    assert first.ok and first.pending and first.channel_refund_id is None  # fund_change N: not done
    assert (await ali.cashier.query_refund("rfslow1", "aliRf1")).pending
    again = await ali.cashier.refund(**kw)  # the refund worker's retry: still not done
    assert again.pending
    await ali.fake.finish_refund("aliRf1", "rfslow1")
    done = await ali.cashier.refund(**kw)  # the retry now: fund_change N (a repeat), the query says REFUND_SUCCESS
    assert done.ok and not done.pending and done.channel_refund_id and done.channel_refund_id.endswith(":rfslow1")
    assert (await ali.cashier.charge(req(ali, "aliRf1"))).outcome is Outcome.PENDING
