"""What `paybutton demo` makes sure of before it touches any database, after binding its ports (clikit.bind): the
database is its own.

The demo writes an app whose secret is published (demo/seed.py). So it works only on a database it created itself,
marked by the table MARKER, which it writes into a new, empty database before anything else; on any other database
(one `db upgrade`, `serve` or an app made) it stops, unless told `--allow-foreign-database`. A database whose only
app is the demo app is a demo database made before the marker existed: it gets the marker."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Literal

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from paybutton import clikit
from paybutton.clock import SystemClock
from paybutton.db import normalise_url
from paybutton.demo.seed import DEMO_APP_ID

MARKER = "paybutton_demo"
MARKER_DDL = f"CREATE TABLE {MARKER} (created_at BIGINT NOT NULL, note VARCHAR(200) NOT NULL)"
MARKER_NOTE = "made by paybutton demo: it holds the demo app, whose secret is published"

Owner = Literal["new", "demo", "foreign"]


def _owner_of(tables: set[str], app_ids: list[str]) -> Owner:
    if not tables:
        return "new"
    if MARKER in tables or app_ids == [DEMO_APP_ID]:
        return "demo"
    return "foreign"


def _sqlite_owner(path: Path) -> Owner:
    """Read-only: a file that does not exist is new (and is not created here)."""
    if not path.exists():
        return "new"
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        apps = [r[0] for r in conn.execute("SELECT app_id FROM apps")] if "apps" in tables else []
    return _owner_of(tables, apps)


async def _owner(conn: AsyncConnection) -> tuple[Owner, set[str]]:
    listing = ("SELECT name FROM sqlite_master WHERE type='table'" if conn.dialect.name == "sqlite" else
               "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
    tables = {r[0] for r in await conn.execute(text(listing))}
    apps = [r[0] for r in await conn.execute(text("SELECT app_id FROM apps"))] if "apps" in tables else []
    return _owner_of(tables, apps), tables


async def _claim(url: str, allow_foreign: bool) -> Owner:
    path = clikit.sqlite_file(url)
    if path is not None and _sqlite_owner(path) == "foreign" and not allow_foreign:
        return "foreign"  # refused before connecting: the connection itself would change the file
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.begin() as conn:
            owner, tables = await _owner(conn)
            if owner == "foreign" and not allow_foreign:
                return owner
            if owner != "foreign" and MARKER not in tables:
                await conn.execute(text(MARKER_DDL))
                await conn.execute(text(f"INSERT INTO {MARKER} (created_at, note) VALUES (:t, :n)"),
                                   {"t": SystemClock().now_ms(), "n": MARKER_NOTE})
    finally:
        await engine.dispose()
    return owner


def claim_database(url: str, allow_foreign: bool) -> None:
    """Mark a new database as the demo's; go on with a demo database; stop on any other, unless `allow_foreign`."""
    try:
        owner = asyncio.run(_claim(url, allow_foreign))
    except (DBAPIError, OSError, sqlite3.Error) as e:
        clikit.cannot_open(url, e)
    if owner == "foreign" and not allow_foreign:
        clikit.fail(f"the database at {clikit.shown_url(url)} was not made by `paybutton demo`, which would write "
                    "its demo app (with a published secret) into it: point --database / PAYBUTTON_DATABASE_URL at "
                    "a new database (or leave both unset), or pass --allow-foreign-database if you mean it")
