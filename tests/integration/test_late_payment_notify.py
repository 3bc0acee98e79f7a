"""A channel notify says a CLOSED attempt was paid (issue 19 defect 7): the buyer paid at the channel as the
attempt was being closed. The money is kept as a late payment, the order is marked for the automatic refund, the
refund goes back through that attempt's own channel trade, and a replayed notify changes nothing."""

from __future__ import annotations

from channel_doubles import HmacChannel
from sqlalchemy import select
from test_pay_attempts import attempts, order_row, pay, place, use
from trade_world import TradeWorld

from paybutton.cashier.base import TradeState
from paybutton.order import ending, reconcile
from paybutton.tables import refunds as refunds_t


async def test_a_notify_that_a_closed_attempt_was_paid_refunds_it(trade: TradeWorld) -> None:
    ch = HmacChannel()
    use(trade, ch)
    await trade.add_goods("g", price=1000)
    oid = await place(trade, "late")
    assert (await pay(trade, "late", oid, "wechat")).json()["result"]["pending"] is True
    trade.clock.advance(301)
    assert await ending.expire_due(trade.tctx) == 1
    assert await reconcile.reconcile_due(trade.tctx) == 1  # the channel says unpaid: closed there
    (a,) = await attempts(trade, oid)
    assert a.state == "CLOSED" and a.payment_id in ch.closed
    # ... but the buyer's payment had gone through at the channel as the close was sent (the close lost the
    # race there), and the channel's notify says so
    ch.trades[a.payment_id].update(state=TradeState.PAID, pay_id="hp-late")
    body, h = ch.notify_body(out_trade_no=a.payment_id, amount=1000, pay_id="hp-late", paid=True)
    url = f"{trade.url}/pay/notify/hmacpay/{trade.app_id}"
    for _ in range(2):  # the second is the channel's replay
        r = await trade.http.post(url, content=body, headers=h)
        assert r.status_code == 200 and r.json() == {"code": "SUCCESS"}, r.text
    (a,) = await attempts(trade, oid)
    assert (a.state, a.late, a.channel_pay_id) == ("SUCCESS", True, "hp-late")
    order = await order_row(trade, oid)
    assert order.status != "SUCCESS" and order.auto_refund_pending is True  # the order stays ended
    await trade.drive()
    async with trade.db.engine.connect() as conn:
        (refund,) = (await conn.execute(select(refunds_t))).all()
    assert (refund.payment_id, refund.refund_total_amount, refund.source) == (a.payment_id, 1000, 6)
    if refund.stage == "CASHIER":  # the channel answers the refund later, by its refund notify
        body, h = ch.notify_body(out_trade_no=a.payment_id, out_refund_no=refund.refund_id, ok=True)
        assert (await trade.http.post(url + "/refund", content=body, headers=h)).status_code == 200
    assert (await trade.refund(refund.refund_id)).status == "SUCCESS"
    await trade.drive()
    async with trade.db.engine.connect() as conn:
        assert len((await conn.execute(select(refunds_t))).all()) == 1  # refunded once
    assert await trade.problems() == []  # `paybutton check`: the late payment and its refund add up
