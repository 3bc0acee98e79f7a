"""One-time handover codes (issue 18 item 4): how the pay-button hands a buyer token to a hosted page opened in
redirect mode without putting it in a URL. In-process with a fake clock, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from paybutton import buyer_token
from paybutton.app import create_app
from paybutton.apps import service as app_service
from paybutton.clock import FakeClock
from paybutton.config import Settings
from paybutton.kernel.handover import TTL_MS
from paybutton.tables import handover_codes

H = "/api/buyer/v1/handover"


class Trade:
    def __init__(self, app: Any, client: httpx.AsyncClient, clock: FakeClock) -> None:
        self.client, self.clock, self.ctx = client, clock, app.state.ctx

    async def new_app(self, name: str) -> dict[str, Any]:
        async with self.ctx.db.tx() as conn:
            a: dict[str, Any] = await app_service.create_app(conn, self.clock, name=name)
        return a

    def token(self, a: dict[str, Any], open_id: str = "u1") -> str:
        return buyer_token.mint(a["app_id"], a["secret"], open_id, now=self.clock.now_ms() / 1000)

    async def issue(self, token: str, state: dict[str, Any]) -> httpx.Response:
        return await self.client.post(H, json={"state": state}, headers={"Authorization": f"Bearer {token}"})

    async def exchange(self, app_id: str, code: str) -> httpx.Response:
        return await self.client.post(f"{H}/exchange", json={"app_id": app_id, "code": code})


@pytest.fixture
async def trade(db_url: str) -> AsyncIterator[Trade]:
    clock = FakeClock()
    app = create_app(Settings(database_url=db_url, run_workers=False), clock=clock)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            yield Trade(app, client, clock)


async def test_a_code_gives_the_token_and_state_once(trade: Trade) -> None:
    a = await trade.new_app("A")
    tok = trade.token(a)
    r = await trade.issue(tok, {"key": "pay-button:g:x", "goodsInfo": {"goodsName": "火锅"}, "token": "dropped"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    code = r.json()["code"]
    assert "pbt1" not in code and len(code) == 43 and r.json()["expires_in"] == TTL_MS // 1000
    got = await trade.exchange(a["app_id"], code)
    assert got.status_code == 200, got.json()
    assert got.json() == {"token": tok, "state": {"key": "pay-button:g:x", "goodsInfo": {"goodsName": "火锅"}}}
    # replayed: refused, and the row keeps neither the token nor the state
    again = await trade.exchange(a["app_id"], code)
    assert again.status_code == 410
    assert again.json()["error"] == "HANDOVER_CODE_INVALID" and again.json()["detail"] == {"reason": "used"}
    async with trade.ctx.db.engine.connect() as conn:
        rows = (await conn.execute(select(handover_codes))).mappings().all()
    assert len(rows) == 1 and rows[0]["token"] is None and rows[0]["state"] is None
    assert rows[0]["code_hash"] != code and code not in str(dict(rows[0]))


async def test_an_expired_a_foreign_or_a_made_up_code_is_refused(trade: Trade) -> None:
    a, b = await trade.new_app("A"), await trade.new_app("B")
    code = (await trade.issue(trade.token(a), {})).json()["code"]
    other = await trade.exchange(b["app_id"], code)  # another app's page
    assert other.status_code == 410 and other.json()["detail"] == {"reason": "expired"}
    made_up = await trade.exchange(a["app_id"], "A" * 43)
    assert made_up.status_code == 410 and made_up.json()["detail"] == {"reason": "expired"}
    trade.clock.advance(TTL_MS / 1000 + 1)
    late = await trade.exchange(a["app_id"], code)
    assert late.status_code == 410 and late.json()["detail"] == {"reason": "expired"}


async def test_two_exchanges_at_once_give_the_token_once(trade: Trade) -> None:
    a = await trade.new_app("A")
    code = (await trade.issue(trade.token(a), {})).json()["code"]
    got = await asyncio.gather(*(trade.exchange(a["app_id"], code) for _ in range(4)))
    assert sorted(r.status_code for r in got) == [200, 410, 410, 410]


async def test_bad_requests_get_the_buyer_envelope(trade: Trade) -> None:
    a = await trade.new_app("A")
    no_token = await trade.client.post(H, json={"state": {}})
    assert no_token.status_code == 401 and no_token.json()["error"] == "BUYER_TOKEN_INVALID"
    big = await trade.issue(trade.token(a), {"goodsInfo": {"x": "y" * 40_000}})
    assert big.status_code == 400 and big.json()["error"] == "INVALID_PARAMETER"
    not_a_code = await trade.exchange(a["app_id"], "pbt1.x.y")
    assert not_a_code.status_code == 400 and not_a_code.json()["error"] == "INVALID_PARAMETER"
    not_an_object = await trade.client.post(H, json={"state": [1]},
                                            headers={"Authorization": f"Bearer {trade.token(a)}"})
    assert not_an_object.status_code == 400
