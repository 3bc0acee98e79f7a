"""The platform key pair is created once, even when several server processes start on a new database."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import func, select

from paybutton.apps.service import ensure_platform_key
from paybutton.clock import SystemClock
from paybutton.config import Settings
from paybutton.db import Database
from paybutton.tables import platform_keys


async def test_concurrent_first_starts_make_one_key(db_url: str) -> None:
    dbs = [Database(Settings(database_url=db_url)) for _ in range(4)]

    async def start(db: Database) -> str:
        async with db.tx() as conn:
            return (await ensure_platform_key(conn, SystemClock()))[1]

    try:
        keys = await asyncio.gather(*(start(db) for db in dbs))
        async with dbs[0].engine.connect() as conn:
            n = (await conn.execute(select(func.count()).select_from(platform_keys))).scalar()
    finally:
        for db in dbs:
            await db.dispose()
    assert n == 1
    assert len(set(keys)) == 1


async def test_signing_never_waits_on_a_failing_key_check(running: Any, db_url: str) -> None:
    """fresh_signer() looks for a rotated key once a second; when the database cannot answer, signing goes on
    with the current key at once, without an error, and the check backs off for an interval."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from paybutton import context

    ctx = running.ctx
    before = await ctx.fresh_signer()
    good_engine = ctx.db.engine
    # a real engine to a port where nothing listens: every connection attempt fails
    dead = ("postgresql+asyncpg://postgres@127.0.0.1:9/none" if db_url.startswith("postgresql")
            else "sqlite+aiosqlite:////nonexistent-dir/none.db")
    ctx.db.engine = create_async_engine(dead)
    try:
        ctx._key_checked = 0.0
        t0 = time.monotonic()
        signers = await asyncio.gather(*(ctx.fresh_signer() for _ in range(20)))
        assert all(s is before for s in signers)
        # the lookup is capped at its timeout (a hang would not be; the bound only guards against one: the dead
        # database fails at once, and a loaded machine must not fail a tight wall-clock bound)
        assert time.monotonic() - t0 < context.KEY_CHECK_TIMEOUT_SECONDS + 10
        assert ctx._key_checked >= t0  # the failed check was recorded now: the next waits an interval (no retry storm)
        signed = (await ctx.fresh_signer()).sign(b"{}", 1_795_000_000)
        assert signed.signature
    finally:
        await ctx.db.engine.dispose()
        ctx.db.engine = good_engine
