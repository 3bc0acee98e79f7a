"""Orders through the platform OpenAPI and the buyer API, in-process with a fake clock: tokens, queries,
close, expiry, payment and the payment notify in the outbox."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from paybutton import buyer_token
from paybutton.app import create_app
from paybutton.apps import service as app_service
from paybutton.cashier.base import ChargeRequest, ChargeResult, Outcome
from paybutton.clock import FakeClock
from paybutton.config import Settings
from paybutton.order import ending as orders
from paybutton.tables import goods, item_orders, outbox, payments
from paybutton.tables import orders as orders_t

T2 = "/api/apps/trade/v2"


class Shop:
    def __init__(self, app: Any, client: httpx.AsyncClient, clock: FakeClock) -> None:
        self.app = app
        self.client = client
        self.clock = clock
        self.ctx = app.state.ctx
        self.apps: dict[str, dict[str, Any]] = {}

    async def new_app(self, name: str, **kw: Any) -> dict[str, Any]:
        async with self.ctx.db.tx() as conn:
            a = await app_service.create_app(conn, self.clock, name=name, **kw)
        self.apps[name] = a
        return a

    async def token(self, a: dict[str, Any]) -> str:
        r = await self.client.post("/oauth/client_token/", json={
            "grant_type": "client_credential", "client_key": a["app_id"], "client_secret": a["secret"]})
        return str(r.json()["data"]["access_token"])

    async def add_goods(self, a: dict[str, Any], goods_id: str, stock: int, price: int = 1000) -> None:
        now = self.clock.now_ms()
        async with self.ctx.db.tx() as conn:
            await conn.execute(goods.insert().values(
                app_id=a["app_id"], goods_id=goods_id, name=goods_id, photo_url="", price=price, stock=stock,
                sold=0, labels="[]", min_limits=1, max_limits=99, date_rule="", phone_required=False, biz_line=1,
                on_shelf=True, created_at=now, updated_at=now))

    def buyer(self, a: dict[str, Any], open_id: str) -> dict[str, str]:
        tok = buyer_token.mint(a["app_id"], a["secret"], open_id, now=self.clock.now_ms() / 1000)
        return {"Authorization": f"Bearer {tok}"}

    async def order(self, a: dict[str, Any], goods_id: str, open_id: str = "u1", quantity: int = 1) -> dict[str, Any]:
        r = await self.client.post("/api/buyer/v1/orders", headers=self.buyer(a, open_id),
                                   json={"goods_id": goods_id, "goods_type": 1, "quantity": quantity})
        assert r.status_code == 200, r.json()
        return dict(r.json())

    async def stock(self, a: dict[str, Any], goods_id: str) -> int:
        async with self.ctx.db.engine.connect() as conn:
            return int((await conn.execute(select(goods.c.stock).where(
                goods.c.app_id == a["app_id"], goods.c.goods_id == goods_id))).scalar_one())


@pytest.fixture
async def shop(db_url: str) -> AsyncIterator[Shop]:
    clock = FakeClock()
    app = create_app(Settings(database_url=db_url, run_workers=False), clock=clock)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            yield Shop(app, client, clock)


async def test_tokens_missing_forged_expired(shop: Shop) -> None:
    a = await shop.new_app("A")
    tok = await shop.token(a)
    body = {"order_id": "ot1"}
    missing = (await shop.client.post(f"{T2}/order/query_order", json=body)).json()
    forged = (await shop.client.post(f"{T2}/order/query_order", json=body, headers={"access-token": "clt.x"})).json()
    shop.clock.advance(7201)
    expired = (await shop.client.post(f"{T2}/order/query_order", json=body, headers={"access-token": tok})).json()
    assert missing["extra"]["error_code"] == 2190002 and missing["extra"]["sub_error_code"] == 11002
    assert forged["extra"]["error_code"] == 2190002
    assert expired["extra"]["error_code"] == 2190008
    for env in (missing, forged, expired):
        assert env["extra"]["logid"] and isinstance(env["extra"]["now"], int)
        assert env["data"]["error_code"] == env["extra"]["error_code"]


async def test_a_new_token_retires_the_old_one_after_five_minutes(shop: Shop) -> None:
    a = await shop.new_app("A")
    old = await shop.token(a)
    new = await shop.token(a)
    q = {"order_id": "nope"}
    assert (await shop.client.post(f"{T2}/order/query_order", json=q, headers={"access-token": old})).json()[
        "extra"]["sub_error_code"] == 20000
    shop.clock.advance(301)
    assert (await shop.client.post(f"{T2}/order/query_order", json=q, headers={"access-token": old})).json()[
        "extra"]["error_code"] == 2190008
    assert (await shop.client.post(f"{T2}/order/query_order", json=q, headers={"access-token": new})).json()[
        "extra"]["sub_error_code"] == 20000


async def test_query_order_and_items_and_no_peeking(shop: Shop) -> None:
    a = await shop.new_app("A")
    b = await shop.new_app("B")
    await shop.add_goods(a, "g", stock=5, price=1001)
    o = await shop.order(a, "g", quantity=3)
    ta, tb = await shop.token(a), await shop.token(b)
    for path in (f"{T2}/order/query_order", f"{T2}/order/query_order/"):
        env = (await shop.client.post(path, json={"out_order_no": o["out_order_no"]},
                                      headers={"access-token": ta})).json()
        d = env["data"]
        assert env["extra"]["error_code"] == 0 and d["error_code"] == 0
        assert d["order_id"] == o["order_id"] and d["order_status"] == "INIT" and d["total_fee"] == 3003
        assert d["refund_amount"] == 0 and d["pay_time"] == ""
    items = (await shop.client.post(f"{T2}/order/query_item_order_info", json={"order_id": o["order_id"]},
                                    headers={"access-token": ta})).json()["data"]["item_list"]
    assert [i["price"] for i in items] == [1001, 1001, 1001] and {i["item_order_status"] for i in items} == {1}
    bad = (await shop.client.post(f"{T2}/order/query_item_order_info",
                                  json={"order_id": o["order_id"], "item_order_id_list": ["it0"]},
                                  headers={"access-token": ta})).json()
    assert bad["extra"]["sub_error_code"] == 21047
    for path, body in ((f"{T2}/order/query_order", {"order_id": o["order_id"]}),
                       (f"{T2}/order/query_item_order_info", {"order_id": o["order_id"]}),
                       (f"{T2}/order/close_order", {"order_id": o["order_id"]})):
        env = (await shop.client.post(path, json=body, headers={"access-token": tb})).json()
        assert env["extra"]["error_code"] == 2191003 and env["extra"]["sub_error_code"] == 20000, path
    assert await shop.stock(a, "g") == 2


async def test_close_order_returns_stock_and_replays(shop: Shop) -> None:
    a = await shop.new_app("A")
    await shop.add_goods(a, "g", stock=5)
    o = await shop.order(a, "g", quantity=2)
    h = {"access-token": await shop.token(a), "Idempotency-Key": "close-1"}
    first = (await shop.client.post(f"{T2}/order/close_order", json={"order_id": o["order_id"]}, headers=h)).json()
    again = (await shop.client.post(f"{T2}/order/close_order", json={"order_id": o["order_id"]}, headers=h)).json()
    other = (await shop.client.post(f"{T2}/order/close_order", json={"order_id": "ot2"}, headers=h)).json()
    assert first["extra"]["error_code"] == 0 and again["data"] == first["data"]
    assert other["extra"]["error_code"] == 2100005 and "Idempotency-Key" in other["extra"]["sub_description"]
    assert await shop.stock(a, "g") == 5
    h2 = {"access-token": h["access-token"]}
    closed_again = (await shop.client.post(f"{T2}/order/close_order", json={"order_id": o["order_id"]},
                                           headers=h2)).json()
    assert closed_again["extra"]["sub_error_code"] == 20001
    assert await shop.stock(a, "g") == 5


async def test_unpaid_orders_time_out_and_return_stock_once(shop: Shop) -> None:
    a = await shop.new_app("A", payment_notify_url="http://127.0.0.1:9/notify")
    await shop.add_goods(a, "g", stock=10)
    placed = [await shop.order(a, "g", open_id=f"u{i}", quantity=2) for i in range(3)]
    assert await shop.stock(a, "g") == 4
    shop.clock.advance(299)
    assert await orders.expire_due(shop.ctx) == 0
    shop.clock.advance(2)
    # two sweepers at once (two instances): each order ends exactly once
    ended = await asyncio.gather(orders.expire_due(shop.ctx), orders.expire_due(shop.ctx))
    assert sum(ended) == 3
    assert await shop.stock(a, "g") == 10
    async with shop.ctx.db.engine.connect() as conn:
        st = set((await conn.execute(select(orders_t.c.status))).scalars())
        its = set((await conn.execute(select(item_orders.c.status))).scalars())
        notes = (await conn.execute(select(outbox.c.body).where(outbox.c.type == "payment"))).scalars().all()
    assert st == {"TIMEOUT"} and its == {4}
    msgs = [json.loads(json.loads(b)["msg"]) for b in notes]
    assert sorted(m["order_id"] for m in msgs) == sorted(p["order_id"] for p in placed)
    assert {m["status"] for m in msgs} == {"CANCEL"} and {m["message"] for m in msgs} == {"TIME_OUT"}
    r = await shop.client.post(f"/api/buyer/v1/orders/{placed[0]['order_id']}/cashier", headers=shop.buyer(a, "u0"))
    assert r.status_code == 409 and r.json()["errNo"] == 21527


async def test_pay_success_marks_items_and_queues_the_notify(shop: Shop) -> None:
    a = await shop.new_app("A", payment_notify_url="http://127.0.0.1:9/notify")
    await shop.add_goods(a, "g", stock=10, price=500)
    o = await shop.order(a, "g", quantity=2)
    hb = shop.buyer(a, "u1")
    cashier = (await shop.client.post(f"/api/buyer/v1/orders/{o['out_order_no']}/cashier", headers=hb)).json()
    assert cashier["amount"] == 1000 and cashier["order"]["status"] == "PROCESS" and cashier["sandbox"] is True
    r = (await shop.client.post(f"/api/buyer/v1/orders/{o['order_id']}/pay", headers=hb,
                                json={"channel": "alipay"})).json()
    assert r == {"status": "success", "orderId": o["order_id"], "outOrderNo": o["out_order_no"],
                 "result": {"code": 0, "orderId": o["order_id"]}, "outcome": "SUCCESS", "late": False}
    again = await shop.client.post(f"/api/buyer/v1/orders/{o['order_id']}/pay", headers=hb, json={"channel": "alipay"})
    assert again.status_code == 409
    async with shop.ctx.db.engine.connect() as conn:
        row = (await conn.execute(select(orders_t))).one()
        its = set((await conn.execute(select(item_orders.c.status))).scalars())
        (body,) = (await conn.execute(select(outbox.c.body).where(outbox.c.type == "payment"))).scalars().all()
    assert row.status == "SUCCESS" and row.pay_channel == 2 and row.paid_at == shop.clock.now_ms()
    assert its == {2}
    msg = json.loads(json.loads(body)["msg"])
    assert msg["status"] == "SUCCESS" and msg["total_amount"] == 1000 and msg["pay_channel"] == 2
    env = (await shop.client.post(f"{T2}/order/query_order", json={"order_id": o["order_id"]},
                                  headers={"access-token": await shop.token(a)})).json()["data"]
    assert env["order_status"] == "SUCCESS" and len(env["pay_time"]) == 19 and env["channel_pay_id"]


@pytest.mark.parametrize(("scenario", "code", "err_no"), [
    ("fail", 2, 10000), ("open_failed", 2, 10001), ("app_missing", 2, 10002),
    ("timeout", 1, None), ("user_closed", 3, None), ("cancel", 4, None)])
async def test_pay_outcomes_leave_the_order_payable(shop: Shop, scenario: str, code: int, err_no: int | None) -> None:
    a = await shop.new_app("A")
    await shop.add_goods(a, "g", stock=1)
    o = await shop.order(a, "g")
    hb = shop.buyer(a, "u1")
    r = (await shop.client.post(f"/api/buyer/v1/orders/{o['order_id']}/pay", headers=hb,
                                json={"channel": "wechat", "scenario": scenario})).json()
    assert r["result"]["code"] == code and r.get("errNo") == err_no
    ok = (await shop.client.post(f"/api/buyer/v1/orders/{o['order_id']}/pay", headers=hb,
                                 json={"channel": "douyin"})).json()
    assert ok["result"]["code"] == 0
    async with shop.ctx.db.engine.connect() as conn:
        outcomes = (await conn.execute(select(payments.c.outcome).order_by(payments.c.created_at))).scalars().all()
    assert sorted(outcomes) == sorted([scenario.upper(), "SUCCESS"])


class SlowCashier:
    """Pays after the order's deadline: the sweeper ends the order while the channel is charging."""

    name = "slow"
    sandbox = True

    def __init__(self, shop: Shop) -> None:
        self.shop = shop

    async def charge(self, req: ChargeRequest) -> ChargeResult:
        self.shop.clock.advance(400)
        await orders.expire_due(self.shop.ctx)
        return ChargeResult(Outcome.SUCCESS, "late-pay-1")


async def test_a_payment_after_timeout_is_kept_and_marked_for_refund(shop: Shop) -> None:
    a = await shop.new_app("A")
    await shop.add_goods(a, "g", stock=1)
    o = await shop.order(a, "g")
    shop.ctx.cashier = SlowCashier(shop)
    r = (await shop.client.post(f"/api/buyer/v1/orders/{o['order_id']}/pay", headers=shop.buyer(a, "u1"),
                                json={"channel": "douyin"})).json()
    assert r["late"] is True and r["result"]["code"] == 2
    async with shop.ctx.db.engine.connect() as conn:
        row = (await conn.execute(select(orders_t))).one()
        pay = (await conn.execute(select(payments))).one()
    assert row.status == "TIMEOUT" and row.auto_refund_pending is True
    assert pay.late is True and pay.outcome == "SUCCESS" and pay.amount == 1000
    assert await shop.stock(a, "g") == 1
