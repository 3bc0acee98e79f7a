"""A settings change reaches every request within the stated bound (issue 19 defect 4; issue 18 item 6's second
half): a live server, the CLI in another process (`paybutton app update`), real HTTP.

The server's app cache holds a row at most `app_cache_seconds` after its read began (never a stale row while it
refreshes); a page load reads the app fresh, so the very next page after `--add-origin` carries the new frame
policy."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from trade_world import TradeWorld

BOUND_S = 0.5
CLI = str(Path(sys.executable).parent / "paybutton")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"app_cache_seconds": BOUND_S}


async def cli(trade: TradeWorld, *args: str) -> float:
    """Run `paybutton app update <app> …` in its own process; the time it exited (its change is committed)."""
    url = trade.db.settings.database_url.replace("+aiosqlite", "").replace("+asyncpg", "")
    proc = await asyncio.create_subprocess_exec(
        CLI, "app", "update", trade.app_id, *args, "--database", url, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, "COLUMNS": "200"})
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, (out + err).decode()
    return time.monotonic()


async def test_the_next_page_load_after_add_origin_has_the_new_frame_policy(trade: TradeWorld) -> None:
    page = f"{trade.url}/pages/order-confirm?app_id={trade.app_id}&goods_id=g"
    before = await trade.http.get(page)
    assert before.status_code == 200 and "https://new-shop.example" not in before.headers["content-security-policy"]
    info = await trade.http.get(f"{trade.url}/api/buyer/v1/apps/{trade.app_id}")
    assert "https://new-shop.example" not in info.json()["allowed_origins"]
    await cli(trade, "--add-origin", "https://new-shop.example")
    after = await trade.http.get(page)  # at once: no waiting for any cache
    assert "https://new-shop.example" in after.headers["content-security-policy"], after.headers
    info = await trade.http.get(f"{trade.url}/api/buyer/v1/apps/{trade.app_id}")
    assert "https://new-shop.example" in info.json()["allowed_origins"]


async def test_a_suspension_stops_orders_within_the_bound(trade: TradeWorld) -> None:
    """The first order after the bound is refused: the cache never serves its old row while it refreshes."""
    await trade.add_goods("g", stock=100)
    order = {"goods_id": "g", "goods_type": 1, "quantity": 1}
    first = await trade.http.post(f"{trade.url}/api/buyer/v1/orders", headers=trade.auth("b"), json=order)
    assert first.status_code == 200, first.text  # the app row is now cached
    committed = await cli(trade, "--suspend")
    await asyncio.sleep(max(0.0, BOUND_S - (time.monotonic() - committed)))
    for _ in range(3):
        r = await trade.http.post(f"{trade.url}/api/buyer/v1/orders", headers=trade.auth("b"), json=order)
        assert r.json().get("error") == "APP_SUSPENDED", r.text
    await cli(trade, "--resume")
    await asyncio.sleep(BOUND_S)
    again = await trade.http.post(f"{trade.url}/api/buyer/v1/orders", headers=trade.auth("b"), json=order)
    assert again.status_code == 200, again.text
