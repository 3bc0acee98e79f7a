"""Placing orders over real HTTP with a real merchant server: stock never oversells, the merchant's
pre_create_order decides, refusals, timeouts and garbage fail the order and return the stock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from merchant_stub import MerchantStub, Received, ok, refuse
from sqlalchemy import func, select
from starlette.responses import JSONResponse, PlainTextResponse

from paybutton import buyer_token
from paybutton.app import create_app
from paybutton.apps import service as app_service
from paybutton.config import Settings
from paybutton.db import Database
from paybutton.tables import callback_attempts, goods, item_orders, orders


class World:
    """A live paybutton server, a live merchant, one app and helpers to buy."""

    def __init__(self, server: Any, merchant: MerchantStub, app: dict[str, Any], db: Database) -> None:
        self.server = server
        self.merchant = merchant
        self.app = app
        self.ctx = server.app.state.ctx
        self.db = db  # the test's own engine: the server's belongs to the server thread's event loop

    def token(self, open_id: str) -> str:
        return buyer_token.mint(self.app["app_id"], self.app["secret"], open_id)

    async def add_goods(self, goods_id: str, stock: int, price: int = 1000, **kw: Any) -> None:
        now = self.ctx.clock.now_ms()
        row = {"app_id": self.app["app_id"], "goods_id": goods_id, "name": f"goods {goods_id}", "photo_url": "",
               "price": price, "stock": stock, "sold": 0, "sale_start": None, "sale_end": None, "labels": "[]",
               "min_limits": 1, "max_limits": 99999, "date_rule": "周一至周日可用", "phone_required": False,
               "biz_line": 1, "on_shelf": True, "valid_days": None, "created_at": now, "updated_at": now}
        row.update(kw)
        async with self.db.tx() as conn:
            await conn.execute(goods.insert().values(**row))

    async def stock(self, goods_id: str) -> int:
        async with self.db.engine.connect() as conn:
            return int((await conn.execute(select(goods.c.stock).where(goods.c.goods_id == goods_id))).scalar_one())

    async def buy(self, client: httpx.AsyncClient, open_id: str, goods_id: str, quantity: int = 1,
                  **extra: Any) -> httpx.Response:
        return await client.post(f"{self.server.url}/api/buyer/v1/orders",
                                 headers={"Authorization": f"Bearer {self.token(open_id)}"},
                                 json={"goods_id": goods_id, "goods_type": extra.pop("goods_type", 1),
                                       "quantity": quantity, **extra})


@pytest.fixture
async def world(db_url: str, live_factory: Any) -> AsyncIterator[World]:
    merchant = MerchantStub()
    msrv = live_factory(merchant.asgi())
    # pre_create_order's budget: far past what a loaded machine takes to answer (200 buyers at once, the merchant in
    # this process too; CI with three runs at once placed 15 of 50 at 1 s); the timeout case sets its own 1 s
    app = create_app(Settings(database_url=db_url, run_workers=False, pre_order_timeout_seconds=20.0))
    server = live_factory(app)
    ctx = app.state.ctx
    merchant.public_pem = ctx.signer.public_pem
    db = Database(Settings(database_url=db_url))
    async with db.tx() as conn:
        a = await app_service.create_app(conn, ctx.clock, name="Stub shop",
                                         pre_order_url=f"{msrv.url}/pre_create_order",
                                         payment_notify_url=f"{msrv.url}/payment")
    yield World(server, merchant, a, db)
    await db.dispose()


async def test_200_buyers_50_units_exactly_50_orders(world: World) -> None:
    await world.add_goods("hot", stock=50)
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        results = await asyncio.gather(*(world.buy(client, f"buyer{i}", "hot") for i in range(200)))
    won = [r for r in results if r.status_code == 200]
    lost = [r for r in results if r.status_code != 200]
    assert len(won) == 50
    assert {r.json()["error"] for r in lost} == {"GOODS_SOLD_OUT"}
    assert {r.json()["errNo"] for r in lost} == {21518}
    assert await world.stock("hot") == 0
    async with world.db.engine.connect() as conn:
        n = (await conn.execute(select(func.count()).select_from(orders).where(orders.c.status == "INIT"))).scalar()
        items = (await conn.execute(select(func.count()).select_from(item_orders))).scalar()
    assert n == 50 and items == 50
    assert len(world.merchant.of_type("pre_create_order")) == 50
    assert all(r.signature_ok for r in world.merchant.received)


async def test_order_splits_payable_and_tells_the_merchant(world: World) -> None:
    await world.add_goods("g3", stock=10, price=1000)
    async with httpx.AsyncClient() as client:
        r = await world.buy(client, "b1", "g3", quantity=3, cp_extra='{"x":1}', phone_num="13800138000")
    body = r.json()
    assert r.status_code == 200, body
    assert body["out_order_no"] == "M" + body["order_id"]
    assert [i["price"] for i in body["item_orders"]] == [1000, 1000, 1000]
    (rec,) = world.merchant.of_type("pre_create_order")
    assert rec.signature_ok
    assert rec.headers["byte-identifyname"] == "/order/create_order_callback_url"
    assert rec.body["version"] == "2.0" and isinstance(rec.body["msg"], str)
    m = rec.msg
    assert m["order_id"] == body["order_id"] and m["total_amount"] == 3000 and m["discount"] == 0
    assert m["cp_extra"] == '{"x":1}' and m["phone_num"] == "13800138000"
    assert [i["item_order_id"] for i in m["item_order_info_list"]] == [i["item_order_id"] for i in body["item_orders"]]
    assert await world.stock("g3") == 7


@pytest.mark.parametrize(
    ("answer", "err_no", "name"),
    [
        (lambda r: refuse(1001, "price changed"), 21518, "PRE_ORDER_REFUSED"),
        (lambda r: PlainTextResponse("<html>oops</html>"), 21517, "PRE_ORDER_SERVER_ERROR"),
        (lambda r: PlainTextResponse("down", status_code=503), 21517, "PRE_ORDER_SERVER_ERROR"),
        (lambda r: ok({"no_out_order_no": 1}), 21517, "PRE_ORDER_SERVER_ERROR"),
        (lambda r: JSONResponse({"err_no": "0"}), 21517, "PRE_ORDER_SERVER_ERROR"),
        (lambda r: ok({"out_order_no": "x" * 65}), 21517, "PRE_ORDER_SERVER_ERROR"),
        ("slow", 21517, "PRE_ORDER_SERVER_ERROR"),
    ],
    ids=["refused", "not-json", "http-503", "no-out-order-no", "string-err-no", "too-long", "timeout"],
)
async def test_pre_order_failure_fails_order_and_returns_stock(world: World, answer: Any, err_no: int,
                                                               name: str) -> None:
    async def slow(r: Received) -> Any:
        await asyncio.sleep(4.0)  # far past the 1-s budget (a loaded machine must not let the answer win)
        return ok({"out_order_no": "late"})

    world.merchant.answers["pre_create_order"] = slow if answer == "slow" else answer
    world.ctx.settings.pre_order_timeout_seconds = 1.0  # read by each order placement
    await world.add_goods("g", stock=5)
    async with httpx.AsyncClient(timeout=10) as client:
        r = await world.buy(client, "b1", "g", quantity=2)
    body = r.json()
    assert r.status_code >= 400
    assert body["errNo"] == err_no and body["error"] == name
    assert body["errLogId"]
    assert await world.stock("g") == 5
    async with world.db.engine.connect() as conn:
        row = (await conn.execute(select(orders))).one()
        its = (await conn.execute(select(item_orders.c.status))).scalars().all()
        att = (await conn.execute(select(callback_attempts))).one()
    assert row.status == "FAIL" and row.pre_order_status == "FAILED" and row.out_order_no is None
    assert list(its) == [4, 4]
    assert att.type == "pre_create_order" and att.ok is False and att.order_id == row.order_id


async def test_duplicate_out_order_no_fails_the_second_order(world: World) -> None:
    world.merchant.answers["pre_create_order"] = lambda r: ok({"out_order_no": "SAME"})
    await world.add_goods("g", stock=5)
    async with httpx.AsyncClient() as client:
        first = await world.buy(client, "b1", "g")
        second = await world.buy(client, "b2", "g")
    assert first.status_code == 200
    assert second.json()["error"] == "OUT_ORDER_NO_DUPLICATE"
    assert await world.stock("g") == 4


async def test_merchant_goods_priced_only_with_the_merchant(world: World) -> None:
    info = {"currentPrice": 9900, "goodsName": "BBQ", "goodsPhoto": "https://x/y.jpg",
            "goodsLabels": [{"type": "BOOK_IN_ADVANCE", "value": 2}], "minLimits": 1, "maxLimits": 2,
            "validation": {"phoneNumber": {"required": True}}}
    async with httpx.AsyncClient() as client:
        no_phone = await world.buy(client, "b", "bbq", goods_type=2, goods_info=info)
        too_many = await world.buy(client, "b", "bbq", quantity=3, goods_type=2, goods_info=info,
                                   phone_num="13800138000")
        bad_labels = await world.buy(client, "b", "bbq", goods_type=2, phone_num="13800138000",
                                     goods_info={**info, "goodsLabels": [{"type": "REFUNDABLE_DAYS"}]})
        bad_limits = await world.buy(client, "b", "bbq", goods_type=2, phone_num="13800138000",
                                     goods_info={**info, "minLimits": 3, "maxLimits": 2})
        good = await world.buy(client, "b", "bbq", quantity=2, goods_type=2, goods_info=info,
                               phone_num="+86 138 0013 8000")
    assert no_phone.json()["error"] == "PHONE_REQUIRED"
    assert too_many.json()["error"] == "QUANTITY_OUT_OF_LIMITS"
    assert bad_labels.json()["errNo"] == 21511
    assert bad_limits.json()["errNo"] == 21512
    assert good.status_code == 200, good.json()
    pre = world.merchant.of_type("pre_create_order")
    assert len(pre) == 1 and pre[0].msg["total_amount"] == 19800 and pre[0].msg["goods"][0]["goods_id_type"] == 2


async def test_goods_states_refuse_orders(world: World) -> None:
    now = world.ctx.clock.now_ms()
    await world.add_goods("early", stock=5, sale_start=now + 60_000)
    await world.add_goods("late", stock=5, sale_end=now - 1)
    await world.add_goods("off", stock=5, on_shelf=False)
    await world.add_goods("lim", stock=5, min_limits=2, max_limits=3)
    async with httpx.AsyncClient() as client:
        names = [(await world.buy(client, "b", g, quantity=q)).json()["error"]
                 for g, q in [("early", 1), ("late", 1), ("off", 1), ("lim", 1), ("lim", 4), ("nope", 1)]]
    assert names == ["GOODS_NOT_STARTED", "GOODS_SALE_ENDED", "GOODS_OFF_SHELF", "QUANTITY_OUT_OF_LIMITS",
                     "QUANTITY_OUT_OF_LIMITS", "GOODS_NOT_FOUND"]
    for g in ("early", "late", "off", "lim"):
        assert await world.stock(g) == 5


async def test_bad_input_gets_clear_errors_not_500(world: World) -> None:
    url = f"{world.server.url}/api/buyer/v1/orders"
    auth = {"Authorization": f"Bearer {world.token('b')}"}
    async with httpx.AsyncClient() as client:
        cases = [
            await client.post(url, headers={**auth, "content-type": "application/json"}, content=b"{not json"),
            await client.post(url, headers=auth, json={"goods_id": "g", "goods_type": "1"}),
            await client.post(url, headers=auth, json={"goods_id": "g", "goods_type": 1, "quantity": 0}),
            await client.post(url, headers=auth, json={"goods_id": "g", "goods_type": 3}),
            await client.post(url, headers=auth, json=[1, 2]),
            await client.post(url, json={"goods_id": "g", "goods_type": 1}),
            await client.post(url, headers={"Authorization": "Bearer pbt1.forged.sig"}, json={}),
        ]
    assert all(400 <= r.status_code < 500 for r in cases), [r.status_code for r in cases]
    assert [r.json()["error"] for r in cases] == [
        "PARSE_ERROR", "INVALID_PARAMETER", "INVALID_PARAMETER", "GOODS_TYPE_INVALID", "INVALID_PARAMETER",
        "BUYER_TOKEN_INVALID", "BUYER_TOKEN_INVALID"]
    async with world.db.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(orders))).scalar() == 0


async def test_buyer_sees_only_own_orders(world: World) -> None:
    await world.add_goods("g", stock=5)
    async with httpx.AsyncClient() as client:
        oid = (await world.buy(client, "alice", "g")).json()["order_id"]
        mine = await client.get(f"{world.server.url}/api/buyer/v1/orders/{oid}",
                                headers={"Authorization": f"Bearer {world.token('alice')}"})
        theirs = await client.get(f"{world.server.url}/api/buyer/v1/orders/{oid}",
                                  headers={"Authorization": f"Bearer {world.token('mallory')}"})
    assert mine.status_code == 200 and mine.json()["order_id"] == oid
    assert theirs.status_code == 404 and theirs.json()["error"] == "ORDER_NOT_FOUND"
    assert json.loads(json.dumps(theirs.json()))["errNo"] == 21527
