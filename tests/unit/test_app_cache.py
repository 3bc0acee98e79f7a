"""The app cache: one fetch however many ask at once; a row is never served after its bound (counted from when its
read began), not even while it refreshes; `forget` drops the row and any read in flight (issue 19 defect 4)."""

from __future__ import annotations

import asyncio
from typing import Any

from paybutton.context import AppCache


async def test_single_flight_and_no_row_past_the_bound() -> None:
    now = [100.0]  # the cache's clock, stepped by the test (a loaded machine's scheduling cannot move the bound)
    cache = AppCache(ttl_seconds=2.0, monotonic=lambda: now[0])
    calls = 0

    async def fetch() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.02)
        now[0] += 0.5  # the read takes 0.5 s
        return {"app_id": "tt1", "n": calls}

    got = await asyncio.gather(*(asyncio.shield(cache.load("tt1", fetch)) for _ in range(50)))
    assert calls == 1 and all(g["n"] == 1 for g in got)
    assert cache.get("tt1") == {"app_id": "tt1", "n": 1}
    now[0] += 1.49  # 1.99 s since the read began: still served
    assert cache.get("tt1") == {"app_id": "tt1", "n": 1}
    now[0] += 0.01  # 2 s since the read began (1.5 since it ended): past the bound
    assert cache.get("tt1") is None
    futures = [cache.load("tt1", fetch) for _ in range(20)]
    assert len({id(f) for f in futures}) == 1
    await futures[0]
    assert calls == 2 and cache.get("tt1") == {"app_id": "tt1", "n": 2}


async def test_forget_drops_a_read_that_began_before_it() -> None:
    cache = AppCache(ttl_seconds=10)

    async def fetch() -> dict[str, Any]:
        await asyncio.sleep(0.02)
        return {"app_id": "tt3", "v": "old"}

    early = cache.load("tt3", fetch)
    cache.forget("tt3")  # a change committed while the read was in flight
    assert await early == {"app_id": "tt3", "v": "old"}
    assert cache.get("tt3") is None  # not cached: it may predate the change
    assert cache.load("tt3", fetch) is not early
    fresh = cache.load("tt3", fetch, fresh=True)
    assert await fresh and cache.get("tt3") is not None


async def test_a_failed_fetch_is_not_cached() -> None:
    cache = AppCache()

    async def boom() -> dict[str, Any]:
        raise LookupError("no such app")

    fut = cache.load("tt2", boom)
    try:
        await fut
    except LookupError:
        pass
    assert cache.get("tt2") is None
    assert cache.load("tt2", boom) is not fut
    try:
        await cache.load("tt2", boom)
    except LookupError:
        pass
