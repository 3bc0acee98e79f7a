"""The app cache: one fetch however many ask at once, stale rows served while one task refreshes."""

from __future__ import annotations

import asyncio
from typing import Any

from paybutton.context import AppCache


async def test_single_flight_and_stale_while_revalidate() -> None:
    cache = AppCache(ttl_seconds=0.05)
    calls = 0

    async def fetch() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.02)
        return {"app_id": "tt1", "n": calls}

    got = await asyncio.gather(*(asyncio.shield(cache.load("tt1", fetch)) for _ in range(50)))
    assert calls == 1 and all(g["n"] == 1 for g in got)
    assert cache.get("tt1") == {"app_id": "tt1", "n": 1}
    await asyncio.sleep(0.06)
    assert cache.get("tt1") is None  # expired
    assert cache.stale("tt1") == {"app_id": "tt1", "n": 1}
    futures = [cache.load("tt1", fetch) for _ in range(20)]
    assert len({id(f) for f in futures}) == 1
    await futures[0]
    assert calls == 2 and cache.get("tt1") == {"app_id": "tt1", "n": 2}


async def test_a_failed_fetch_is_not_cached() -> None:
    cache = AppCache()

    async def boom() -> dict[str, Any]:
        raise LookupError("no such app")

    fut = cache.load("tt2", boom)
    try:
        await fut
    except LookupError:
        pass
    assert cache.stale("tt2") is None
    assert cache.load("tt2", boom) is not fut
    try:
        await cache.load("tt2", boom)
    except LookupError:
        pass
