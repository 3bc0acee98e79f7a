"""The order-placing hot path at the driver level: taking stock, writing the order and its item orders, and
recording the merchant's acceptance, each as ONE round trip to the database.

Why: under load an `await` between statements hands the event loop to other requests, and a transaction that
holds the hot goods row (PostgreSQL) or the write lock (SQLite) across several awaits makes every other buyer
wait for those scheduling gaps. PostgreSQL gets one statement per step (CTEs, autocommit, prepared by asyncpg);
SQLite gets a writer thread that owns its connection and runs a whole transaction per hop.
The statements are the same as order/store.py's; bench/pgbench/order_path.sql mirrors them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from sqlalchemy.engine import make_url

from paybutton.db import PG_SESSION_SETTINGS


@dataclass
class NewOrder:
    order_id: str
    app_id: str
    open_id: str
    goods_id: str
    quantity: int
    has_phone: bool
    phone_num: str | None
    contact_name: str | None
    cp_extra: str | None
    out_order_no: str | None  # set when no pre-order is needed (accepted at once)
    pre_order_status: str
    delivery_type: int
    pay_expire_ms: int
    item_ids: list[str]
    now: int


@dataclass
class Taken:
    """What the goods row said when its stock was taken (the order's snapshot)."""

    name: str
    photo_url: str
    price: int
    labels: str
    date_rule: str
    biz_line: int


class OrderWriter(Protocol):
    async def take(self, o: NewOrder) -> Taken | None:
        """Take stock (guarded), insert the order and one item order per unit; None when the goods refuse."""

    async def accept(self, order_id: str, out_order_no: str, expire_at: int, schema: str | None, now: int,
                     attempt: dict[str, Any] | None) -> bool:
        """Record the merchant's out_order_no (guarded on PENDING) and the attempt. Raises DuplicateOutOrderNo."""

    async def close(self) -> None: ...


class DuplicateOutOrderNo(Exception):
    pass


ATTEMPT_COLUMNS = ("app_id", "type", "order_id", "attempt", "url", "logid", "started_at", "duration_ms",
                   "http_status", "ok", "answer_head", "error")

# ----------------------------------------------------------------------------------------- PostgreSQL

PG_TAKE = """
WITH s AS (
  UPDATE goods SET stock = stock - $3, sold = sold + $3, updated_at = $4
   WHERE app_id = $1 AND goods_id = $2 AND stock >= $3 AND on_shelf
     AND (sale_start IS NULL OR sale_start <= $4) AND (sale_end IS NULL OR sale_end > $4)
     AND min_limits <= $3 AND max_limits >= $3 AND (NOT phone_required OR $5::bool)
  RETURNING name, photo_url, price, labels, date_rule, biz_line
), o AS (
  INSERT INTO orders (order_id, app_id, out_order_no, open_id, goods_id, goods_type, quantity, unit_price,
                      total_amount, discount_amount, status, pre_order_status, phone_num, contact_name, cp_extra,
                      goods_snapshot, delivery_type, biz_line, legacy, pay_expire_at, auto_refund_pending,
                      created_at, updated_at)
  SELECT $6, $1, $7, $8, $2, 1, $3, s.price, s.price * $3, 0, 'INIT', $9, $10, $11, $12,
         json_build_object('name', s.name, 'photo_url', s.photo_url, 'labels', s.labels::json,
                           'date_rule', s.date_rule)::text,
         $13, s.biz_line, false, $4 + $14, false, $4, $4
    FROM s
  RETURNING order_id, unit_price
), i AS (
  INSERT INTO item_orders (item_order_id, order_id, app_id, seq, goods_id, price, status, refunded_amount,
                           created_at, updated_at)
  SELECT t.id, o.order_id, $1, (t.n - 1)::int, $2, o.unit_price, 1, 0, $4, $4
    FROM o, unnest($15::text[]) WITH ORDINALITY AS t(id, n)
)
SELECT name, photo_url, price, labels, date_rule, biz_line FROM s
"""

PG_ACCEPT = """
WITH u AS (
  UPDATE orders SET out_order_no = $2, pre_order_status = 'OK', pay_expire_at = $3, order_entry_schema = $4,
                    updated_at = $5
   WHERE order_id = $1 AND status = 'INIT' AND pre_order_status = 'PENDING'
  RETURNING order_id
), a AS (
  INSERT INTO callback_attempts (app_id, type, order_id, attempt, url, logid, started_at, duration_ms,
                                 http_status, ok, answer_head, error)
  SELECT $6, $7, u.order_id, $8, $9, $10, $11, $12, $13, $14, $15, $16 FROM u WHERE $6::varchar IS NOT NULL
)
SELECT count(*) FROM u
"""


async def _keep_session(conn: asyncpg.Connection) -> None:
    """No reset query on release: these statements leave no session state (no SET, LISTEN, advisory lock or
    open transaction), and asyncpg's default reset costs a round trip to the server per statement."""


class PostgresWriter:
    """asyncpg directly: each step is one prepared statement in its own (implicit) transaction."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, database_url: str, size: int) -> PostgresWriter:
        u = make_url(database_url)
        dsn = u.set(drivername="postgresql").render_as_string(hide_password=False)
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=size, reset=_keep_session,
                                         server_settings=PG_SESSION_SETTINGS)
        return cls(pool)

    async def take(self, o: NewOrder) -> Taken | None:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                PG_TAKE, o.app_id, o.goods_id, o.quantity, o.now, o.has_phone, o.order_id, o.out_order_no,
                o.open_id, o.pre_order_status, o.phone_num, o.contact_name, o.cp_extra, o.delivery_type,
                o.pay_expire_ms, o.item_ids)
        return None if row is None else Taken(*row)

    async def accept(self, order_id: str, out_order_no: str, expire_at: int, schema: str | None, now: int,
                     attempt: dict[str, Any] | None) -> bool:
        a = [attempt.get(c) for c in ATTEMPT_COLUMNS] if attempt else [None] * len(ATTEMPT_COLUMNS)
        try:
            async with self.pool.acquire() as conn:
                n = await conn.fetchval(PG_ACCEPT, order_id, out_order_no, expire_at, schema, now, a[0], a[1],
                                        a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11])
        except asyncpg.UniqueViolationError as e:
            raise DuplicateOutOrderNo(out_order_no) from e
        return bool(n)

    async def close(self) -> None:
        await self.pool.close()


# ----------------------------------------------------------------------------------------- SQLite

SQLITE_TAKE = """
UPDATE goods SET stock = stock - ?1, sold = sold + ?1, updated_at = ?2
 WHERE app_id = ?3 AND goods_id = ?4 AND stock >= ?1 AND on_shelf = 1
   AND (sale_start IS NULL OR sale_start <= ?2) AND (sale_end IS NULL OR sale_end > ?2)
   AND min_limits <= ?1 AND max_limits >= ?1 AND (phone_required = 0 OR ?5)
RETURNING name, photo_url, price, labels, date_rule, biz_line
"""
SQLITE_ORDER = """
INSERT INTO orders (order_id, app_id, out_order_no, open_id, goods_id, goods_type, quantity, unit_price,
                    total_amount, discount_amount, status, pre_order_status, phone_num, contact_name, cp_extra,
                    goods_snapshot, delivery_type, biz_line, legacy, pay_expire_at, auto_refund_pending,
                    created_at, updated_at)
VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, 0, 'INIT', ?, ?, ?, ?, ?, ?, ?, 0, ?, 0, ?, ?)
"""
SQLITE_ITEM = """
INSERT INTO item_orders (item_order_id, order_id, app_id, seq, goods_id, price, status, refunded_amount,
                         created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, 1, 0, ?, ?)
"""
SQLITE_ACCEPT = """
UPDATE orders SET out_order_no = ?, pre_order_status = 'OK', pay_expire_at = ?, order_entry_schema = ?, updated_at = ?
 WHERE order_id = ? AND status = 'INIT' AND pre_order_status = 'PENDING'
"""
SQLITE_ATTEMPT = f"""
INSERT INTO callback_attempts ({", ".join(ATTEMPT_COLUMNS)}) VALUES ({", ".join("?" * len(ATTEMPT_COLUMNS))})
"""


class SqliteWriter:
    """One thread owns one sqlite3 connection; a whole transaction runs there per await.

    The writer never checkpoints the WAL itself (a checkpoint inside a commit stalls every order queued
    behind it); a second thread with its own connection runs PASSIVE checkpoints, which do not block writers."""

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
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA foreign_keys=ON")
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

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def _take(self, o: NewOrder) -> Taken | None:
        c = self._conn
        assert c is not None
        c.execute("BEGIN IMMEDIATE")
        try:
            row = c.execute(SQLITE_TAKE, (o.quantity, o.now, o.app_id, o.goods_id, o.has_phone)).fetchone()
            if row is None:
                c.execute("ROLLBACK")
                return None
            t = Taken(*row)
            snapshot = json.dumps({"name": t.name, "photo_url": t.photo_url, "labels": json.loads(t.labels),
                                   "date_rule": t.date_rule}, ensure_ascii=False, separators=(",", ":"))
            c.execute(SQLITE_ORDER, (o.order_id, o.app_id, o.out_order_no, o.open_id, o.goods_id, o.quantity,
                                     t.price, t.price * o.quantity, o.pre_order_status, o.phone_num,
                                     o.contact_name, o.cp_extra, snapshot, o.delivery_type, t.biz_line,
                                     o.now + o.pay_expire_ms, o.now, o.now))
            c.executemany(SQLITE_ITEM, [(iid, o.order_id, o.app_id, i, o.goods_id, t.price, o.now, o.now)
                                        for i, iid in enumerate(o.item_ids)])
            c.execute("COMMIT")
            return t
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def _accept(self, order_id: str, out_order_no: str, expire_at: int, schema: str | None, now: int,
                attempt: dict[str, Any] | None) -> bool:
        c = self._conn
        assert c is not None
        c.execute("BEGIN IMMEDIATE")
        try:
            n = c.execute(SQLITE_ACCEPT, (out_order_no, expire_at, schema, now, order_id)).rowcount
            if n == 1 and attempt:
                c.execute(SQLITE_ATTEMPT, [attempt.get(k) for k in ATTEMPT_COLUMNS])
            c.execute("COMMIT")
            return n == 1
        except sqlite3.IntegrityError as e:
            c.execute("ROLLBACK")
            raise DuplicateOutOrderNo(out_order_no) from e
        except BaseException:
            c.execute("ROLLBACK")
            raise

    async def take(self, o: NewOrder) -> Taken | None:
        result: Taken | None = await self._run(self._take, o)
        return result

    async def accept(self, order_id: str, out_order_no: str, expire_at: int, schema: str | None, now: int,
                     attempt: dict[str, Any] | None) -> bool:
        return bool(await self._run(self._accept, order_id, out_order_no, expire_at, schema, now, attempt))

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


async def open_writer(database_url: str, pool_size: int) -> OrderWriter:
    if database_url.startswith("sqlite"):
        return await SqliteWriter.open(database_url)
    return await PostgresWriter.open(database_url, pool_size)
