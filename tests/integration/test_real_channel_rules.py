"""Issue 20's channel rules through the trade server, on both databases, against the strict fakes: an Alipay page
never opened ends after its deadline; a WAIT_BUYER_PAY notify keeps the attempt live; an Alipay refund answered
fund_change N waits for refund.query; a WeChat refund notify with another amount is refused; a byte-identical
duplicate WeChat notify is answered success."""

from __future__ import annotations

from typing import Any

from test_real_channels import attempt, order, pay, place, real, refund_one_unit

from paybutton.order import reconcile
from paybutton.refund.settling import CASHIER_LEASE_MS

__all__ = ["real"]


async def _paid(trade: Any, ali: Any, who: str, channel: str = "alipay") -> tuple[str, Any]:
    oid = await place(trade, who, quantity=2)
    r = await pay(trade, who, oid, channel)
    assert r.status_code == 200, r.text
    if channel == "alipay":
        assert (await trade.http.get(r.json()["result"]["action"]["url"])).status_code == 200
    return oid, await attempt(trade, oid)


async def test_an_alipay_page_never_opened_ends_after_its_deadline(real: Any) -> None:
    trade, _, ali = real
    oid = await place(trade, "n1")
    assert (await pay(trade, "n1", oid, "alipay")).status_code == 200
    p = await attempt(trade, oid)
    assert p.payment_id not in ali.trades  # never opened: ACQ.TRADE_NOT_EXIST
    assert await reconcile.check(trade.tctx, trade.app_id, p.payment_id) == "later"  # before time_expire: still waiting
    assert (await attempt(trade, oid)).state == "PROCESSING"
    trade.clock.set(p.created_at + 24 * 3600 * 1000)  # long past the order's pay deadline (its time_expire)
    assert await reconcile.check(trade.tctx, trade.app_id, p.payment_id) == "closed"
    assert (await attempt(trade, oid)).state == "CLOSED"
    assert await reconcile.check(trade.tctx, trade.app_id, p.payment_id) == "gone"  # the reconciler stops asking


async def test_wait_buyer_pay_keeps_the_attempt_live_then_trade_success_pays(real: Any) -> None:
    trade, _, ali = real
    oid = await place(trade, "n2")
    r = await pay(trade, "n2", oid, "alipay")
    await trade.http.get(r.json()["result"]["action"]["url"])
    p = await attempt(trade, oid)
    n = await ali.notify_status(p.payment_id, "WAIT_BUYER_PAY")
    assert n.answer == b"success"
    assert (await attempt(trade, oid)).state == "PROCESSING"
    await ali.pay(p.payment_id)
    done = await attempt(trade, oid)
    assert done.state == "SUCCESS" and not done.late and (await order(trade, "n2", oid))["status"] == "SUCCESS"
    finished = await ali.notify_status(p.payment_id, "TRADE_FINISHED")  # paid too: a replay, changes nothing
    assert finished.answer == b"success" and (await attempt(trade, oid)).state == "SUCCESS"


async def test_an_alipay_refund_with_fund_change_n_waits_for_the_refund_query(real: Any) -> None:
    trade, _, ali = real
    oid, p = await _paid(trade, ali, "n3")
    await ali.pay(p.payment_id)
    ali.refund_mode = "slow"
    rid = await refund_one_unit(trade, "n3", oid)
    assert rid in ali.trades[p.payment_id]["slow"]
    assert (await trade.refund(rid)).status == "PROCESSING"  # fund_change N: not done
    trade.clock.advance(CASHIER_LEASE_MS / 1000 + 1)
    await trade.drive()  # the worker asks again: still not done
    assert (await trade.refund(rid)).status == "PROCESSING"
    await ali.finish_refund(p.payment_id, rid)
    trade.clock.advance(CASHIER_LEASE_MS / 1000 + 1)
    await trade.drive()  # refund.query: REFUND_SUCCESS
    assert (await trade.refund(rid)).status == "SUCCESS"


async def test_a_wechat_refund_notify_with_another_amount_is_refused(real: Any) -> None:
    trade, wx, _ = real
    oid, p = await _paid(trade, None, "n4", "wechat")
    await wx.pay(p.payment_id)
    wx.refund_mode = "processing"
    rid = await refund_one_unit(trade, "n4", oid)
    bad = await wx.refund_done(rid, amount=1)
    assert bad is not None and bad.status == 500
    assert (await trade.refund(rid)).status == "PROCESSING"  # nothing changed
    good = await wx.refund_done(rid)
    assert good is not None and good.status == 204 and (await trade.refund(rid)).status == "SUCCESS"


async def test_a_byte_identical_wechat_notify_again_is_answered_success(real: Any) -> None:
    trade, wx, _ = real
    oid, p = await _paid(trade, None, "n5", "wechat")
    first = (await wx.pay(p.payment_id))[0]
    again = await wx.deliver(first.__class__(first.kind, first.url, first.headers, first.body))
    assert (first.status, again.status) == (204, 204)
    assert (await order(trade, "n5", oid))["status"] == "SUCCESS"
