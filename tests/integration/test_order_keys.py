"""Idempotent order placement on a live server: a client whose first answer is lost (it times out after the server
committed) retries with the same Idempotency-Key and gets the first order, its stock taken once; concurrent
requests with one key place one order; another body with the key is refused; keys are per buyer."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from merchant_stub import Received, ok
from sqlalchemy import func, select
from starlette.responses import Response
from trade_world import TradeWorld

from paybutton.tables import goods, orders

BUYER = "/api/buyer/v1"


async def slow_accept(r: Received) -> Response:
    await asyncio.sleep(0.8)  # the merchant takes its time: the client gives up first
    return ok({"out_order_no": "M" + r.msg["order_id"], "pay_expire_seconds": 300})


async def counts(trade: TradeWorld) -> tuple[int, int]:
    async with trade.db.engine.connect() as conn:
        n = (await conn.execute(select(func.count()).select_from(orders))).scalar_one()
        stock = (await conn.execute(select(goods.c.stock).where(goods.c.goods_id == "g"))).scalar_one()
    return int(n), int(stock)


@pytest.mark.parametrize("path", ["/orders", "/orders/"])  # the ASGI fast path answers both
async def test_a_retry_after_a_lost_answer_finds_the_first_order(trade: TradeWorld, path: str) -> None:
    await trade.add_goods("g", stock=10)
    trade.merchant.answers["pre_create_order"] = slow_accept
    h = {**trade.auth("k1"), "Idempotency-Key": "tap-1"}
    body = {"goods_id": "g", "goods_type": 1, "quantity": 2}
    async with httpx.AsyncClient(trust_env=False, timeout=0.3) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            await impatient.post(f"{trade.url}{BUYER}{path}", headers=h, json=body)
    busy = await trade.http.post(f"{trade.url}{BUYER}/orders", headers=h, json=body)
    assert busy.status_code == 409 and busy.json()["error"] == "IDEMPOTENCY_IN_PROGRESS"
    await asyncio.sleep(1.0)  # the server finished the first request meanwhile
    again = await trade.http.post(f"{trade.url}{BUYER}/orders", headers=h, json=body)
    assert again.status_code == 200, again.text
    assert await counts(trade) == (1, 8)  # one order, stock taken once
    async with trade.db.engine.connect() as conn:
        (oid,) = (await conn.execute(select(orders.c.order_id))).scalars().all()
    assert again.json()["order_id"] == oid and again.json()["out_order_no"] == "M" + oid
    other = await trade.http.post(f"{trade.url}{BUYER}/orders", headers=h, json={**body, "quantity": 1})
    assert other.status_code == 422 and other.json()["error"] == "IDEMPOTENCY_KEY_REUSED"
    someone_else = await trade.http.post(f"{trade.url}{BUYER}/orders",
                                         headers={**trade.auth("k2"), "Idempotency-Key": "tap-1"}, json=body)
    assert someone_else.status_code == 200 and someone_else.json()["order_id"] != oid
    assert await counts(trade) == (2, 6)


async def test_concurrent_requests_with_one_key_place_one_order(trade: TradeWorld) -> None:
    await trade.add_goods("g", stock=10)
    h = {**trade.auth("k3"), "Idempotency-Key": "tap-2"}
    body = {"goods_id": "g", "goods_type": 1}
    answers: list[Any] = await asyncio.gather(*[
        trade.http.post(f"{trade.url}{BUYER}/orders", headers=h, json=body) for _ in range(8)])
    placed = {r.json()["order_id"] for r in answers if r.status_code == 200}
    busy = [r for r in answers if r.status_code != 200]
    assert len(placed) == 1 and all(r.status_code == 409 and r.json()["error"] == "IDEMPOTENCY_IN_PROGRESS"
                                    for r in busy)
    assert await counts(trade) == (1, 9)
    later = await trade.http.post(f"{trade.url}{BUYER}/orders", headers=h, json=body)
    assert later.json()["order_id"] in placed


async def test_a_failed_placement_frees_its_key(trade: TradeWorld) -> None:
    await trade.add_goods("g", stock=1)
    h = {**trade.auth("k4"), "Idempotency-Key": "tap-3"}
    sold_out = await trade.http.post(f"{trade.url}{BUYER}/orders", headers=h,
                                     json={"goods_id": "g", "goods_type": 1, "quantity": 2})
    assert sold_out.status_code != 200
    ok_now = await trade.http.post(f"{trade.url}{BUYER}/orders", headers=h,
                                   json={"goods_id": "g", "goods_type": 1, "quantity": 2})
    assert ok_now.json()["error"] == sold_out.json()["error"]  # ran again, not IDEMPOTENCY_IN_PROGRESS
