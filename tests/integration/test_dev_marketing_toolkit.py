"""marketing/query_and_calculate and the toolkit settings over plain HTTP on the SDK's paths, on SQLite and
PostgreSQL: the developer's server gets the very figures the order-confirm page shows; the toolkit settings are
stored per app, answered in the err_no envelope, refused (and unchanged) with their own error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from merchant_stub import MarketingStub, MerchantStub, StubOffer

from paybutton import buyer_token
from paybutton.app import create_app
from paybutton.apps import service as app_service
from paybutton.config import Settings
from paybutton.db import Database
from paybutton.tables import goods
from paybutton.toolkit import store

COUPON = StubOffer("C1", "goods", 1235, type=1)
FULL_CUT = StubOffer("F1", "order", 3000, min_total=19800, type=2)
TOOLKIT = "/api/apps/trade/v2/toolkit"


@dataclass
class World:
    url: str
    app: dict[str, Any]
    db: Database
    http: httpx.AsyncClient
    merchant: MerchantStub

    async def token(self) -> str:
        r = await self.http.post(f"{self.url}/oauth/client_token/", json={
            "grant_type": "client_credential", "client_key": self.app["app_id"], "client_secret": self.app["secret"]})
        return str(r.json()["data"]["access_token"])

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = await self.http.post(f"{self.url}{path}", json=body, headers={"access-token": await self.token()})
        assert r.status_code == 200, r.text
        got: dict[str, Any] = r.json()
        return got

    async def buyer(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        tok = buyer_token.mint(self.app["app_id"], self.app["secret"], "buyer")
        r = await self.http.post(f"{self.url}/api/buyer/v1/{path}", json=body,
                                 headers={"Authorization": f"Bearer {tok}"})
        assert r.status_code == 200, r.text
        got: dict[str, Any] = r.json()
        return got

    async def settings(self) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            return await store.read(conn, self.app["app_id"])


@pytest.fixture
async def world(db_url: str, live_factory: Any) -> AsyncIterator[World]:
    merchant = MerchantStub()
    MarketingStub([COUPON, FULL_CUT]).install(merchant)
    msrv = live_factory(merchant.asgi())
    app = create_app(Settings(database_url=db_url, run_workers=False, pre_order_timeout_seconds=1.0))
    server = live_factory(app)
    merchant.public_pem = app.state.ctx.signer.public_pem
    db = Database(Settings(database_url=db_url))
    async with db.tx() as conn:
        a = await app_service.create_app(conn, app.state.ctx.clock, name="Marketing shop",
                                         pre_order_url=f"{msrv.url}/pre_create_order",
                                         marketing_url=f"{msrv.url}/marketing")
        await conn.execute(goods.insert().values(
            app_id=a["app_id"], goods_id="g", name="goods g", photo_url="", price=10000, stock=10, sold=0,
            labels="[]", min_limits=1, max_limits=99999, date_rule="", phone_required=False, biz_line=1,
            on_shelf=True, created_at=1, updated_at=1))
    async with httpx.AsyncClient(timeout=30, trust_env=False) as http:
        yield World(server.url, a, db, http, merchant)
    await db.dispose()


MARKETING = "/api/trade/v2/marketing/query_and_calculate"


async def test_query_and_calculate_gives_the_order_confirm_figures(world: World) -> None:
    dev = (await world.post(MARKETING + "/", {"open_id": "buyer", "need_default_marketing": True,
                                               "goods_marketing_info": [{"goods_id": "g", "quantity": 2}]}))["data"]
    page = await world.buyer("marketing/offers", {"goods_id": "g", "goods_type": 1, "quantity": 2, "version": 2})
    assert dev["error_code"] == 0
    assert {k: dev[k] for k in page} == page  # the very quote the order-confirm page shows
    assert (dev["total_amount"], dev["discount_amount"], dev["payable"]) == (20000, 4235, 15765)
    # a chosen offer: the coupon only, at goods level
    dev = (await world.post(MARKETING, {"open_id": "buyer", "goods_marketing_info": [
        {"goods_id": "g", "quantity": 2, "selected_marketing": [{"id": "C1", "type": 1}]}]}))["data"]
    page = await world.buyer("marketing/offers", {"goods_id": "g", "goods_type": 1, "quantity": 2, "version": 2,
                                                  "selected": [{"id": "C1", "type": 1, "range": "goods"}]})
    assert {k: dev[k] for k in page} == page and dev["discount_amount"] == 1235
    (last,) = world.merchant.of_type("query_and_calculate")[-1:]
    assert last.signature_ok and last.msg["goods_marketing_info"][0]["selected_marketing"] == [{"id": "C1", "type": 1}]
    # unknown goods: its own error, in the envelope
    env = await world.post(MARKETING, {"open_id": "buyer", "goods_marketing_info": [{"goods_id": "nope"}]})
    assert env["extra"]["sub_description"].startswith("goods not found")


async def test_toolkit_texts_and_settings(world: World) -> None:
    env = await world.post(f"{TOOLKIT}/query_text/", {"text_type": 1})
    assert env["err_no"] == 0 and env["log_id"] == env["extra"]["logid"]
    (group,) = env["data"]["text_list"]
    assert group["text_type"] == 1 and group["text_content_list"][0]["text_content"] == "小程序提前用，到店享服务"
    every = (await world.post(f"{TOOLKIT}/query_text", {}))["data"]["text_list"]
    assert [g["text_type"] for g in every] == [1, 2]
    conf = {"bind_biz_type": 0, "account_id": "7241527302029314092", "delivery_app_info": {
        "guidance_text_id": group["text_content_list"][0]["text_id"], "button_text_id": "te7249570906215956524",
        "display_mode": 1}}
    assert (await world.post(f"{TOOLKIT}/update_merchant_conf/", conf))["err_no"] == 0
    assert (await world.settings())["merchant_conf"] == conf
    # a button text where a guidance text belongs: refused in the err_no envelope, nothing changed
    bad = {**conf, "delivery_app_info": {"guidance_text_id": "te7249570906215956524"}}
    env = await world.post(f"{TOOLKIT}/update_merchant_conf", bad)
    assert env["err_no"] != 0 and env["err_no"] == env["extra"]["error_code"], env
    assert env["extra"]["sub_description"].startswith("no such text id")
    assert (await world.settings())["merchant_conf"] == conf
    paths = {"bind_biz_type": 0, "account_id": "7241527302029314092",
             "path_data_list": [{"path": "pages/order/detail", "path_type": 3}]}
    assert (await world.post(f"{TOOLKIT}/update_merchant_path", paths))["err_no"] == 0
    assert (await world.settings())["merchant_paths"] == paths
    env = await world.post(f"{TOOLKIT}/update_merchant_path", {**paths, "path_data_list": [
        {"path": "https://evil.example/x", "path_type": 3}]})
    assert env["err_no"] == 2100005 and (await world.settings())["merchant_paths"] == paths
    await world.post(f"{TOOLKIT}/button_white_setting", {"button_type": 1, "uid_list": [123, 4666]})
    await world.post(f"{TOOLKIT}/button_white_setting/", {"button_type": 2, "open_all": True})
    assert (await world.settings())["button_white"] == {"1": {"open_all": False, "uid_list": [123, 4666]},
                                                        "2": {"open_all": True, "uid_list": []}}
    no_token = await world.http.post(f"{world.url}{TOOLKIT}/query_text", json={})
    assert no_token.json()["err_no"] == no_token.json()["extra"]["error_code"] != 0


async def test_toolkit_writes_honour_the_idempotency_key(world: World) -> None:
    token = await world.token()
    paths = {"bind_biz_type": 0, "account_id": "a", "path_data_list": [{"path": "pages/a", "path_type": 1}]}
    h = {"access-token": token, "Idempotency-Key": "k-1"}
    first = await world.http.post(f"{world.url}{TOOLKIT}/update_merchant_path", json=paths, headers=h)
    assert first.json()["err_no"] == 0
    other = {**paths, "path_data_list": [{"path": "pages/b", "path_type": 1}]}
    again = (await world.http.post(f"{world.url}{TOOLKIT}/update_merchant_path", json=other, headers=h)).json()
    assert again["err_no"] != 0 and again["extra"]["sub_description"].startswith("this Idempotency-Key was used")
    assert (await world.settings())["merchant_paths"] == paths
