"""Every order path writes the same rows: the same orders (library goods at several quantities, with a phone,
priced by the merchant with a discount, merchant goods) placed through the ASGI fast path over HTTP, the declared
FastAPI route, and the service call, on SQLite and PostgreSQL. The orders, item orders and goods rows are
compared column by column, ids and timestamps aside."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from merchant_stub import MarketingStub, MerchantStub, StubOffer
from sqlalchemy import select
from starlette.requests import Request

from paybutton import buyer_token
from paybutton.api import buyer as buyer_api
from paybutton.api.buyer import PlaceOrderBody, place
from paybutton.app import create_app
from paybutton.apps import service as app_service
from paybutton.config import Settings
from paybutton.kernel.auth import Buyer
from paybutton.marketing.rules import Choice
from paybutton.order import placing, rows
from paybutton.tables import goods, item_orders, orders

COUPON = StubOffer("C1", "goods", 1235, type=1)
FULL_CUT = StubOffer("F1", "order", 3000, min_total=19800, type=2)
INFO = {"currentPrice": 9900, "goodsName": "烤肉套餐", "goodsPhoto": "/p.svg", "minLimits": 1, "maxLimits": 5,
        "goodsLabels": [{"type": "RESERVATION_FREE"}]}
BUYER = "row-buyer"
PATHS = ("fast", "route", "service")


def _orders(gid: str) -> list[dict[str, Any]]:
    """The same orders for every path (`gid`: the path's own library good; the merchant good is described)."""
    selected = [{"id": o.id, "type": o.type, "range": o.range} for o in (COUPON, FULL_CUT)]
    return [
        {"goods_id": gid, "goods_type": 1, "quantity": 1},
        {"goods_id": gid, "goods_type": 1, "quantity": 3, "phone_num": "+86 138 0013 8000", "contact_name": "张三",
         "cp_extra": "table=12"},
        {"goods_id": gid, "goods_type": 1, "quantity": 3, "marketing": {"version": 1, "selected": selected,
                                                                        "expected_payable": 25768}},
        {"goods_id": gid + "-m", "goods_type": 2, "quantity": 2, "goods_info": INFO, "cp_extra": "x"},
    ]


class World:
    def __init__(self, url: str, app: Any, shop: dict[str, Any], http: httpx.AsyncClient) -> None:
        self.url, self.app, self.shop, self.http = url, app, shop, http
        self.ctx = app.state.ctx

    async def add_goods(self, gid: str) -> None:
        row = {"app_id": self.shop["app_id"], "goods_id": gid, "name": "烤串 \"特价\"", "photo_url": "/g.png",
               "price": 10001, "stock": 10, "sold": 0, "labels": '[{"type":"NON_REFUNDABLE"}]', "min_limits": 1,
               "max_limits": 99999, "date_rule": "周末可用", "phone_required": False, "biz_line": 2,
               "on_shelf": True, "created_at": 1, "updated_at": 1}
        async with self.ctx.db.tx() as conn:
            await conn.execute(goods.insert().values(**row))

    async def fast(self, body: dict[str, Any]) -> str:
        token = buyer_token.mint(self.shop["app_id"], self.shop["secret"], BUYER)
        r = await self.http.post(f"{self.url}/api/buyer/v1/orders", json=body,
                                 headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        return str(r.json()["order_id"])

    async def route(self, body: dict[str, Any]) -> str:
        """The declared FastAPI route's function (the ASGI shortcut in front of it answers the real requests)."""
        request = Request({"type": "http", "method": "POST", "path": "/api/buyer/v1/orders", "headers": []})
        r = await buyer_api.place_order(PlaceOrderBody.model_validate(body), Buyer(self.shop["app_id"], BUYER),
                                        self.ctx, request)
        return str(json.loads(bytes(r.body))["order_id"])

    async def service(self, body: dict[str, Any]) -> str:
        m = body.get("marketing")
        req = placing.PlaceOrder(
            app_id=self.shop["app_id"], open_id=BUYER, goods_id=body["goods_id"], goods_type=body["goods_type"],
            quantity=body["quantity"], phone_num=body.get("phone_num"), contact_name=body.get("contact_name"),
            cp_extra=body.get("cp_extra"), goods_info=body.get("goods_info"),
            marketing=None if m is None else placing.MarketingChoice(
                m["version"], [Choice(s["id"], s["type"], s["range"]) for s in m["selected"]],
                m["expected_payable"]))
        if body["quantity"] == 1:  # and once through the buyer API's own entry, as both routes call it
            view = await place(self.ctx, Buyer(self.shop["app_id"], BUYER), PlaceOrderBody.model_validate(body))
        else:
            view = await placing.place_order(self.ctx, req)
        return str(view["order_id"])


@pytest.fixture
async def world(db_url: str, live_factory: Any) -> AsyncIterator[World]:
    merchant = MerchantStub()
    MarketingStub([COUPON, FULL_CUT]).install(merchant)
    msrv = live_factory(merchant.asgi())
    settings = Settings(database_url=db_url, run_workers=False, pre_order_timeout_seconds=5.0)
    server = live_factory(create_app(settings))  # the HTTP path, in its own thread and loop
    app = create_app(settings)  # the in-process paths, in this loop
    async with app.router.lifespan_context(app):
        merchant.public_pem = app.state.ctx.signer.public_pem
        async with app.state.ctx.db.tx() as conn:
            shop = await app_service.create_app(conn, app.state.ctx.clock, name="Rows shop",
                                                pre_order_url=f"{msrv.url}/pre_create_order",
                                                payment_notify_url=f"{msrv.url}/payment",
                                                marketing_url=f"{msrv.url}/marketing")
        async with httpx.AsyncClient(timeout=30, trust_env=False) as http:
            yield World(server.url, app, shop, http)


IGNORED = {"order_id", "out_order_no", "item_order_id", "created_at", "updated_at", "pay_expire_at"}


def _same(row: Any, gid: str, order_id: str = "") -> dict[str, Any]:
    """A row without its ids and times, the path's goods id replaced by a placeholder (it is in the snapshot and
    the price detail too); the deadline kept as its distance from the creation."""
    m = dict(row._mapping)
    out: dict[str, Any] = {}
    for k, v in m.items():
        if k in IGNORED:
            continue
        if isinstance(v, str):
            v = v.replace(gid, "GOODS").replace(order_id, "ORDER") if order_id else v.replace(gid, "GOODS")
        out[k] = bool(v) if k in ("on_shelf", "phone_required", "legacy", "auto_refund_pending") else v
    if "pay_expire_at" in m and "created_at" in m:
        out["expires_after"] = m["pay_expire_at"] - m["created_at"]
    return out


async def _rows(world: World, gid: str, order_ids: list[str]) -> dict[str, Any]:
    async with world.ctx.db.engine.connect() as conn:
        got: dict[str, Any] = {"orders": [], "items": []}
        for oid in order_ids:
            o = (await conn.execute(select(orders).where(orders.c.order_id == oid))).one()
            got["orders"].append(_same(o, gid, oid))
            items = (await conn.execute(select(item_orders).where(item_orders.c.order_id == oid)
                                        .order_by(item_orders.c.seq))).all()
            got["items"].append([_same(i, gid, oid) for i in items])
        g = (await conn.execute(select(goods).where(goods.c.goods_id == gid))).one()
        got["goods"] = _same(g, gid)
    return got


async def test_every_path_writes_the_same_rows(world: World) -> None:
    places: dict[str, Callable[[dict[str, Any]], Awaitable[str]]] = {
        "fast": world.fast, "route": world.route, "service": world.service}
    written: dict[str, dict[str, Any]] = {}
    for path in PATHS:
        gid = f"rows-{path}"
        await world.add_goods(gid)
        ids = [await places[path](body) for body in _orders(gid)]
        written[path] = await _rows(world, gid, ids)
    fast = written["fast"]
    # what the rows say, once: the discount split exactly over the units, the stock taken, the snapshot as stored
    assert [(o["total_amount"], o["discount_amount"]) for o in fast["orders"]] == [
        (10001, 0), (30003, 0), (30003, 4235), (19800, 0)]
    assert [i["price"] for i in fast["items"][2]] == [8590, 8589, 8589]
    assert (fast["goods"]["stock"], fast["goods"]["sold"]) == (3, 7)
    # the snapshot's very text, whichever database built it (PostgreSQL builds it in the take statement)
    assert fast["orders"][0]["goods_snapshot"] == rows.snapshot_json(rows.Goods(
        name="烤串 \"特价\"", photo_url="/g.png", price=10001, labels='[{"type":"NON_REFUNDABLE"}]',
        date_rule="周末可用", biz_line=2))
    assert fast["orders"][3]["goods_snapshot"] == (
        '{"name":"烤肉套餐","photo_url":"/p.svg","labels":[{"type":"RESERVATION_FREE"}],"date_rule":"周一至周日可用"}')
    assert [(o["biz_line"], o["phone_num"], o["unit_price"]) for o in fast["orders"]] == [
        (2, None, 10001), (2, "13800138000", 10001), (2, None, 10001), (1, None, 9900)]
    assert {o["status"] for o in fast["orders"]} == {"INIT"} and {o["pre_order_status"] for o in fast["orders"]} == {
        "OK"}
    for path in ("route", "service"):
        for table in ("orders", "items", "goods"):
            assert written[path][table] == fast[table], (path, table)
