"""Idempotent order placement on a live server: a client whose first answer is lost (it times out after the server
committed) retries with the same Idempotency-Key and gets the first order, its stock taken once; concurrent
requests with one key place one order; another body with the key is refused; keys are per buyer."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from merchant_stub import Received, ok
from sqlalchemy import func, select, update
from starlette.responses import Response
from trade_world import TradeWorld

from paybutton.kernel.order_keys import scoped_key
from paybutton.tables import goods, idempotency_keys, orders

BUYER = "/api/buyer/v1"


def held_accept(gate: threading.Event) -> Callable[[Received], Awaitable[Response]]:
    """The merchant accepts once the test opens `gate` (20 s at most): the first placement is in flight, holding
    its key, for as long as the test needs, however slow the machine (it used to be a 0.8-s sleep, which a loaded
    machine could outlast before the test's second request)."""
    async def accept(r: Received) -> Response:
        await asyncio.to_thread(gate.wait, 20)
        return ok({"out_order_no": "M" + r.msg["order_id"], "pay_expire_seconds": 300})
    return accept


async def until(cond: Callable[[], Awaitable[bool]], what: str, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while not await cond():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def counts(trade: TradeWorld) -> tuple[int, int]:
    async with trade.db.engine.connect() as conn:
        n = (await conn.execute(select(func.count()).select_from(orders))).scalar_one()
        stock = (await conn.execute(select(goods.c.stock).where(goods.c.goods_id == "g"))).scalar_one()
    return int(n), int(stock)


@pytest.mark.parametrize("settings_overrides", [{"pre_order_timeout_seconds": 25.0}])  # longer than the gate
@pytest.mark.parametrize("path", ["/orders", "/orders/"])  # the ASGI fast path answers both
async def test_a_retry_after_a_lost_answer_finds_the_first_order(trade: TradeWorld, path: str) -> None:
    await trade.add_goods("g", stock=10)
    gate = threading.Event()
    trade.merchant.answers["pre_create_order"] = held_accept(gate)
    h = {**trade.auth("k1"), "Idempotency-Key": "tap-1"}
    body = {"goods_id": "g", "goods_type": 1, "quantity": 2}
    async with httpx.AsyncClient(trust_env=False, timeout=0.3) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            await impatient.post(f"{trade.url}{BUYER}{path}", headers=h, json=body)
    async def asked() -> bool:
        return bool(trade.merchant.of_type("pre_create_order"))

    await until(asked, "the first placement never reached the merchant")  # it holds the key
    busy = await trade.http.post(f"{trade.url}{BUYER}/orders", headers=h, json=body)
    assert busy.status_code == 409 and busy.json()["error"] == "IDEMPOTENCY_IN_PROGRESS"
    gate.set()

    async def stored() -> bool:  # the first placement finished and stored its answer for the key
        async with trade.db.engine.connect() as conn:
            q = select(idempotency_keys.c.response_body).where(idempotency_keys.c.response_body.is_not(None))
            return (await conn.execute(q)).first() is not None

    await until(stored, "the first placement never stored its answer")
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


async def _key_rows(trade: TradeWorld) -> list[Any]:
    async with trade.db.engine.connect() as conn:
        return list((await conn.execute(select(idempotency_keys))).all())


async def _as_if_the_holder_died(trade: TradeWorld, lease_over: bool) -> None:
    """What a process killed mid-placement leaves: the key in progress (no answer stored); its lease over or not."""
    async with trade.db.tx() as conn:
        await conn.execute(update(idempotency_keys).values(
            response_body=None, lease_until=trade.clock.now_ms() + (-1 if lease_over else 60_000)))


async def test_a_dead_holder_that_placed_the_order_leaves_it_to_the_retry(trade: TradeWorld) -> None:
    """Issue 19 defect 2: the holder wrote the order and died before storing the answer."""
    await trade.add_goods("g", stock=10)
    h = {**trade.auth("k5"), "Idempotency-Key": "tap-5"}
    body = {"goods_id": "g", "goods_type": 1, "quantity": 2}
    first = await trade.http.post(f"{trade.url}{BUYER}/orders", headers=h, json=body)
    assert first.status_code == 200, first.text
    await _as_if_the_holder_died(trade, lease_over=False)
    busy = await trade.http.post(f"{trade.url}{BUYER}/orders", headers=h, json=body)
    assert busy.status_code == 409 and busy.json()["error"] == "IDEMPOTENCY_IN_PROGRESS"  # the lease holds
    await _as_if_the_holder_died(trade, lease_over=True)
    again = await trade.http.post(f"{trade.url}{BUYER}/orders", headers=h, json=body)
    assert again.status_code == 200, again.text
    assert again.json()["order_id"] == first.json()["order_id"]
    assert await counts(trade) == (1, 8)  # found, not placed again
    (row,) = await _key_rows(trade)
    assert row.response_body is not None  # and stored: later retries answer it at once
    later = await trade.http.post(f"{trade.url}{BUYER}/orders", headers=h, json=body)
    assert later.json()["order_id"] == first.json()["order_id"]


async def test_a_dead_holder_that_placed_nothing_leaves_the_placing_to_the_retry(trade: TradeWorld) -> None:
    """Issue 19 defect 2: the holder died before writing the order: after the lease, the retry places it under the
    order id the key reserved."""
    await trade.add_goods("g", stock=10)
    body = {"goods_id": "g", "goods_type": 1, "quantity": 1}
    seen = await trade.http.post(f"{trade.url}{BUYER}/orders", headers={**trade.auth("k6"), "Idempotency-Key": "a"},
                                 json=body)
    assert seen.status_code == 200, seen.text
    (done,) = await _key_rows(trade)
    async with trade.db.tx() as conn:
        open_id = (await conn.execute(select(orders.c.open_id))).scalar_one()
        dead_oid = "ot" + "0" * 22
        await conn.execute(idempotency_keys.insert().values(
            app_id=done.app_id, key=scoped_key(open_id, "b"), route=done.route, request_hash=done.request_hash,
            created_at=trade.clock.now_ms(), order_id=dead_oid, lease_until=trade.clock.now_ms() + 60_000))
    h = {**trade.auth("k6"), "Idempotency-Key": "b"}
    busy = await trade.http.post(f"{trade.url}{BUYER}/orders", headers=h, json=body)
    assert busy.status_code == 409 and busy.json()["error"] == "IDEMPOTENCY_IN_PROGRESS"
    async with trade.db.tx() as conn:
        await conn.execute(update(idempotency_keys).where(idempotency_keys.c.order_id == dead_oid)
                           .values(lease_until=trade.clock.now_ms() - 1))
    placed = await trade.http.post(f"{trade.url}{BUYER}/orders", headers=h, json=body)
    assert placed.status_code == 200, placed.text
    assert placed.json()["order_id"] == dead_oid
    assert await counts(trade) == (2, 8)
    again = await trade.http.post(f"{trade.url}{BUYER}/orders", headers=h, json=body)
    assert again.json()["order_id"] == dead_oid and await counts(trade) == (2, 8)
