"""paybutton.merchant.OpenAPIClient against a live server (real HTTP, SQLite and PostgreSQL): one token
request serves many calls, the token is renewed before it expires and after the server expires it, and an
error envelope becomes an OpenAPIError with the server's codes and logid."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from paybutton.app import create_app
from paybutton.apps import service as app_service
from paybutton.clock import FakeClock
from paybutton.config import Settings
from paybutton.db import Database
from paybutton.merchant import OpenAPIClient, OpenAPIError
from paybutton.tables import access_tokens


class Ticks:
    """The client's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run(db_url: str, fn: Any) -> Any:
    async def go() -> Any:
        db = Database(Settings(database_url=db_url))
        try:
            async with db.tx() as conn:
                return await fn(conn)
        finally:
            await db.dispose()

    return asyncio.run(go())


def tokens_issued(db_url: str, app_id: str) -> int:
    async def count(conn: Any) -> int:
        q = select(func.count()).select_from(access_tokens).where(access_tokens.c.app_id == app_id)
        return int((await conn.execute(q)).scalar_one())

    return int(run(db_url, count))


@pytest.fixture
def world(db_url: str, live_factory: Any) -> tuple[str, dict[str, Any], FakeClock]:
    clock = FakeClock()
    app = run(db_url, lambda conn: app_service.create_app(conn, clock, name="Client shop"))
    server = live_factory(create_app(Settings(database_url=db_url, run_workers=False), clock=clock))
    return server.url, app, clock


def test_one_token_for_many_calls_and_renewal(world: tuple[str, dict[str, Any], FakeClock], db_url: str) -> None:
    url, app, server_clock = world
    ticks = Ticks()
    with OpenAPIClient(url, app["app_id"], app["secret"], clock=ticks) as client:
        good = {"goods_id": "g1", "name": "Hotpot", "price": 16800, "stock": 5}
        assert client.goods_create(good)["goods"]["stock"] == 5
        assert client.goods_update("g1", {"stock_delta": 3})["goods"]["stock"] == 8
        assert client.goods_query("g1")["goods"]["price"] == 16800
        assert [g["goods_id"] for g in client.goods_list(limit=10)["goods_list"]] == ["g1"]
        with pytest.raises(OpenAPIError):
            client.query_order(order_id="ot-nope")
        assert client.token_requests == 1
        assert tokens_issued(db_url, app["app_id"]) == 1

        ticks.now += 7200 - 300 - 1  # not yet within the 5-minute margin: the same token
        client.goods_query("g1")
        assert client.token_requests == 1
        ticks.now += 2  # within it: a new token before the call
        client.goods_query("g1")
        assert client.token_requests == 2
        assert tokens_issued(db_url, app["app_id"]) == 2

        server_clock.advance(7201)  # the server expires the token the client still trusts: 2190008, renew, retry
        assert client.goods_query("g1")["goods"]["goods_id"] == "g1"
        assert client.token_requests == 3


def test_error_envelope_becomes_a_typed_error(world: tuple[str, dict[str, Any], FakeClock]) -> None:
    url, app, _ = world
    with OpenAPIClient(url, app["app_id"], app["secret"]) as client:
        with pytest.raises(OpenAPIError) as e:
            client.query_order(order_id="ot-nope")
        assert (e.value.err_no, e.value.sub_error_code) == (2191003, 20000)  # reference §18: not found
        assert e.value.err_msg == "订单不存在" and e.value.sub_description == "order not found"
        assert len(e.value.logid) == 26 and e.value.logid in str(e.value)

        with pytest.raises(OpenAPIError) as e:
            client.goods_create({"goods_id": "bad id!", "name": "x", "price": 1, "stock": 1})
        assert e.value.err_no == 2100005

        # Idempotency-Key: the same key and body answer the stored result; another body is refused
        body = {"goods_id": "g2", "name": "Tea", "price": 500, "stock": 1}
        first = client.goods_create(body, idempotency_key="k-1")
        assert client.goods_create(body, idempotency_key="k-1") == first
        with pytest.raises(OpenAPIError) as e:
            client.goods_create({**body, "price": 600}, idempotency_key="k-1")
        assert e.value.err_no == 2100005
        assert client.goods_query("g2")["goods"]["price"] == 500

        # not the OpenAPI at all (a buyer route answers its own error shape)
        with pytest.raises(OpenAPIError, match="not an OpenAPI envelope"):
            client.call("/api/buyer/v1/orders", {})

    with OpenAPIClient(url, app["app_id"], "wrong secret") as bad:
        with pytest.raises(OpenAPIError) as e:
            bad.goods_query("g2")
        assert e.value.err_no == 2100005 and e.value.sub_error_code == 11004
        assert bad.token_requests == 1
