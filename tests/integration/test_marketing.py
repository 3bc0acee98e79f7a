"""Marketing (marketing-ready) over real HTTP with a real merchant server: the offers and their default pricing,
re-pricing a choice, every kind of bad merchant answer falling back to the full price with a reason, and orders
priced by the merchant at order time (discount stored, item prices summing to the payable, pre_create_order told)."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from listening import free_port
from merchant_stub import MarketingStub, MerchantStub, Received, StubOffer, ok, refuse
from sqlalchemy import func, select
from starlette.responses import PlainTextResponse, Response

from paybutton import buyer_token
from paybutton.app import create_app
from paybutton.apps import service as app_service
from paybutton.config import Settings
from paybutton.db import Database
from paybutton.goods.rules import MAX_UNIT_PRICE
from paybutton.marketing.rules import Line, MarketingInvalid, parse_calculation
from paybutton.tables import callback_attempts, goods, item_orders, orders

COUPON = StubOffer("C1", "goods", 1235, type=1)
FULL_CUT = StubOffer("F1", "order", 3000, min_total=19800, type=2)
MERCHANT_INFO = {"currentPrice": 9900, "goodsName": "烤肉套餐", "goodsPhoto": "/p.svg", "minLimits": 1,
                 "maxLimits": 5}


class World:
    def __init__(self, url: str, merchant: MerchantStub, mk: MarketingStub, app: dict[str, Any],
                 db: Database, http: httpx.AsyncClient) -> None:
        self.url = url
        self.merchant = merchant
        self.mk = mk
        self.app = app
        self.db = db
        self.http = http

    def auth(self, open_id: str = "buyer") -> dict[str, str]:
        return {"Authorization": f"Bearer {buyer_token.mint(self.app['app_id'], self.app['secret'], open_id)}"}

    async def add_goods(self, goods_id: str = "g", price: int = 10000, stock: int = 10, **kw: Any) -> None:
        row = {"app_id": self.app["app_id"], "goods_id": goods_id, "name": f"goods {goods_id}", "photo_url": "",
               "price": price, "stock": stock, "sold": 0, "labels": "[]", "min_limits": 1, "max_limits": 99999,
               "date_rule": "周一至周日可用", "phone_required": False, "biz_line": 1, "on_shelf": True,
               "created_at": 1, "updated_at": 1, **kw}
        async with self.db.tx() as conn:
            await conn.execute(goods.insert().values(**row))

    async def post(self, path: str, body: dict[str, Any], open_id: str = "buyer") -> httpx.Response:
        return await self.http.post(f"{self.url}/api/buyer/v1/{path}", json=body, headers=self.auth(open_id))

    async def offers(self, quantity: int = 1, version: int = 1, goods_id: str = "g", **kw: Any) -> dict[str, Any]:
        r = await self.post("marketing/offers", {"goods_id": goods_id, "goods_type": kw.pop("goods_type", 1),
                                                 "quantity": quantity, "version": version, **kw})
        assert r.status_code == 200, r.text
        got: dict[str, Any] = r.json()
        return got

    async def price(self, selected: list[dict[str, Any]], quantity: int = 1, version: int = 1,
                    goods_id: str = "g", **kw: Any) -> dict[str, Any]:
        r = await self.post("marketing/price", {"goods_id": goods_id, "goods_type": kw.pop("goods_type", 1),
                                                "quantity": quantity, "version": version, "selected": selected,
                                                **kw})
        assert r.status_code == 200, r.text
        got: dict[str, Any] = r.json()
        return got

    async def order(self, quantity: int, marketing: dict[str, Any] | None, goods_id: str = "g",
                    **kw: Any) -> httpx.Response:
        body = {"goods_id": goods_id, "goods_type": kw.pop("goods_type", 1), "quantity": quantity, **kw}
        if marketing is not None:
            body["marketing"] = marketing
        return await self.post("orders", body)

    async def stock(self, goods_id: str = "g") -> int:
        async with self.db.engine.connect() as conn:
            return int((await conn.execute(select(goods.c.stock).where(goods.c.goods_id == goods_id))).scalar_one())

    async def order_row(self, order_id: str) -> Any:
        async with self.db.engine.connect() as conn:
            return (await conn.execute(select(orders).where(orders.c.order_id == order_id))).one()

    async def item_prices(self, order_id: str) -> list[int]:
        async with self.db.engine.connect() as conn:
            q = select(item_orders.c.price).where(item_orders.c.order_id == order_id).order_by(item_orders.c.seq)
            return [r.price for r in (await conn.execute(q)).all()]

    async def attempts(self, kind: str) -> list[Any]:
        async with self.db.engine.connect() as conn:
            q = select(callback_attempts).where(callback_attempts.c.type == kind).order_by(callback_attempts.c.id)
            return list((await conn.execute(q)).all())

    async def refresh_app(self) -> None:
        """Wait out the server's app cache (2 s; the first read after it refreshes in the background)."""
        await asyncio.sleep(2.1)
        await self.http.get(f"{self.url}/api/buyer/v1/apps/{self.app['app_id']}")
        await asyncio.sleep(0.3)

    def kinds(self) -> list[str]:
        return [r.body.get("type", "") for r in self.merchant.received]


@pytest.fixture
async def world(db_url: str, live_factory: Any) -> AsyncIterator[World]:
    merchant = MerchantStub()
    mk = MarketingStub([COUPON, FULL_CUT])
    mk.install(merchant)
    msrv = live_factory(merchant.asgi())
    app = create_app(Settings(database_url=db_url, run_workers=False, pre_order_timeout_seconds=1.0))
    server = live_factory(app)
    merchant.public_pem = app.state.ctx.signer.public_pem
    db = Database(Settings(database_url=db_url))
    async with db.tx() as conn:
        a = await app_service.create_app(conn, app.state.ctx.clock, name="Marketing shop",
                                         pre_order_url=f"{msrv.url}/pre_create_order",
                                         payment_notify_url=f"{msrv.url}/payment",
                                         marketing_url=f"{msrv.url}/marketing")
    async with httpx.AsyncClient(timeout=30, trust_env=False) as http:
        w = World(server.url, merchant, mk, a, db, http)
        await w.add_goods()
        yield w
    await db.dispose()


def _sel(*offers: StubOffer) -> list[dict[str, Any]]:
    return [{"id": o.id, "type": o.type, "range": o.range} for o in offers]


def _chosen(quote: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: s[k] for k in ("id", "type", "range")} for s in quote["selected"]]


# ------------------------------------------------------------------ offers and pricing


async def test_version_1_lists_offers_and_prices_the_first_usable_one(world: World) -> None:
    q = await world.offers(quantity=1, version=1)
    assert q["available"] is True and q["reason"] is None
    assert [(o["id"], o["range"], o["usable"]) for o in q["offers"]] == [("C1", "goods", True),
                                                                        ("F1", "order", False)]
    assert q["offers"][1]["reason"] == "not reached"
    assert q["selected"] == [{"id": "C1", "type": 1, "range": "goods", "discount_amount": 1235}]
    assert (q["total_amount"], q["discount_amount"], q["payable"]) == (10000, 1235, 8765)
    assert q["offers"][0]["selected"] is True and q["offers"][0]["discount_amount"] == 1235
    assert world.kinds() == ["query_marketing_info", "calculate_price"]
    query, calc = world.merchant.received
    assert query.signature_ok and calc.signature_ok
    assert query.headers["byte-identifyname"] == "/marketing/query_marketing_info"
    assert calc.headers["byte-identifyname"] == "/marketing/calculate_price"
    assert query.body["version"] == "2.0" and isinstance(query.body["msg"], str)
    assert query.msg["app_id"] == world.app["app_id"] and query.msg["open_id"] == "buyer"
    assert query.msg["goods_info"] == [{"goods_id": "g", "goods_id_type": 1, "quantity": 1, "price": 10000}]
    assert calc.msg["goods_calculation_info"][0]["using_marketing"] == [{"id": "C1", "type": 1}]
    assert calc.msg["goods_calculation_info"][0]["total_amount"] == 10000
    assert calc.msg["order_calculation_info"] == {"total_amount": 10000, "using_marketing": []}
    detail = q["price_calculation_detail"]
    assert detail["order_discount_detail"]["order_total_discount_amount"] == 1235
    assert [a.ok for a in await world.attempts("calculate_price")] == [True]


async def test_version_2_asks_once_with_need_default_marketing(world: World) -> None:
    q = await world.offers(quantity=2, version=2)
    assert world.kinds() == ["query_and_calculate"]
    (rec,) = world.merchant.received
    assert rec.signature_ok and rec.headers["byte-identifyname"] == "/marketing/query_and_calculate"
    assert rec.msg["need_default_marketing"] is True
    assert rec.msg["goods_marketing_info"][0] == {"goods_id": "g", "goods_id_type": 1, "quantity": 2, "price": 10000,
                                                  "total_amount": 20000, "selected_marketing": []}
    # the stub's default: every usable offer, stacked
    assert {s["id"] for s in q["selected"]} == {"C1", "F1"}
    assert (q["total_amount"], q["discount_amount"], q["payable"]) == (20000, 4235, 15765)
    assert all(o["usable"] for o in q["offers"])


@pytest.mark.parametrize("version", [1, 2])
async def test_switching_offers_reprices(world: World, version: int) -> None:
    await world.offers(quantity=2, version=version)
    cut = await world.price(_sel(FULL_CUT), quantity=2, version=version)
    assert (cut["discount_amount"], cut["payable"], _chosen(cut)) == (3000, 17000, _sel(FULL_CUT))
    coupon = await world.price(_sel(COUPON), quantity=2, version=version)
    assert (coupon["discount_amount"], coupon["payable"]) == (1235, 18765)
    none = await world.price([], quantity=2, version=version)
    assert (none["available"], none["discount_amount"], none["payable"], none["selected"]) == (True, 0, 20000, [])
    if version == 1:
        # re-pricing asks calculate_price only; choosing nothing asks nobody
        assert world.kinds() == ["query_marketing_info", "calculate_price", "calculate_price", "calculate_price"]
    else:
        assert world.kinds() == ["query_and_calculate"] * 4
        assert [r.msg["need_default_marketing"] for r in world.merchant.received] == [True, False, False, False]
        assert world.merchant.received[1].msg["order_marketing_info"]["selected_marketing"] == [{"id": "F1",
                                                                                                 "type": 2}]


async def test_a_choice_that_is_no_longer_usable_is_dropped_on_a_quantity_change(world: World) -> None:
    q = await world.offers(quantity=1, version=1, selected=_sel(FULL_CUT))
    assert (q["available"], q["discount_amount"], q["selected"]) == (True, 0, [])
    assert world.kinds() == ["query_marketing_info"]
    q2 = await world.offers(quantity=2, version=1, selected=_sel(FULL_CUT))
    assert (q2["discount_amount"], _chosen(q2)) == (3000, _sel(FULL_CUT))


async def test_merchant_goods_are_priced_from_their_goods_info(world: World) -> None:
    q = await world.offers(quantity=2, version=2, goods_id="bbq", goods_type=2, goods_info=MERCHANT_INFO)
    (rec,) = world.merchant.received
    assert rec.msg["goods_marketing_info"][0]["goods_id_type"] == 2
    assert (q["total_amount"], q["discount_amount"], q["payable"]) == (19800, 4235, 15565)


# ------------------------------------------------------------------ bad answers: full price, flagged


def _calc_then(change: Callable[[dict[str, Any]], None]) -> Callable[[Received], Response]:
    """A calculate_price answer from the stub's offers, then broken by `change`."""
    def answer(r: Received) -> Response:
        g = r.msg["goods_calculation_info"][0]
        ids = [m["id"] for m in g["using_marketing"]] + [m["id"] for m in r.msg["order_calculation_info"]
                                                         ["using_marketing"]]
        data = MarketingStub([COUPON, FULL_CUT]).calculate(g, ids)
        change(data)
        return ok(data)
    return answer


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(d: dict[str, Any]) -> None:
        *head, last = path.split(".")
        node: Any = d
        for p in head:
            node = node[int(p)] if p.isdigit() else node[p]
        node[int(last) if last.isdigit() else last] = value
    return change


async def _late(r: Received) -> Response:
    await asyncio.sleep(4.0)  # far past the 1-s budget (a loaded machine must not let the answer win)
    return ok({})


BAD_CALCULATIONS: list[tuple[str, Callable[[Received], Any], str]] = [
    ("late", _late, "timeout"),
    ("http 500", lambda r: PlainTextResponse("boom", status_code=500), "http_error"),
    ("not json", lambda r: PlainTextResponse("<html>"), "malformed"),
    ("refused", lambda r: refuse(7, "no"), "refused"),
    ("float discount", _calc_then(_set("goods_discount_detail.0.marketing_detail_info.0.discount_amount", 12.35)),
     "malformed"),
    ("negative discount", _calc_then(_set("order_discount_detail.order_total_discount_amount", -1)), "malformed"),
    ("no order dimension", _calc_then(lambda d: d.pop("order_discount_detail")), "malformed"),
    ("other goods", _calc_then(_set("goods_discount_detail.0.goods_id", "other")), "malformed"),
    ("goods sum differs", _calc_then(_set("goods_discount_detail.0.total_discount_amount", 1000)), "inconsistent"),
    ("order total differs", _calc_then(_set("order_discount_detail.order_total_discount_amount", 1)),
     "inconsistent"),
    ("quantity differs", _calc_then(_set("goods_discount_detail.0.quantity", 3)), "inconsistent"),
    ("discount above total", _calc_then(lambda d: [
        _set("goods_discount_detail.0.marketing_detail_info.0.discount_amount", 10001)(d),
        _set("goods_discount_detail.0.total_discount_amount", 10001)(d),
        _set("order_discount_detail.goods_total_discount_amount", 10001)(d),
        _set("order_discount_detail.order_total_discount_amount", 10001)(d)]), "inconsistent"),
    ("unchosen offer applied", _calc_then(_set("goods_discount_detail.0.marketing_detail_info.0.id", "X9")),
     "inconsistent"),
]


@pytest.mark.parametrize(("answer", "reason"), [(a, r) for _, a, r in BAD_CALCULATIONS],
                         ids=[n for n, _, _ in BAD_CALCULATIONS])
async def test_a_bad_calculation_gives_full_price_and_a_reason(world: World, answer: Any, reason: str) -> None:
    world.merchant.answers["calculate_price"] = answer
    q = await world.offers(quantity=1, version=1)
    assert (q["available"], q["reason"]) == (False, reason)
    assert (q["total_amount"], q["discount_amount"], q["payable"]) == (10000, 0, 10000)
    assert q["offers"] == [] and q["selected"] == [] and q["price_calculation_detail"] is None
    (attempt,) = await world.attempts("calculate_price")
    assert attempt.ok is False and attempt.error


@pytest.mark.parametrize(("name", "change", "reason"), [
    ("goods not covered", lambda d: d.pop("goods_valid_marketing_info"), "malformed"),
    ("duplicate offer id", lambda d: d["order_valid_marketing_info"].append(COUPON.wire()), "malformed"),
    ("unknown type", lambda d: _set("goods_valid_marketing_info.0.marketing_info.0.type", 9)(d), "malformed"),
    ("no detail", lambda d: d.pop("price_calculation_detail"), "malformed"),
    ("detail inconsistent", lambda d: _set("price_calculation_detail.order_discount_detail.goods_total_discount_amount",
                                           5)(d), "inconsistent"),
])
async def test_a_bad_combined_answer_gives_full_price(world: World, name: str, change: Any, reason: str) -> None:
    def answer(r: Received) -> Response:
        data = world.mk.combined(r.msg)
        change(data)
        return ok(data)

    world.merchant.answers["query_and_calculate"] = answer
    q = await world.offers(quantity=2, version=2)
    assert (q["available"], q["reason"], q["discount_amount"], q["payable"]) == (False, reason, 0, 20000)


async def test_an_unreachable_or_missing_marketing_url_gives_full_price(world: World) -> None:
    async with world.db.tx() as conn:
        await app_service.update_app(conn, _Clock(), world.app["app_id"],
                                     marketing_url=f"http://127.0.0.1:{free_port()}/marketing")
    await world.refresh_app()
    q = await world.offers(version=2)
    assert (q["available"], q["reason"], q["payable"]) == (False, "unreachable", 10000)
    async with world.db.tx() as conn:
        await app_service.update_app(conn, _Clock(), world.app["app_id"], marketing_url="")
    await world.refresh_app()
    q = await world.offers(version=1)
    assert (q["available"], q["reason"], q["payable"]) == (False, "not_configured", 10000)


class _Clock:
    def now_ms(self) -> int:
        return 1


# ------------------------------------------------------------------ orders with a marketing choice


@pytest.mark.parametrize("version", [1, 2])
async def test_an_order_with_a_choice_is_priced_by_the_merchant_at_order_time(world: World, version: int) -> None:
    async with world.db.tx() as conn:
        await conn.execute(goods.update().where(goods.c.goods_id == "g").values(price=10001))
    q = await world.price(_sel(COUPON, FULL_CUT), quantity=3, version=version)
    assert (q["total_amount"], q["discount_amount"], q["payable"]) == (30003, 4235, 25768)
    before = len(world.merchant.received)
    r = await world.order(3, {"version": version, "selected": q["selected"], "expected_payable": q["payable"],
                              "discount_amount": 30000})  # a discount from the browser is ignored
    body = r.json()
    assert r.status_code == 200, body
    asked = world.kinds()[before:]
    assert asked == ["calculate_price" if version == 1 else "query_and_calculate", "pre_create_order"]
    assert (body["total_amount"], body["discount_amount"], body["payable"]) == (30003, 4235, 25768)
    prices = [i["price"] for i in body["item_orders"]]
    assert prices == [8590, 8589, 8589] and sum(prices) == 25768
    row = await world.order_row(body["order_id"])
    assert (row.total_amount, row.discount_amount) == (30003, 4235)
    detail = json.loads(row.price_calculation_detail)
    assert detail["order_discount_detail"]["order_total_discount_amount"] == 4235
    assert body["price_calculation_detail"] == detail
    assert await world.item_prices(body["order_id"]) == prices
    pre = world.merchant.of_type("pre_create_order")[-1]
    assert pre.signature_ok
    assert (pre.msg["total_amount"], pre.msg["discount"]) == (30003, 4235)
    assert pre.msg["price_calculation_detail"] == detail
    assert [i["price"] for i in pre.msg["item_order_info_list"]] == prices
    assert await world.stock() == 7
    calls = await world.attempts("calculate_price" if version == 1 else "query_and_calculate")
    assert calls[-1].order_id == body["order_id"] and calls[-1].ok


async def test_a_merchant_goods_order_with_a_choice(world: World) -> None:
    r = await world.order(2, {"version": 1, "selected": _sel(FULL_CUT), "expected_payable": 16800},
                          goods_id="bbq", goods_type=2, goods_info=MERCHANT_INFO)
    body = r.json()
    assert r.status_code == 200, body
    assert (body["total_amount"], body["discount_amount"], body["payable"]) == (19800, 3000, 16800)
    assert [i["price"] for i in body["item_orders"]] == [8400, 8400]
    pre = world.merchant.of_type("pre_create_order")[-1]
    assert pre.msg["discount"] == 3000 and pre.msg["price_calculation_detail"]["order_discount_detail"][
        "marketing_detail_info"][0]["id"] == "F1"


async def test_a_changed_price_refuses_the_order_with_the_new_price(world: World) -> None:
    q = await world.offers(quantity=1, version=1)
    assert q["payable"] == 8765
    world.mk.offers[0] = StubOffer("C1", "goods", 500, type=1)  # the merchant's coupon changed meanwhile
    r = await world.order(1, {"version": 1, "selected": q["selected"], "expected_payable": 8765})
    err = r.json()
    assert r.status_code == 422 and err["error"] == "ORDER_DATA_INVALID" and err["errNo"] == 21518
    assert err["detail"]["reason"] == "MARKETING_PRICE_CHANGED"
    assert err["detail"]["quote"]["payable"] == 9500 and err["detail"]["quote"]["discount_amount"] == 500
    assert await world.stock() == 10 and world.merchant.of_type("pre_create_order") == []
    async with world.db.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(orders))).scalar() == 0
    r = await world.order(1, {"version": 1, "selected": q["selected"], "expected_payable": 9500})
    assert r.status_code == 200 and r.json()["payable"] == 9500


async def test_marketing_down_at_order_time_sells_at_full_price_only_if_the_buyer_saw_it(world: World) -> None:
    q = await world.offers(quantity=1, version=2)
    assert q["payable"] == 8765
    world.merchant.answers["query_and_calculate"] = lambda r: PlainTextResponse("down", status_code=503)
    r = await world.order(1, {"version": 2, "selected": q["selected"], "expected_payable": 8765})
    err = r.json()
    assert r.status_code == 422 and err["detail"]["reason"] == "MARKETING_UNAVAILABLE"
    assert err["detail"]["quote"]["payable"] == 10000 and err["detail"]["quote"]["reason"] == "http_error"
    assert await world.stock() == 10
    # the page now shows the full price: the buyer's choice stands but the full price is what they accept
    r = await world.order(1, {"version": 2, "selected": q["selected"], "expected_payable": 10000})
    body = r.json()
    assert r.status_code == 200, body
    assert (body["discount_amount"], body["payable"], body["price_calculation_detail"]) == (0, 10000, None)
    pre = world.merchant.of_type("pre_create_order")[-1]
    assert pre.msg["discount"] == 0 and pre.msg["price_calculation_detail"] is None
    # or no choice at all (the page after "discounts unavailable")
    r = await world.order(1, {"version": 2, "selected": [], "expected_payable": 10000})
    assert r.status_code == 200 and r.json()["payable"] == 10000
    assert await world.stock() == 8


@pytest.mark.parametrize(("body", "status", "name"), [
    ({"goods_id": "g", "goods_type": 1, "version": 3}, 400, "INVALID_PARAMETER"),
    ({"goods_id": "g", "goods_type": 1, "selected": [{"id": "a", "type": 1, "range": "shop"}]}, 400,
     "INVALID_PARAMETER"),
    ({"goods_id": "g", "goods_type": 1, "selected": [{"id": f"a{i}", "type": 1, "range": "goods"}
                                                     for i in range(11)]}, 400, "INVALID_PARAMETER"),
    ({"goods_id": "nope", "goods_type": 1}, 404, "GOODS_NOT_FOUND"),
    ({"goods_id": "g", "goods_type": 3}, 400, "GOODS_TYPE_INVALID"),
    ({"goods_id": "bbq", "goods_type": 2, "goods_info": {"currentPrice": "9900"}}, 400, "GOODS_INFO_TYPE_INVALID"),
    ({"goods_id": "bbq", "goods_type": 2, "goods_info": {**MERCHANT_INFO, "validation": 422}}, 400,
     "GOODS_INFO_TYPE_INVALID"),
    ({"goods_id": "bbq", "goods_type": 2, "goods_info": {**MERCHANT_INFO, "currentPrice": MAX_UNIT_PRICE + 1}}, 422,
     "AMOUNT_TOO_LARGE"),  # the money ceiling (money.MAX_AMOUNT), issue 19 defect 3
    ({"goods_id": "bbq", "goods_type": 2, "quantity": 6, "goods_info": MERCHANT_INFO}, 422,
     "QUANTITY_OUT_OF_LIMITS"),
])
async def test_bad_quote_requests_get_clear_errors(world: World, body: dict[str, Any], status: int,
                                                   name: str) -> None:
    r = await world.post("marketing/offers", body)
    assert (r.status_code, r.json()["error"]) == (status, name), r.text
    assert world.merchant.received == []


async def test_quotes_need_the_buyer(world: World) -> None:
    r = await world.http.post(f"{world.url}/api/buyer/v1/marketing/offers", json={"goods_id": "g", "goods_type": 1})
    assert r.status_code == 401 and r.json()["error"] == "BUYER_TOKEN_INVALID"


async def test_an_order_with_a_bad_marketing_field_is_refused(world: World) -> None:
    r = await world.order(1, {"version": 1, "selected": [{"id": "", "type": 1, "range": "goods"}]})
    assert r.status_code == 400 and r.json()["error"] == "INVALID_PARAMETER"
    r = await world.order(1, {"version": 1, "selected": [], "expected_payable": -1})
    assert r.status_code == 400 and r.json()["error"] == "INVALID_PARAMETER"


# ------------------------------------------------------------------ the item dimension (pure)


def _detail_with_items(items: list[tuple[int, int]]) -> dict[str, Any]:
    d = MarketingStub([COUPON]).calculate({"goods_id": "g", "quantity": 2, "price": 5000}, ["C1"])
    d["item_discount_detail"] = [{"goods_id": "g", "total_amount": t, "total_discount_amount": disc,
                                  "marketing_detail_info": [{"id": "C1", "type": 1, "discount_amount": disc}]}
                                 for t, disc in items]
    return d


def test_item_lines_must_add_up_to_the_goods_line() -> None:
    line = Line("g", 1, 2, 5000)
    good = parse_calculation(_detail_with_items([(5000, 618), (5000, 617)]), line, {"C1"})
    assert good.discount == 1235 and len(good.detail["item_discount_detail"]) == 2  # type: ignore[index]
    for items in ([(5000, 618), (5000, 618)], [(5000, 1235), (4000, 0)], [(100, 200), (9900, 1035)]):
        with pytest.raises(MarketingInvalid) as e:
            parse_calculation(_detail_with_items(items), line, {"C1"})
        assert e.value.reason == "inconsistent"
    bad = copy.deepcopy(_detail_with_items([(5000, 618), (5000, 617)]))
    bad["item_discount_detail"][0]["total_amount"] = True
    with pytest.raises(MarketingInvalid) as e:
        parse_calculation(bad, line, {"C1"})
    assert e.value.reason == "malformed"
