"""Payment attempts against a live server (real parallel HTTP requests) on SQLite and PostgreSQL: concurrent pays
charge once at the cashier, a lost channel answer is settled by the reconciler, a PENDING attempt is settled by a
verified channel notify exactly once, a waiting attempt of an expired order is closed at the channel, a pending
channel refund ends with its notify, and `paybutton check` counts a late payment's refund against that payment."""

from __future__ import annotations

import asyncio
from typing import Any

from channel_doubles import CountingCashier, HmacChannel
from click.testing import Result
from sqlalchemy import select, update
from trade_world import TradeWorld
from typer.testing import CliRunner

from paybutton.cli import cli
from paybutton.ledger.trade import record_payment
from paybutton.order import reconcile
from paybutton.tables import orders as orders_t
from paybutton.tables import payments
from paybutton.tables import refunds as refunds_t

BUYER = "/api/buyer/v1"


def use(trade: TradeWorld, cashier: Any) -> None:
    trade.server.app.state.ctx.cashier = cashier
    trade.tctx.cashier = cashier


async def place(trade: TradeWorld, open_id: str, goods_id: str = "g") -> str:
    r = await trade.http.post(f"{trade.url}{BUYER}/orders", headers=trade.auth(open_id),
                              json={"goods_id": goods_id, "goods_type": 1})
    assert r.status_code == 200, r.text
    return str(r.json()["order_id"])


async def pay(trade: TradeWorld, open_id: str, oid: str, channel: str = "douyin") -> Any:
    return await trade.http.post(f"{trade.url}{BUYER}/orders/{oid}/pay", headers=trade.auth(open_id),
                                 json={"channel": channel})


async def attempts(trade: TradeWorld, oid: str | None = None) -> list[Any]:
    q = select(payments).order_by(payments.c.created_at)
    if oid:
        q = q.where(payments.c.order_id == oid)
    async with trade.db.engine.connect() as conn:
        return list((await conn.execute(q)).all())


async def order_row(trade: TradeWorld, oid: str) -> Any:
    async with trade.db.engine.connect() as conn:
        return (await conn.execute(select(orders_t).where(orders_t.c.order_id == oid))).one()


async def check_cli(db_url: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, cli, ["check", "--database", db_url])


async def test_twenty_orders_eight_concurrent_pays_charge_twenty_times(trade: TradeWorld, db_url: str) -> None:
    counting = CountingCashier(trade.cashier)
    use(trade, counting)
    await trade.add_goods("g", stock=100)
    oids = [await place(trade, f"b{i}") for i in range(20)]
    answers = await asyncio.gather(*[pay(trade, f"b{i}", oid) for i, oid in enumerate(oids) for _ in range(8)])
    assert counting.successes == 20 and len(counting.charges) == 20  # at the cashier: one charge per order
    by_order: dict[str, list[Any]] = {oid: [] for oid in oids}
    for r in answers:
        assert r.status_code in (200, 409), r.text
        by_order[r.request.url.path.split("/")[-2]].append(r)
    for oid in oids:
        (paid,) = [a for a in await attempts(trade, oid)]
        assert paid.state == "SUCCESS" and paid.outcome == "SUCCESS" and not paid.late
        assert (await order_row(trade, oid)).payment_id == paid.payment_id
        fresh = 0
        for r in by_order[oid]:
            j = r.json()
            if r.status_code == 200:  # the pay that charged, or one that joined its attempt once it succeeded
                assert j["result"]["code"] == 0 and j["late"] is False
                if "paymentId" in j:
                    assert j["paymentId"] == paid.payment_id
                else:
                    fresh += 1
            else:  # joined while the charge was in flight, or came after the order was paid: both name it
                assert j["error"] in ("PAYMENT_PENDING", "CONTINUE_PAY_PARAM_INVALID"), j
                assert j["detail"] == {"paymentId": paid.payment_id}, j
        assert fresh == 1
    # the buyers refund everything; the money balances and `paybutton check` says so
    for i, oid in enumerate(oids):
        r = await trade.http.post(f"{trade.url}{BUYER}/orders/{oid}/refunds", headers=trade.auth(f"b{i}"),
                                  json={"reason": "不想要了", "note": ""})
        assert r.status_code == 200, r.text
    await trade.drive(rounds=30)
    async with trade.db.engine.connect() as conn:
        statuses = (await conn.execute(select(refunds_t.c.status))).scalars().all()
    assert statuses == ["SUCCESS"] * 20
    done = await check_cli(db_url)
    assert done.exit_code == 0, done.output


async def test_a_lost_channel_answer_is_settled_by_the_reconciler(trade: TradeWorld) -> None:
    ch = HmacChannel()
    use(trade, ch)
    await trade.add_goods("g")
    oid = await place(trade, "lost")
    ch.lost_answer = True  # the money moves, the answer never comes back
    first = await pay(trade, "lost", oid)
    assert first.status_code == 409 and first.json()["error"] == "PAYMENT_PENDING", first.text
    (a,) = await attempts(trade, oid)
    assert a.state == "UNKNOWN" and a.next_check_at == trade.clock.now_ms() + 5000 and a.provider == "hmacpay"
    assert ch.charge_calls == 1
    assert await reconcile.reconcile_due(trade.tctx) == 0  # not due yet
    trade.clock.advance(5)
    assert await reconcile.reconcile_due(trade.tctx) == 1
    (a,) = await attempts(trade, oid)
    assert a.state == "SUCCESS" and a.channel_pay_id == f"hp-{a.payment_id}"
    assert (await order_row(trade, oid)).status == "SUCCESS"
    await trade.drive()
    assert [n.msg["order_id"] for n in trade.merchant.of_type("payment")] == [oid]
    assert trade.merchant.of_type("payment")[0].signature_ok


async def test_paying_again_after_a_lost_answer_asks_the_channel_first(trade: TradeWorld) -> None:
    """Issue 18.1 (order/repay.py): the buyer taps again; the channel is asked now, says paid, and the answer is the
    seed's code 0 for that attempt: no second charge, no new attempt, nothing left for the reconciler."""
    ch = HmacChannel()
    use(trade, ch)
    await trade.add_goods("g")
    oid = await place(trade, "lost2")
    ch.lost_answer = True  # the money moves, the answer never comes back
    first = await pay(trade, "lost2", oid)
    assert first.status_code == 409 and first.json()["error"] == "PAYMENT_PENDING", first.text
    (a,) = await attempts(trade, oid)
    again = await pay(trade, "lost2", oid)
    assert again.status_code == 200 and again.json()["result"]["code"] == 0, again.text
    assert again.json()["paymentId"] == a.payment_id and ch.charge_calls == 1
    (a,) = await attempts(trade, oid)
    assert a.state == "SUCCESS" and (await order_row(trade, oid)).status == "SUCCESS"
    trade.clock.advance(5)
    assert await reconcile.reconcile_due(trade.tctx) == 0


async def test_a_pending_attempt_is_settled_once_by_a_verified_notify(trade: TradeWorld) -> None:
    ch = HmacChannel()
    use(trade, ch)
    await trade.add_goods("g", price=1000)
    oid = await place(trade, "qr")
    r = (await pay(trade, "qr", oid, "wechat")).json()
    (a,) = await attempts(trade, oid)
    pid = a.payment_id
    assert r["result"] == {"orderId": oid, "pending": True, "paymentId": pid,
                           "action": {"kind": "qr", "url": f"hmacpay://qr/{pid}"}}
    assert a.state == "PROCESSING" and a.outcome == "PENDING"
    again = (await pay(trade, "qr", oid, "wechat")).json()
    assert again["result"] == r["result"] and again["paymentId"] == pid and ch.charge_calls == 1
    url = f"{trade.url}/pay/notify/hmacpay/{trade.app_id}"
    ch.buyer_pays(pid)
    good, headers = ch.notify_body(out_trade_no=pid, amount=1000, pay_id="hp-1", paid=True)
    forged = await trade.http.post(url, content=good, headers={**headers, "X-Test-Signature": "0" * 64})
    wrong_amount = await trade.http.post(url, content=ch.notify_body(out_trade_no=pid, amount=1, paid=True)[0],
                                         headers=ch.notify_body(out_trade_no=pid, amount=1, paid=True)[1])
    body, h = ch.notify_body(out_trade_no="py-nobody", amount=1000, paid=True)
    unknown = await trade.http.post(url, content=body, headers=h)
    other_app = await trade.http.post(f"{trade.url}/pay/notify/hmacpay/tt-nobody", content=good, headers=headers)
    other_provider = await trade.http.post(f"{trade.url}/pay/notify/nopay/{trade.app_id}", content=good,
                                           headers=headers)
    for bad in (forged, wrong_amount, unknown):
        assert bad.status_code == 400 and bad.json() == {"code": "FAIL"}, bad.text
    assert other_app.status_code == 404 and other_provider.status_code == 404
    assert (await attempts(trade, oid))[0].state == "PROCESSING"  # nothing changed
    ok = await trade.http.post(url, content=good, headers=headers)
    replay = await trade.http.post(url, content=good, headers=headers)
    assert ok.status_code == replay.status_code == 200 and ok.json() == {"code": "SUCCESS"}
    (a,) = await attempts(trade, oid)
    assert a.state == "SUCCESS" and a.channel_pay_id == "hp-1"
    assert (await order_row(trade, oid)).status == "SUCCESS"
    await trade.drive()
    assert len(trade.merchant.of_type("payment")) == 1
    # the refund goes to the channel, which accepts it and answers later by its refund notify
    r = await trade.http.post(f"{trade.url}{BUYER}/orders/{oid}/refunds", headers=trade.auth("qr"),
                              json={"reason": "不想要了", "note": ""})
    assert r.status_code == 200, r.text
    rid = r.json()["refund_id"]
    await trade.drive()
    assert (await trade.refund(rid)).stage == "CASHIER" and ch.refunds[rid]["out_trade_no"] == pid
    rurl = url + "/refund"
    body, h = ch.notify_body(out_trade_no=pid, out_refund_no="rf-nobody", ok=True)
    assert (await trade.http.post(rurl, content=body, headers=h)).status_code == 400
    body, h = ch.notify_body(out_trade_no=pid, out_refund_no=rid, refund_id="hr-1", ok=True)
    assert (await trade.http.post(rurl, content=body, headers=h)).status_code == 200
    assert (await trade.http.post(rurl, content=body, headers=h)).status_code == 200  # replay
    got = await trade.refund(rid)
    assert got.status == "SUCCESS" and got.channel_refund_id == "hr-1"
    await trade.drive()
    assert len(trade.merchant.of_type("refund")) == 1


async def test_a_waiting_attempt_of_an_expired_order_is_closed_at_the_channel(trade: TradeWorld) -> None:
    ch = HmacChannel()
    use(trade, ch)
    await trade.add_goods("g")
    closed_oid, slipped_oid = await place(trade, "c1"), await place(trade, "c2")
    for who, oid in (("c1", closed_oid), ("c2", slipped_oid)):
        assert (await pay(trade, who, oid)).json()["result"]["pending"] is True
    trade.clock.advance(301)
    from paybutton.order import ending as orders

    assert await orders.expire_due(trade.tctx) == 2
    slipped = (await attempts(trade, slipped_oid))[0].payment_id
    ch.buyer_pays(slipped)  # paid at the channel just as the order ended
    assert await reconcile.reconcile_due(trade.tctx) == 2
    (c,) = await attempts(trade, closed_oid)
    (s,) = await attempts(trade, slipped_oid)
    assert c.state == "CLOSED" and c.payment_id in ch.closed
    assert s.state == "SUCCESS" and s.late is True
    assert (await order_row(trade, slipped_oid)).auto_refund_pending is True
    # the late payment is refunded through its own channel trade
    await trade.drive()
    async with trade.db.engine.connect() as conn:
        (late_refund,) = (await conn.execute(select(refunds_t))).all()
    assert late_refund.payment_id == slipped and late_refund.source == 6 and late_refund.stage == "CASHIER"
    body, h = ch.notify_body(out_trade_no=slipped, out_refund_no=late_refund.refund_id, ok=True)
    assert (await trade.http.post(f"{trade.url}/pay/notify/hmacpay/{trade.app_id}/refund", content=body,
                                  headers=h)).status_code == 200
    assert (await trade.refund(late_refund.refund_id)).status == "SUCCESS"


async def test_check_counts_a_late_payments_refund_against_that_payment(trade: TradeWorld, db_url: str) -> None:
    """The issue's false alarm: a duplicate payment kept as late and refunded automatically, then the buyer's own
    refund of the order: refunds 2000 > payable 1000 was reported although the money balances."""
    order = await trade.paid_order("dup")
    oid = order["order_id"]
    now = trade.clock.now_ms()
    async with trade.db.tx() as conn:  # what a duplicate charge wrote before attempts existed
        await conn.execute(payments.insert().values(
            payment_id="pydup", order_id=oid, app_id=trade.app_id, channel="douyin", pay_channel=10, amount=1000,
            outcome="SUCCESS", channel_pay_id="sbx-dup", late=True, created_at=now, state="SUCCESS",
            provider="sandbox", updated_at=now))
        await record_payment(conn, trade.app_id, "pydup", now)  # and its ledger txn, as pay() posts it
        await conn.execute(update(orders_t).where(orders_t.c.order_id == oid).values(auto_refund_pending=True))
    await trade.drive()
    r = await trade.http.post(f"{trade.url}{BUYER}/orders/{oid}/refunds", headers=trade.auth("dup"),
                              json={"reason": "不想要了", "note": ""})
    assert r.status_code == 200, r.text
    await trade.drive()
    async with trade.db.engine.connect() as conn:
        rows = (await conn.execute(select(refunds_t.c.status, refunds_t.c.refund_total_amount,
                                          refunds_t.c.payment_id))).all()
    assert sorted((s, a, p or "") for s, a, p in rows) == [("SUCCESS", 1000, ""), ("SUCCESS", 1000, "pydup")]
    clean = await check_cli(db_url)
    assert clean.exit_code == 0, clean.output
    late_rid = next(rid for rid, p in [(x.refund_id, x.payment_id) for x in await _refunds(trade)] if p == "pydup")
    async with trade.db.tx() as conn:  # a real break: the late payment's refund is more than the payment
        await conn.execute(update(refunds_t).where(refunds_t.c.refund_id == late_rid)
                           .values(refund_total_amount=1500))
    broken = await check_cli(db_url)
    assert broken.exit_code == 1 and "payment pydup" in broken.output
    assert "exceed the late payment 1000" in broken.output
    async with trade.db.tx() as conn:
        await conn.execute(update(refunds_t).where(refunds_t.c.refund_id == late_rid)
                           .values(refund_total_amount=1000))


async def _refunds(trade: TradeWorld) -> list[Any]:
    async with trade.db.engine.connect() as conn:
        return list((await conn.execute(select(refunds_t))).all())
