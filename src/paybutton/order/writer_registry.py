"""The order writer of each Database (order/writer.py says what a writer does): opened on first use by
`writer_of(ctx)`, closed by `close_writer(db)` at the app's shutdown. Keyed weakly by the Database, so the
context holds no order object."""

from __future__ import annotations

import asyncio
from weakref import WeakKeyDictionary

from paybutton.context import Ctx
from paybutton.db import Database
from paybutton.order.writer import OrderWriter
from paybutton.order.writer_pg import PostgresWriter
from paybutton.order.writer_sqlite import SqliteWriter

# ---------------------------------------------------------------------------------- one writer per Database

_writers: WeakKeyDictionary[Database, OrderWriter] = WeakKeyDictionary()
_opening: WeakKeyDictionary[Database, asyncio.Lock] = WeakKeyDictionary()


async def writer_of(ctx: Ctx) -> OrderWriter:
    """The order writer of ctx's database, opened on first use."""
    w = _writers.get(ctx.db)
    if w is not None:
        return w
    lock = _opening.setdefault(ctx.db, asyncio.Lock())
    async with lock:
        w = _writers.get(ctx.db)
        if w is None:
            w = await open_writer(ctx.db.engine.url.render_as_string(hide_password=False),
                                  ctx.settings.order_pool_size)
            _writers[ctx.db] = w
    return w


async def close_writer(db: Database) -> None:
    """Close the database's order writer, if it was opened (the app's shutdown)."""
    w = _writers.pop(db, None)
    if w is not None:
        await w.close()


async def open_writer(database_url: str, pool_size: int) -> OrderWriter:
    if database_url.startswith("sqlite"):
        return await SqliteWriter.open(database_url)
    return await PostgresWriter.open(database_url, pool_size)
