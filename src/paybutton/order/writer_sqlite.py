"""The order writer on SQLite: one thread owns one sqlite3 connection and runs a whole transaction per await,
with the rows order/rows.py builds.

The writer never checkpoints the WAL itself (a checkpoint inside a commit stalls every order queued behind it);
a second thread with its own connection runs PASSIVE checkpoints, which do not block writers."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy.engine import make_url

from paybutton.db import SQLITE_PRAGMAS
from paybutton.order import rows
from paybutton.order.rows import ITEM_COLUMNS, ORDER_COLUMNS, Goods, NewOrder
from paybutton.order.writer import ACCEPT, ATTEMPT_COLUMNS, TAKE, Acceptance, DuplicateOutOrderNo, accept_params

INSERT_ORDER = f"INSERT INTO orders ({', '.join(ORDER_COLUMNS)}) VALUES ({', '.join(':' + c for c in ORDER_COLUMNS)})"
INSERT_ITEM = f"INSERT INTO item_orders ({', '.join(ITEM_COLUMNS)}) VALUES ({', '.join(':' + c for c in ITEM_COLUMNS)})"
INSERT_ATTEMPT = (f"INSERT INTO callback_attempts ({', '.join(ATTEMPT_COLUMNS)}) "
                  f"VALUES ({', '.join(':a_' + c for c in ATTEMPT_COLUMNS)})")

T = TypeVar("T")


def _write(c: sqlite3.Connection, o: NewOrder, g: Goods) -> None:
    c.execute(INSERT_ORDER, dict(rows.order_row(o, g)))
    c.executemany(INSERT_ITEM, [dict(i) for i in rows.item_rows(o, g.price)])


def _in_tx(c: sqlite3.Connection, fn: Callable[[], T]) -> T:
    """Run fn in one IMMEDIATE transaction: committed when it returns, rolled back when it raises."""
    c.execute("BEGIN IMMEDIATE")
    try:
        result = fn()
    except BaseException:
        c.execute("ROLLBACK")
        raise
    c.execute("COMMIT")
    return result


class _Refused(Exception):
    """The guarded stock statement took nothing: roll back (nothing was written) and answer None."""


class SqliteWriter:
    CHECKPOINT_EVERY_S = 0.5

    def __init__(self, path: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paybutton-sqlite-writer")
        self._ckpt_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paybutton-sqlite-checkpoint")
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._ckpt_conn: sqlite3.Connection | None = None
        self._ckpt_task: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, database_url: str) -> SqliteWriter:
        writer = cls(make_url(database_url).database or "")
        await writer._run(writer._connect)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(writer._ckpt_pool, writer._connect_checkpointer)
        writer._ckpt_task = asyncio.create_task(writer._checkpoints(), name="paybutton-sqlite-checkpoint")
        return writer

    def _open_conn(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False, timeout=10)
        for pragma in SQLITE_PRAGMAS:
            conn.execute(f"PRAGMA {pragma}")
        return conn

    def _connect(self) -> None:
        self._conn = self._open_conn()
        self._conn.execute("PRAGMA wal_autocheckpoint=0")

    def _connect_checkpointer(self) -> None:
        self._ckpt_conn = self._open_conn()

    def _checkpoint(self) -> None:
        if self._ckpt_conn is not None:
            self._ckpt_conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    async def _checkpoints(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.CHECKPOINT_EVERY_S)
            try:
                await loop.run_in_executor(self._ckpt_pool, self._checkpoint)
            except sqlite3.Error:
                pass  # busy or locked: the next round checkpoints

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def _db(self) -> sqlite3.Connection:
        assert self._conn is not None
        return self._conn

    def _take(self, o: NewOrder) -> Goods | None:
        c = self._db()

        def take() -> Goods:
            row: Sequence[Any] | None = c.execute(TAKE, {
                "q": o.quantity, "now": o.now, "app_id": o.app_id, "goods_id": o.goods_id,
                "has_phone": o.phone_num is not None, "price": o.price}).fetchone()
            if row is None:
                raise _Refused
            g = Goods(*row)
            _write(c, o, g)
            return g

        try:
            return _in_tx(c, take)
        except _Refused:
            return None

    def _insert(self, o: NewOrder, g: Goods) -> None:
        c = self._db()
        _in_tx(c, lambda: _write(c, o, g))

    def _accept(self, a: Acceptance) -> bool:
        c = self._db()
        p = accept_params(a)

        def accept() -> bool:
            n = c.execute(ACCEPT, p).rowcount
            if n == 1 and a.attempt:
                c.execute(INSERT_ATTEMPT, p)
            return n == 1

        try:
            return _in_tx(c, accept)
        except sqlite3.IntegrityError as e:
            raise DuplicateOutOrderNo(a.out_order_no) from e

    async def take(self, o: NewOrder) -> Goods | None:
        return await self._run(self._take, o)

    async def insert(self, o: NewOrder, g: Goods) -> None:
        await self._run(self._insert, o, g)

    async def accept(self, a: Acceptance) -> bool:
        return await self._run(self._accept, a)

    async def close(self) -> None:
        if self._ckpt_task is not None:
            self._ckpt_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ckpt_task

        def shut(conn: sqlite3.Connection | None) -> None:
            if conn is not None:
                conn.close()

        await self._run(shut, self._conn)
        await asyncio.get_running_loop().run_in_executor(self._ckpt_pool, shut, self._ckpt_conn)
        self._pool.shutdown(wait=True)
        self._ckpt_pool.shutdown(wait=True)
