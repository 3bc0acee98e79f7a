"""A paid-order world for the refund and voucher tests: a live paybutton server on a fake clock, a live merchant
stub, one app, and a test-side context (own engine and HTTP client, the server's clock, signer and cashier) to
drive the callback dispatcher and the refund worker from the test's own event loop."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from merchant_stub import MerchantStub, ok
from sqlalchemy import select

from paybutton import buyer_token
from paybutton.app import create_app
from paybutton.apps import service as app_service
from paybutton.callbacks.dispatcher import dispatch_due
from paybutton.clock import FakeClock
from paybutton.config import Settings
from paybutton.context import AppCache, Ctx
from paybutton.db import Database
from paybutton.kernel.outbound import CallbackClient
from paybutton.refund import worker as refunds
from paybutton.refund.check import scan
from paybutton.tables import goods, item_orders
from paybutton.tables import refunds as refunds_t


class TradeWorld:
    def __init__(self, server: Any, merchant: MerchantStub, app: dict[str, Any], tctx: Ctx, clock: FakeClock,
                 http: httpx.AsyncClient) -> None:
        self.server = server
        self.url = server.url
        self.merchant = merchant
        self.app = app
        self.app_id = app["app_id"]
        self.tctx = tctx
        self.db = tctx.db
        self.clock = clock
        self.http = http
        self.cashier = server.app.state.ctx.cashier
        self.merchant_srv_url = ""

    def merchant_url(self) -> str:
        return str(self.merchant_srv_url)

    def auth(self, open_id: str) -> dict[str, str]:
        tok = buyer_token.mint(self.app_id, self.app["secret"], open_id, now=self.clock.now_ms() / 1000)
        return {"Authorization": f"Bearer {tok}"}

    async def add_goods(self, goods_id: str, stock: int = 100, price: int = 1000, **kw: Any) -> None:
        now = self.clock.now_ms()
        row = {"app_id": self.app_id, "goods_id": goods_id, "name": f"goods {goods_id}", "photo_url": "",
               "price": price, "stock": stock, "sold": 0, "labels": "[]", "min_limits": 1, "max_limits": 99999,
               "date_rule": "周一至周日可用", "phone_required": False, "biz_line": 1, "on_shelf": True,
               "created_at": now, "updated_at": now, **kw}
        async with self.db.tx() as conn:
            await conn.execute(goods.insert().values(**row))

    async def paid_order(self, open_id: str = "buyer", quantity: int = 1, goods_id: str = "g",
                         price: int = 1000) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            have = (await conn.execute(select(goods.c.goods_id).where(goods.c.goods_id == goods_id))).first()
        if have is None:
            await self.add_goods(goods_id, price=price)
        h = self.auth(open_id)
        r = await self.http.post(f"{self.url}/api/buyer/v1/orders", headers=h,
                                 json={"goods_id": goods_id, "goods_type": 1, "quantity": quantity})
        assert r.status_code == 200, r.text
        oid = r.json()["order_id"]
        assert (await self.http.post(f"{self.url}/api/buyer/v1/orders/{oid}/cashier", headers=h)).status_code == 200
        p = await self.http.post(f"{self.url}/api/buyer/v1/orders/{oid}/pay", headers=h, json={"channel": "douyin"})
        assert p.status_code == 200 and p.json()["result"]["code"] == 0, p.text
        got = await self.http.get(f"{self.url}/api/buyer/v1/orders/{oid}", headers=h)
        order: dict[str, Any] = got.json()
        return order

    async def token(self) -> str:
        r = await self.http.post(f"{self.url}/oauth/client_token/", json={
            "grant_type": "client_credential", "client_key": self.app_id, "client_secret": self.app["secret"]})
        return str(r.json()["data"]["access_token"])

    async def api(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a platform OpenAPI route; returns the whole envelope."""
        r = await self.http.post(f"{self.url}/api/apps/trade/v2/{path}", json=body,
                                 headers={"access-token": await self.token()})
        assert r.status_code == 200, r.text
        env: dict[str, Any] = r.json()
        return env

    async def api_at(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a platform OpenAPI route by its whole path (Douyin's /api/trade/v2/... ones); the envelope."""
        r = await self.http.post(f"{self.url}{path}", json=body, headers={"access-token": await self.token()})
        assert r.status_code == 200, r.text
        env: dict[str, Any] = r.json()
        return env

    async def drive(self, rounds: int = 10) -> None:
        """Deliver due callbacks and advance refunds until nothing moves."""
        for _ in range(rounds):
            sent = await dispatch_due(self.tctx, worker_id="test")
            moved = await refunds.advance_due(self.tctx)
            if not sent and not moved:
                return

    async def refund(self, refund_id: str) -> Any:
        async with self.db.engine.connect() as conn:
            return (await conn.execute(select(refunds_t).where(refunds_t.c.refund_id == refund_id))).one()

    async def items(self, order_id: str) -> list[Any]:
        async with self.db.engine.connect() as conn:
            q = select(item_orders).where(item_orders.c.order_id == order_id).order_by(item_orders.c.seq)
            return list((await conn.execute(q)).all())

    async def problems(self) -> list[str]:
        async with self.db.engine.connect() as conn:
            return await scan(conn)


@pytest.fixture
def audit() -> bool:
    return False


@pytest.fixture
def delivery_type() -> int:
    """The app's delivery_type: 1 抖音码 (the default), 0 三方码 (push_delivery)."""
    return 1


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Extra settings of the trade server (e.g. pre_refund_timeout_seconds)."""
    return {}


@pytest.fixture
async def trade(db_url: str, live_factory: Any, audit: bool, delivery_type: int,
                settings_overrides: dict[str, Any]) -> AsyncIterator[TradeWorld]:
    merchant = MerchantStub()
    merchant.answers["pre_create_refund"] = lambda r: ok({"out_refund_no": "M" + r.msg["refund_id"]})
    msrv = live_factory(merchant.asgi())
    clock = FakeClock(start_ms=1_767_225_600_000)
    settings = Settings(**{"database_url": db_url, "run_workers": False, "pre_order_timeout_seconds": 2.0,
                           "callback_timeout_seconds": 2.0, **settings_overrides})  # an override wins
    app = create_app(settings, clock=clock)
    server = live_factory(app)
    sctx = app.state.ctx
    merchant.public_pem = sctx.signer.public_pem
    db = Database(Settings(database_url=db_url))
    async with db.tx() as conn:
        a = await app_service.create_app(conn, clock, name="Refund shop", need_refund_audit=audit,
                                         delivery_type=delivery_type,
                                         pre_order_url=f"{msrv.url}/pre_create_order",
                                         payment_notify_url=f"{msrv.url}/payment",
                                         refund_url=f"{msrv.url}/refund")
    async with httpx.AsyncClient(timeout=30, trust_env=False, limits=httpx.Limits(max_connections=200)) as http:
        callbacks = CallbackClient()
        # The server's context with the test's own engine, callback client and app cache (same clock, signer,
        # cashier): whatever else the context holds is the server's.
        tctx: Ctx = dataclasses.replace(sctx, db=db, http=callbacks, apps=AppCache())
        w = TradeWorld(server, merchant, a, tctx, clock, http)
        w.merchant_srv_url = msrv.url
        await tctx.app(a["app_id"])  # warm: order expiry reads the app inside its transaction
        try:
            yield w
            assert await w.problems() == [], "paybutton check found broken invariants"
        finally:
            await callbacks.aclose()
    await db.dispose()
