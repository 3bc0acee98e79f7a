"""The buyer's unpaid order of a good (issue 18.3, order/resume.py): offered again, closed when replaced (its stock
back, the merchant told CANCEL), never closed once paid; and a pay's `return_to` only on an allowed origin."""

from __future__ import annotations

from sqlalchemy import select
from trade_world import TradeWorld

from paybutton.tables import goods

BUYER = "/api/buyer/v1"


async def _place(trade: TradeWorld, who: str) -> str:
    r = await trade.http.post(f"{trade.url}{BUYER}/orders", headers=trade.auth(who),
                              json={"goods_id": "g", "goods_type": 1, "quantity": 2})
    assert r.status_code == 200, r.text
    return str(r.json()["order_id"])


async def _stock(trade: TradeWorld) -> int:
    async with trade.db.engine.connect() as conn:
        return int((await conn.execute(select(goods.c.stock).where(goods.c.goods_id == "g"))).scalar_one())


async def test_the_unpaid_order_is_offered_and_closed_when_replaced(trade: TradeWorld) -> None:
    await trade.add_goods("g", stock=10)
    first = await _place(trade, "u1")
    got = await trade.http.get(f"{trade.url}{BUYER}/unpaid-order", params={"goods_id": "g"}, headers=trade.auth("u1"))
    assert got.status_code == 200 and got.json()["order"]["order_id"] == first
    assert got.headers["cache-control"] == "no-store"
    other = await trade.http.get(f"{trade.url}{BUYER}/unpaid-order", params={"goods_id": "g"},
                                 headers=trade.auth("someone-else"))
    assert other.json() == {"order": None}  # never another buyer's
    second = await _place(trade, "u1")
    assert await _stock(trade) == 6
    r = await trade.http.post(f"{trade.url}{BUYER}/orders/{first}/close", headers=trade.auth("u1"))
    assert r.status_code == 200 and r.json()["status"] == "FAIL", r.text
    assert await _stock(trade) == 8  # the closed order's 2 units are back
    got = await trade.http.get(f"{trade.url}{BUYER}/unpaid-order", params={"goods_id": "g"}, headers=trade.auth("u1"))
    assert got.json()["order"]["order_id"] == second
    await trade.drive()
    cancels = [m.msg for m in trade.merchant.of_type("payment") if m.msg["order_id"] == first]
    assert [m["status"] for m in cancels] == ["CANCEL"]
    again = await trade.http.post(f"{trade.url}{BUYER}/orders/{first}/close", headers=trade.auth("u1"))
    assert again.status_code == 409, again.text  # already closed: said so, nothing changes
    assert await _stock(trade) == 8


async def test_a_paid_order_is_not_closed(trade: TradeWorld) -> None:
    await trade.add_goods("g", stock=10)
    oid = (await trade.paid_order("u2", quantity=1))["order_id"]
    r = await trade.http.post(f"{trade.url}{BUYER}/orders/{oid}/close", headers=trade.auth("u2"))
    assert r.status_code == 409, r.text
    got = await trade.http.get(f"{trade.url}{BUYER}/unpaid-order", params={"goods_id": "g"}, headers=trade.auth("u2"))
    assert got.json() == {"order": None}


async def test_return_to_must_be_on_an_allowed_origin(trade: TradeWorld) -> None:
    await trade.add_goods("g", stock=10)
    oid = await _place(trade, "u3")
    r = await trade.http.post(f"{trade.url}{BUYER}/orders/{oid}/pay", headers=trade.auth("u3"),
                              json={"channel": "douyin", "scenario": "success", "return_to": "https://evil.example/x"})
    assert r.status_code == 422 and r.json()["error"] == "RETURN_TO_NOT_ALLOWED", r.text
