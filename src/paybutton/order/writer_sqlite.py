"""The order writer on SQLite: one thread owns one sqlite3 connection and runs a whole transaction per await,
with the rows order/rows.py builds.

Library goods are taken in batches (order/batch.py): every take that arrives while the thread is busy joins the
next transaction, whatever its good, and each good in it is planned on its row as read inside that transaction
(the write lock is held) and taken with one UPDATE for its sum. One commit for the whole batch.

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
from paybutton.errors import TradeError
from paybutton.goods.selling import refusal
from paybutton.order import rows, soldout
from paybutton.order.batch import PLAN_COLUMNS, Batcher, from_memory, goods_of, plan, remember
from paybutton.order.rows import Goods, NewOrder
from paybutton.order.store import ACCEPT, TAKE
from paybutton.order.store_sqlite import INSERT_ATTEMPT, INSERT_ITEM, INSERT_ORDER, READ_GOODS, TAKE_SUM
from paybutton.order.writer import (
    Acceptance,
    DuplicateOutOrderNo,
    OrderPathCounters,
    accept_params,
    counters,
)

T = TypeVar("T")
Key = tuple[str, str]


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
    """The guarded stock statement took nothing: roll back (nothing was written)."""


def _read(c: sqlite3.Connection, app_id: str, goods_id: str) -> dict[str, Any] | None:
    row = c.execute(READ_GOODS, {"app_id": app_id, "goods_id": goods_id}).fetchone()
    return None if row is None else dict(zip(PLAN_COLUMNS, row, strict=True))


def _take_all(c: sqlite3.Connection, batch: list[NewOrder]) -> tuple[list[Goods | TradeError], list[dict[str, Any]]]:
    """Inside one transaction: each good's orders planned on its row and taken with one UPDATE for the sum.
    The results in order, and each good's row as the batch left it."""
    by_goods: dict[Key, list[int]] = {}
    for n, o in enumerate(batch):
        by_goods.setdefault((o.app_id, o.goods_id), []).append(n)
    got: dict[int, Goods | TradeError] = {}
    after: list[dict[str, Any]] = []
    for (app_id, goods_id), ns in by_goods.items():
        orders = [batch[n] for n in ns]
        row = _read(c, app_id, goods_id)
        outcomes = plan(row, goods_id, orders)
        winners = [o for o, r in zip(orders, outcomes, strict=True) if r is None]
        if row is None:
            got.update((n, r) for n, r in zip(ns, outcomes, strict=True) if r is not None)
            continue
        g = goods_of(row)
        if winners:
            total, now = sum(o.quantity for o in winners), max(o.now for o in winners)
            c.execute(TAKE_SUM, {"total": total, "now": now, "app_id": app_id, "goods_id": goods_id})
            for o in winners:
                _write(c, o, g)
            row = {**row, "stock": row["stock"] - total, "updated_at": now}
        after.append(row)
        got.update((n, g if r is None else r) for n, r in zip(ns, outcomes, strict=True))
    return [got[n] for n in range(len(batch))], after


class SqliteWriter:
    CHECKPOINT_EVERY_S = 0.5

    def __init__(self, path: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paybutton-sqlite-writer")
        self._ckpt_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paybutton-sqlite-checkpoint")
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._ckpt_conn: sqlite3.Connection | None = None
        self._ckpt_task: asyncio.Task[None] | None = None
        self.soldout = soldout.SoldOut()
        self._watcher: soldout.Watcher | None = None
        self._batches: Batcher[None, NewOrder, Goods] = Batcher(self._take_batch, kind="take")
        self._accepts: Batcher[None, Acceptance, bool] = Batcher(self._accept_batch, kind="accept")

    @classmethod
    async def open(cls, database_url: str) -> SqliteWriter:
        writer = cls(make_url(database_url).database or "")
        writer._watcher = soldout.start_watcher(writer.soldout, database_url)
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

    def _take(self, o: NewOrder) -> Goods:
        """One order priced by the merchant: its own guarded statement (the price it was priced at)."""
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
            raise refusal(_read(c, o.app_id, o.goods_id), o.goods_id, o.now, o.quantity,
                          o.phone_num is not None) from None

    def _take_batch_tx(self, batch: list[NewOrder]) -> tuple[list[Goods | TradeError], list[dict[str, Any]]]:
        c = self._db()
        return _in_tx(c, lambda: _take_all(c, batch))

    async def _take_batch(self, _key: None, batch: list[NewOrder]) -> list[Goods | TradeError]:
        token = self.soldout.begin()
        results, after = await self._run(self._take_batch_tx, batch)
        outcomes = [r if isinstance(r, TradeError) else None for r in results]
        remember(self.soldout, token, outcomes, None)
        for row in after:
            remember(self.soldout, token, (), row)
        return results

    def _insert(self, o: NewOrder, g: Goods) -> None:
        c = self._db()
        _in_tx(c, lambda: _write(c, o, g))

    def _accept_all(self, batch: list[Acceptance]) -> list[bool | Exception]:
        """Every acceptance that queued meanwhile, in one transaction; a duplicate out_order_no fails only its
        own UPDATE (SQLite undoes just the failing statement)."""
        c = self._db()

        def accept_all() -> list[bool | Exception]:
            out: list[bool | Exception] = []
            for a in batch:
                p = accept_params(a)
                try:
                    n = c.execute(ACCEPT, p).rowcount
                except sqlite3.IntegrityError:
                    out.append(DuplicateOutOrderNo(a.out_order_no))
                    continue
                if n == 1 and a.attempt:
                    c.execute(INSERT_ATTEMPT, p)
                out.append(n == 1)
            return out

        return _in_tx(c, accept_all)

    async def take(self, o: NewOrder) -> Goods:
        from_memory(self.soldout, o)
        if o.price is not None:
            return await self._run(self._take, o)
        return await self._batches.submit(None, o)

    async def insert(self, o: NewOrder, g: Goods) -> None:
        await self._run(self._insert, o, g)

    async def accept(self, a: Acceptance) -> bool:
        return await self._accepts.submit(None, a)

    async def _accept_batch(self, _key: None, batch: list[Acceptance]) -> list[bool | Exception]:
        return await self._run(self._accept_all, batch)

    def order_path_counters(self) -> OrderPathCounters:
        return counters(self.soldout, self._batches, self._accepts)

    async def close(self) -> None:
        await self._accepts.close()
        await self._batches.close()
        if self._watcher is not None:
            await self._watcher.close()
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
