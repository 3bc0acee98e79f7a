"""Refunds end to end over real HTTP, on SQLite and PostgreSQL: the pre_create_refund extension point retried
until it answers, the merchant's audit (agree, deny, deadline on a fake clock), the cashier (also failing), the
refund notify, the races that must never refund more than was paid, and `paybutton check`."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from merchant_stub import Received, ok, refuse
from sqlalchemy import update
from starlette.responses import Response
from trade_world import TradeWorld
from typer.testing import CliRunner

from paybutton.cli import cli
from paybutton.ledger.trade import record_payment
from paybutton.order import ending as orders
from paybutton.tables import item_orders, outbox, payments
from paybutton.tables import orders as orders_t

BUYER = "/api/buyer/v1"


async def apply(w: TradeWorld, order_id: str, body: dict[str, Any] | None = None, open_id: str = "buyer") -> Any:
    return await w.http.post(f"{w.url}{BUYER}/orders/{order_id}/refunds", headers=w.auth(open_id),
                             json={"reason": "不想要了", "note": "", **(body or {})})


def fail_then_answer(times: int, out_refund_no: str) -> Any:
    seen = {"n": 0}

    def answer(rec: Received) -> Response:
        seen["n"] += 1
        if seen["n"] <= times:
            return refuse(1, "busy")
        return ok({"out_refund_no": out_refund_no, "order_entry_schema": {"path": "pages/refund", "params": "{}"}})

    return answer


async def test_pre_create_refund_fails_three_times_then_succeeds(trade: TradeWorld) -> None:
    trade.merchant.answers["pre_create_refund"] = fail_then_answer(3, "MR-0001")
    order = await trade.paid_order(quantity=2)
    r = await apply(trade, order["order_id"], {"cp_extra": '{"k":1}'})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"refund_id", "out_refund_no", "out_refund_no_pending", "order_id", "status"}
    assert body["status"] == "PROCESSING" and body["out_refund_no"] == "" and body["order_id"] == order["order_id"]
    assert body["out_refund_no_pending"] is True  # the synchronous call (attempt 1) was refused: the outbox retries
    rid = body["refund_id"]
    for _ in range(3):
        await trade.drive()
        assert (await trade.refund(rid)).stage == "PRE_REFUND"
        trade.clock.advance(3)
    await trade.drive()
    row = await trade.refund(rid)
    assert row.status == "SUCCESS" and row.out_refund_no == "MR-0001" and row.refund_total_amount == 2000
    pre = trade.merchant.of_type("pre_create_refund")
    assert len(pre) == 4 and all(p.signature_ok for p in pre)
    m = pre[0].msg
    assert m["refund_id"] == rid and m["order_id"] == order["order_id"] and m["out_order_no"] == order["out_order_no"]
    assert m["refund_total_amount"] == 2000 and m["need_refund_audit"] == 2 and m["refund_source"] == 1
    assert m["refund_reason"] == ["不想要了"] and m["cp_extra"] == '{"k":1}'
    assert m["refund_item_detail"]["item_order_quantity"] == 2
    (note,) = trade.merchant.of_type("refund")
    assert note.signature_ok and note.headers["byte-identifyname"] == "/refund/refund_notify_url"
    assert note.msg["status"] == "SUCCESS" and note.msg["out_refund_no"] == "MR-0001"
    assert note.msg["refund_id"] == rid and note.msg["refund_total_amount"] == 2000
    assert [i.status for i in await trade.items(order["order_id"])] == [102, 102]
    detail = (await trade.http.get(f"{trade.url}{BUYER}/refunds/{rid}", headers=trade.auth("buyer"))).json()
    assert detail["status"] == "SUCCESS" and detail["amount"] == 2000 and len(detail["items"]) == 2
    assert [s["step"] for s in detail["timeline"]] == ["applied", "refunded"]
    again = await apply(trade, order["order_id"])
    assert again.status_code == 409 and again.json()["errNo"] == 21531
    listed = (await trade.http.get(f"{trade.url}{BUYER}/orders/{order['order_id']}/refunds",
                                   headers=trade.auth("buyer"))).json()
    assert listed["order_status"] == 3 and [r["refund_id"] for r in listed["refunds"]] == [rid]
    mallory = await trade.http.get(f"{trade.url}{BUYER}/refunds/{rid}", headers=trade.auth("mallory"))
    assert mallory.status_code == 404 and mallory.json()["errNo"] == 21532


async def test_two_refunds_of_one_item_race_exactly_one_wins(trade: TradeWorld) -> None:
    order = await trade.paid_order()
    results = await asyncio.gather(*(apply(trade, order["order_id"]) for _ in range(8)))
    won = [r for r in results if r.status_code == 200]
    assert len(won) == 1, [r.text for r in results]
    assert {r.json()["error"] for r in results if r.status_code != 200} <= {"ITEM_NOT_REFUNDABLE", "NOTHING_REFUNDABLE"}
    await trade.drive()
    (item,) = await trade.items(order["order_id"])
    assert item.refunded_amount == 1000 and item.refunding_amount == 0 and item.status == 102


async def test_100_concurrent_partial_refunds_never_exceed_paid(trade: TradeWorld) -> None:
    order = await trade.paid_order(quantity=2)
    its = [i["item_order_id"] for i in order["item_orders"]]
    token = await trade.token()

    async def one(n: int) -> Any:
        body = {"out_order_no": order["out_order_no"], "out_refund_no": f"R{n:03d}",
                "item_order_detail": [{"item_order_id": its[n % 2], "refund_amount": 30}]}
        return await trade.http.post(f"{trade.url}/api/apps/trade/v2/refund/create_refund", json=body,
                                     headers={"access-token": token})

    results = await asyncio.gather(*(one(n) for n in range(100)))
    codes = [r.json()["extra"]["error_code"] for r in results]
    won = codes.count(0)
    assert won == 66, codes  # 33 refunds of 30 fen fit in each 1000-fen unit
    await trade.drive(rounds=30)
    items = await trade.items(order["order_id"])
    assert sum(i.refunded_amount for i in items) == won * 30 <= 2000
    assert all(i.refunded_amount + i.refunding_amount <= i.price for i in items)


@pytest.mark.parametrize("audit", [True])
@pytest.mark.parametrize("decision", ["agree", "deny", "deadline"])
async def test_audit(trade: TradeWorld, decision: str) -> None:
    trade.merchant.answers["pre_create_refund"] = lambda r: ok({"out_refund_no": "AUD-" + r.msg["refund_id"]})
    order = await trade.paid_order(quantity=2)
    r = await apply(trade, order["order_id"], {"item_order_list": [{"item_order_id": order["item_orders"][0]
                                                                   ["item_order_id"], "refund_amount": 400}]})
    rid = r.json()["refund_id"]
    await trade.drive()
    row = await trade.refund(rid)
    assert row.audit_status == "TOAUDIT" and row.need_refund_audit == 1 and row.status == "PROCESSING"
    assert row.refund_audit_deadline == row.created_at + 3 * 86400 * 1000
    assert trade.merchant.of_type("pre_create_refund")[0].msg["need_refund_audit"] == 1
    out_no = row.out_refund_no
    if decision == "agree":
        env = await trade.api("refund/merchant_audit_callback", {"out_refund_no": out_no, "refund_audit_status": 1})
        assert env["extra"]["error_code"] == 0
        await trade.drive()
        row = await trade.refund(rid)
        assert (row.audit_status, row.status) == ("AGREE", "SUCCESS")
    elif decision == "deny":
        no_msg = await trade.api("refund/merchant_audit_callback", {"out_refund_no": out_no, "refund_audit_status": 2})
        assert no_msg["extra"]["sub_error_code"] == 10000
        env = await trade.api("refund/merchant_audit_callback",
                              {"out_refund_no": out_no, "refund_audit_status": 2, "deny_message": "已使用"})
        assert env["extra"]["error_code"] == 0
        await trade.drive()
        row = await trade.refund(rid)
        assert (row.audit_status, row.status, row.deny_message) == ("DENY", "FAIL", "已使用")
        detail = (await trade.http.get(f"{trade.url}{BUYER}/refunds/{rid}", headers=trade.auth("buyer"))).json()
        assert detail["deny_message"] == "已使用" and detail["timeline"][-1]["step"] == "failed"
    else:
        trade.clock.advance(3 * 86400 - 1)
        await trade.drive()
        assert (await trade.refund(rid)).audit_status == "TOAUDIT"
        trade.clock.advance(2)
        await trade.drive()
        row = await trade.refund(rid)
        assert (row.audit_status, row.status) == ("OVERTIME", "SUCCESS")
    late = await trade.api("refund/merchant_audit_callback", {"out_refund_no": out_no, "refund_audit_status": 1})
    assert late["extra"]["error_code"] != 0 and late["extra"]["sub_error_code"] == 20001
    (note,) = trade.merchant.of_type("refund")
    assert note.msg["status"] == ("FAIL" if decision == "deny" else "SUCCESS")
    first = (await trade.items(order["order_id"]))[0]
    assert first.refunded_amount == (0 if decision == "deny" else 400) and first.refunding_amount == 0
    assert first.status == 2


async def test_sandbox_refund_failure_ends_fail_with_notify(trade: TradeWorld) -> None:
    order = await trade.paid_order()
    trade.cashier.refund_scenario = "fail"
    env = await trade.api("refund/create_refund", {"out_order_no": order["out_order_no"], "out_refund_no": "F1",
                                                   "order_entry_schema": {"path": "p", "params": "{}"}})
    assert env["extra"]["error_code"] == 0
    await trade.drive()
    row = await trade.refund(env["data"]["refund_id"])
    assert row.status == "FAIL" and row.source == 2 and row.out_refund_no == "F1"
    (note,) = trade.merchant.of_type("refund")
    assert note.msg["status"] == "FAIL" and note.msg["out_refund_no"] == "F1" and note.msg["message"]
    (item,) = await trade.items(order["order_id"])
    assert item.status == 2 and item.refunding_amount == 0
    trade.cashier.refund_scenario = "success"
    env = await trade.api("refund/create_refund", {"out_order_no": order["out_order_no"], "out_refund_no": "F2"})
    await trade.drive()
    assert (await trade.refund(env["data"]["refund_id"])).status == "SUCCESS"


async def test_openapi_bodies_of_reference_16(trade: TradeWorld) -> None:
    order = await trade.paid_order(quantity=3)
    its = [i["item_order_id"] for i in order["item_orders"]]
    env = await trade.api("refund/create_refund", {
        "out_order_no": order["out_order_no"], "out_refund_no": "REF-16", "refund_total_amount": 1500,
        "item_order_detail": [{"item_order_id": its[0], "refund_amount": 500}, {"item_order_id": its[1]}],
        "cp_extra": "extra", "notify_url": f"{trade.merchant_url()}/custom_notify",
        "order_entry_schema": {"path": "pages/refund", "params": '{"id":1}'}})
    assert env["extra"]["error_code"] == 0 and env["data"]["error_code"] == 0
    rid = env["data"]["refund_id"]
    await trade.drive()
    (note,) = trade.merchant.of_type("refund")
    assert note.path == "/custom_notify"
    for key in ({"refund_id": rid}, {"out_refund_no": "REF-16"}, {"order_id": order["order_id"]}):
        got = await trade.api("refund/query_refund", key)
        (one,) = got["data"]["refund_list"]
        assert one["refund_id"] == rid and one["out_refund_no"] == "REF-16" and one["order_id"] == order["order_id"]
        assert one["refund_status"] == "SUCCESS" and one["refund_total_amount"] == 1500 and one["refund_source"] == 2
        assert sorted(one["item_order_detail"], key=lambda d: d["item_order_id"]) == sorted(
            [{"item_order_id": its[0], "refund_amount": 500}, {"item_order_id": its[1], "refund_amount": 1000}],
            key=lambda d: d["item_order_id"])
        assert set(one["merchant_audit_detail"]) == {"audit_status", "need_refund_audit", "refund_audit_deadline",
                                                     "deny_message"}
        assert one["create_at"] > 0 and one["refund_at"] > 0 and "message" in one
    dup = await trade.api("refund/create_refund", {"out_order_no": order["out_order_no"], "out_refund_no": "REF-16"})
    assert dup["extra"]["error_code"] == 2191005
    missing = await trade.api("refund/query_refund", {"out_refund_no": "nope"})
    assert missing["extra"]["sub_error_code"] == 20000
    unrefunded = await trade.paid_order(quantity=1)
    none_yet = await trade.api("refund/query_refund", {"order_id": unrefunded["order_id"]})
    assert none_yet["extra"]["error_code"] == 0 and none_yet["data"]["refund_list"] == []
    no_order = await trade.api("refund/query_refund", {"order_id": "ot_no_such_order"})
    assert (no_order["extra"]["error_code"], no_order["extra"]["sub_error_code"]) == (2191003, 20000)
    bad = await trade.api("refund/create_refund", {"out_order_no": order["out_order_no"], "out_refund_no": "X",
                                                   "item_order_detail": [{"item_order_id": its[0],
                                                                          "refund_amount": 501}]})
    assert bad["extra"]["error_code"] == 2191005 and bad["extra"]["sub_error_code"] == 10000
    unknown = await trade.api("refund/merchant_audit_callback", {"out_refund_no": "nope", "refund_audit_status": 1})
    assert unknown["extra"]["sub_error_code"] == 20000
    refundable = (await trade.http.get(f"{trade.url}{BUYER}/orders/{order['order_id']}/refundable",
                                       headers=trade.auth("buyer"))).json()
    assert refundable["refundable_amount"] == 1500 and refundable["refundable_units"] == 1


async def test_legacy_order_refunds_by_total_amount(trade: TradeWorld) -> None:
    order = await trade.paid_order(quantity=2)
    async with trade.db.tx() as conn:
        await conn.execute(update(orders_t).where(orders_t.c.order_id == order["order_id"]).values(legacy=True))
    missing = await apply(trade, order["order_id"])
    assert missing.status_code == 400 and missing.json()["errNo"] == 21524
    r = await apply(trade, order["order_id"], {"refund_total_amount": 1200})
    assert r.status_code == 200, r.text
    await trade.drive()
    assert [i.refunded_amount for i in await trade.items(order["order_id"])] == [1000, 200]


async def test_late_payment_is_refunded_automatically(trade: TradeWorld) -> None:
    await trade.add_goods("g")
    h = trade.auth("late")
    oid = (await trade.http.post(f"{trade.url}{BUYER}/orders", headers=h,
                                 json={"goods_id": "g", "goods_type": 1})).json()["order_id"]
    trade.clock.advance(301)
    assert await orders.expire_due(trade.tctx) == 1
    now = trade.clock.now_ms()
    async with trade.db.tx() as conn:  # what pay() writes when the order ended while the buyer paid
        await conn.execute(update(orders_t).where(orders_t.c.order_id == oid).values(auto_refund_pending=True))
        await conn.execute(payments.insert().values(payment_id="pylate", order_id=oid, app_id=trade.app_id,
                                                    channel="douyin", pay_channel=10, amount=1000, outcome="SUCCESS",
                                                    channel_pay_id="x", late=True, created_at=now))
        await record_payment(conn, trade.app_id, "pylate", now)  # and its ledger txn, in the same transaction
    await trade.drive()
    notes = trade.merchant.of_type("refund")
    assert len(notes) == 1 and notes[0].msg["status"] == "SUCCESS" and notes[0].msg["refund_source"] == 6
    assert notes[0].msg["refund_total_amount"] == 1000 and notes[0].msg["order_id"] == oid
    await trade.drive()
    assert len(trade.merchant.of_type("refund")) == 1


async def test_check_reports_a_corrupted_row(trade: TradeWorld, db_url: str) -> None:
    order = await trade.paid_order()
    (item,) = await trade.items(order["order_id"])
    runner = CliRunner()
    clean = await asyncio.to_thread(runner.invoke, cli, ["check", "--database", db_url])
    assert clean.exit_code == 0, clean.output
    async with trade.db.tx() as conn:
        await conn.execute(update(item_orders).where(item_orders.c.item_order_id == item.item_order_id)
                           .values(refunded_amount=500))
    broken = await asyncio.to_thread(runner.invoke, cli, ["check", "--database", db_url])
    assert broken.exit_code == 1 and item.item_order_id in broken.output and "refunded 500" in broken.output
    async with trade.db.tx() as conn:
        await conn.execute(update(item_orders).where(item_orders.c.item_order_id == item.item_order_id)
                           .values(refunded_amount=0))


@pytest.mark.parametrize("delivery_type", [0])  # the used unit is marked with push_delivery (三方码 only)
async def test_expired_returns_refund_unused_units_once(trade: TradeWorld) -> None:
    await trade.add_goods("exp", labels='[{"type":"EXPIRED_RETURNS"}]', valid_days=1)
    await trade.add_goods("plain", valid_days=1)
    order = await trade.paid_order(quantity=2, goods_id="exp")
    other = await trade.paid_order(goods_id="plain")
    used = order["item_orders"][0]["item_order_id"]
    env = await trade.api("fulfillment/push_delivery", {"out_order_no": order["out_order_no"],
                                                        "item_order_list": [{"item_order_id": used}]})
    assert env["extra"]["error_code"] == 0
    trade.clock.advance(86400 - 1)
    await trade.drive()
    assert trade.merchant.of_type("pre_create_refund") == []
    trade.clock.advance(1)
    await trade.drive()
    (pre,) = trade.merchant.of_type("pre_create_refund")
    assert pre.msg["refund_source"] == 3 and pre.msg["order_id"] == order["order_id"]
    assert pre.msg["refund_total_amount"] == 1000 and pre.msg["need_refund_audit"] == 2
    (note,) = trade.merchant.of_type("refund")
    assert note.msg["status"] == "SUCCESS" and note.msg["refund_source"] == 3
    assert [i.status for i in await trade.items(order["order_id"])] == [3, 102]
    assert [i.status for i in await trade.items(other["order_id"])] == [2]
    await trade.drive()
    assert len(trade.merchant.of_type("pre_create_refund")) == 1


async def test_merchant_that_never_answers_is_approved_after_the_schedule(trade: TradeWorld) -> None:
    trade.merchant.answers["pre_create_refund"] = lambda r: ok({"no_number": True})
    order = await trade.paid_order()
    rid = (await apply(trade, order["order_id"])).json()["refund_id"]
    await trade.drive()
    assert (await trade.refund(rid)).stage == "PRE_REFUND"
    async with trade.db.tx() as conn:  # fast-forward: the schedule is spent (10 x 3 s, then hourly for 3 days)
        await conn.execute(update(outbox).where(outbox.c.refund_id == rid).values(attempts=82))
    trade.clock.advance(3600)
    await trade.drive()
    row = await trade.refund(rid)
    assert row.status == "SUCCESS" and row.out_refund_no == rid


async def test_schema_matches_the_migrations(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy.ext.asyncio import create_async_engine

    from paybutton.tables import metadata

    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"compare_type": True}), metadata))
    finally:
        await engine.dispose()
    assert diff == []


async def test_duplicate_out_refund_no_from_the_merchant_is_retried(trade: TradeWorld) -> None:
    answers = iter(["SAME", "SAME", "OTHER"])
    trade.merchant.answers["pre_create_refund"] = lambda r: ok({"out_refund_no": next(answers)})
    first = await trade.paid_order(open_id="buyer")
    second = await trade.paid_order(open_id="buyer")
    r1 = (await apply(trade, first["order_id"])).json()["refund_id"]
    await trade.drive()
    r2 = (await apply(trade, second["order_id"])).json()["refund_id"]
    await trade.drive()
    assert (await trade.refund(r2)).stage == "PRE_REFUND"
    trade.clock.advance(3)
    await trade.drive()
    assert [(await trade.refund(r)).out_refund_no for r in (r1, r2)] == ["SAME", "OTHER"]
    assert (await trade.refund(r2)).status == "SUCCESS"


async def test_concurrent_create_refund_with_one_out_refund_no(trade: TradeWorld) -> None:
    a = await trade.paid_order()
    b = await trade.paid_order()
    token = await trade.token()
    results = await asyncio.gather(*(
        trade.http.post(f"{trade.url}/api/apps/trade/v2/refund/create_refund", headers={"access-token": token},
                        json={"out_order_no": o["out_order_no"], "out_refund_no": "ONE"}) for o in (a, b)))
    codes = sorted(r.json()["extra"]["error_code"] for r in results)
    assert codes == [0, 2191005], [r.text for r in results]
    await trade.drive()
