"""The platform key pair is created once, even when several server processes start on a new database."""

from __future__ import annotations

import asyncio

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
