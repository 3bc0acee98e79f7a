"""One money ceiling (money.MAX_AMOUNT) for every good and every sum, refused as AMOUNT_TOO_LARGE in each
surface's envelope (issue 19 defect 3): a library good's price (OpenAPI goods/create), quantity x price of a
library good already stored over it (the order path's sell condition: no stock taken, no BIGINT overflow), a
merchant good's currentPrice and its quantity x price (the buyer API)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from trade_world import TradeWorld

from paybutton.money import MAX_AMOUNT
from paybutton.tables import goods, orders

BUYER = "/api/buyer/v1"
GOOD = {"goods_id": "dear", "name": "dear", "photo_url": "", "stock": 10, "min_limits": 1, "max_limits": 99999}


async def openapi_goods(trade: TradeWorld, body: dict[str, Any]) -> dict[str, Any]:
    r = await trade.http.post(f"{trade.url}/api/apps/trade/v2/goods/create", json=body,
                              headers={"access-token": await trade.token()})
    assert r.status_code == 200, r.text
    env: dict[str, Any] = r.json()
    return env


async def test_a_library_price_over_the_ceiling_is_refused(trade: TradeWorld) -> None:
    for price in (MAX_AMOUNT + 1, 2**53 - 1):  # 2**53 - 1 was accepted before (the JavaScript ceiling only)
        env = await openapi_goods(trade, {**GOOD, "price": price})
        assert (env["extra"]["error_code"], env["extra"]["sub_error_code"]) == (2100005, 10000), env
        assert env["extra"]["description"].startswith("金额超出上限"), env
    assert (await openapi_goods(trade, {**GOOD, "price": MAX_AMOUNT}))["extra"]["error_code"] == 0


async def test_quantity_times_price_over_the_ceiling_takes_nothing(trade: TradeWorld) -> None:
    """A good whose price is at the ceiling (or was stored over it before the ceiling): two units are over it."""
    await trade.add_goods("top", stock=10, price=MAX_AMOUNT)
    await trade.add_goods("legacy", stock=10, price=2**53 - 1)
    for gid, q in (("top", 2), ("legacy", 1), ("legacy", 5000)):
        r = await trade.http.post(f"{trade.url}{BUYER}/orders", headers=trade.auth("b1"),
                                  json={"goods_id": gid, "goods_type": 1, "quantity": q})
        assert r.status_code == 422, r.text
        assert (r.json()["error"], r.json()["errNo"]) == ("AMOUNT_TOO_LARGE", 21518), r.text
    one = await trade.http.post(f"{trade.url}{BUYER}/orders", headers=trade.auth("b1"),
                                json={"goods_id": "top", "goods_type": 1, "quantity": 1})
    assert one.status_code == 200 and one.json()["total_amount"] == MAX_AMOUNT, one.text
    async with trade.db.engine.connect() as conn:
        stock = dict((await conn.execute(select(goods.c.goods_id, goods.c.stock))).all())
        n = len((await conn.execute(select(orders.c.order_id))).all())
    assert (stock, n) == ({"top": 9, "legacy": 10}, 1)


async def test_a_merchant_good_over_the_ceiling_is_refused(trade: TradeWorld) -> None:
    info = {"currentPrice": MAX_AMOUNT // 2 + 1, "goodsName": "m", "goodsPhoto": "", "maxLimits": 99}
    for price, q in ((MAX_AMOUNT + 1, 1), (MAX_AMOUNT // 2 + 1, 2)):
        r = await trade.http.post(f"{trade.url}{BUYER}/orders", headers=trade.auth("b2"), json={
            "goods_id": "m1", "goods_type": 2, "quantity": q, "goods_info": {**info, "currentPrice": price}})
        assert r.status_code == 422, r.text
        assert (r.json()["error"], r.json()["errNo"]) == ("AMOUNT_TOO_LARGE", 21518), r.text
