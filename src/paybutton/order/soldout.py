"""Goods known to be sold out, answered from memory: once the database said a good's stock is 0, this process
answers GOODS_SOLD_OUT for it without a query, until something says the good may sell again.

What reopens a good (forgets its mark):
  * PostgreSQL: a NOTIFY on paybutton.goods.reopened.CHANNEL, sent in the transaction of a restock, a returned
    unit or a goods update (`notify_reopen`). PgListener holds its own asyncpg connection with LISTEN on it, pings
    it every PING_S and reconnects (backing off up to RETRY_MAX_S) when it fails.
  * SQLite: SqlitePoller reads `PRAGMA data_version` every POLL_S on its own connection (it changes when any
    other connection commits); when it changed, or a mark was added since the last poll, it re-reads the marked
    goods rows and reopens each one whose row changed in any column of the sell condition (or updated_at).
  * Age: a mark older than MAX_AGE_S is dropped, whatever the signal said (a writer that forgot to notify).

Memory answers only GOODS_SOLD_OUT, and only when goods/selling.refusal over the marked row (all the sell
condition's columns) says so for this order: the database's answer for the same row, with the same precedence.

When memory is not sure it says nothing and the caller asks the database. It is sure only while its watcher
vouched for it within the last HEALTH_S: a listener that is down, or a poll that fails, stops every answer
from memory within HEALTH_S, and a listener that comes back forgets every mark (it may have missed NOTIFYs).
Bound on a wrong "sold out": PostgreSQL, the NOTIFY's delivery (milliseconds) or HEALTH_S when the listener
breaks; SQLite, one poll (POLL_S) plus its read; MAX_AGE_S when the reopen was never signalled.

A mark is refused when a reopen of that good (or a reset) happened after the caller's `begin()`: the caller
takes the token BEFORE it reads the stock, so a restock committed between the read and the mark cannot be lost."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, TypedDict

import asyncpg
from sqlalchemy.engine import make_url

from paybutton.db import PG_SESSION_SETTINGS
from paybutton.errors import TradeError
from paybutton.goods.reopened import CHANNEL, parse
from paybutton.goods.selling import refusal
from paybutton.loop import end_task
from paybutton.telemetry import metrics

log = logging.getLogger("paybutton.order.soldout")

MAX_AGE_S = 5.0
HEALTH_S = 1.5
PING_S = 0.5
PING_TIMEOUT_S = 1.0
CONNECT_TIMEOUT_S = 5.0
RETRY_MIN_S = 0.1
RETRY_MAX_S = 2.0
POLL_S = 0.25

Key = tuple[str, str]


@dataclass(frozen=True)
class Mark:
    """A sold-out good's row as the database had it (stock 0): every column of the sell condition, so that memory
    gives the answer the database would give for that row (goods/selling.refusal, its precedence), or none."""

    app_id: str
    goods_id: str
    on_shelf: bool
    sale_start: int | None
    sale_end: int | None
    min_limits: int
    max_limits: int
    stock: int
    phone_required: bool
    price: int
    updated_at: int

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Mark:
        """From a goods row (e.g. `row._mapping` of the row the order path read to say why it took nothing)."""
        return cls(str(row["app_id"]), str(row["goods_id"]), bool(row["on_shelf"]), _int_or_none(row["sale_start"]),
                   _int_or_none(row["sale_end"]), int(row["min_limits"]), int(row["max_limits"]), int(row["stock"]),
                   bool(row["phone_required"]), int(row["price"]), int(row["updated_at"]))

    def same_row(self, row: Mapping[str, Any]) -> bool:
        """The row read again still gives the same answers (the SQLite poll's test)."""
        return Mark.from_row({**row, "app_id": self.app_id, "goods_id": self.goods_id}) == self


def _int_or_none(v: Any) -> int | None:
    return None if v is None else int(v)


class OrderPathCounters(TypedDict):
    """What `GET /healthz` shows under "order_path" (this process only)."""

    sold_out_from_memory: int
    sold_out_from_database: int
    goods_marked_sold_out: int
    memory_sure: bool


class SoldOut:
    """The registry of one process. Not thread-safe: used from the event loop only."""

    def __init__(self, *, max_age_s: float = MAX_AGE_S, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.max_age_s = max_age_s
        self._now = monotonic
        self._marks: dict[Key, tuple[float, Mark]] = {}
        self._seq = 0
        self._reopened_at: dict[Key, int] = {}
        self._reset_at = 0
        self._sure_until = 0.0
        self.added_since_poll = False
        self.from_memory = 0
        self.from_database = 0

    # -- the watcher's side

    @property
    def sure(self) -> bool:
        return self._now() < self._sure_until

    def vouch(self, seconds: float = HEALTH_S) -> None:
        """The reopen signal is live: memory may answer for the next `seconds`."""
        self._sure_until = self._now() + seconds

    def unsure(self) -> None:
        self._sure_until = 0.0

    def reopen(self, app_id: str, goods_id: str) -> None:
        key = (app_id, goods_id)
        self._seq += 1
        self._reopened_at[key] = self._seq
        self._marks.pop(key, None)

    def reset(self) -> None:
        """Forget every mark (a listener that reconnects may have missed NOTIFYs)."""
        self._seq += 1
        self._reset_at = self._seq
        self._marks.clear()
        self._reopened_at.clear()

    def marked(self) -> list[Mark]:
        return [m for _, m in self._marks.values()]

    # -- the order path's side

    def begin(self) -> int:
        """A token to take BEFORE reading the stock from the database; `mark` needs it."""
        return self._seq

    def mark(self, token: int, m: Mark) -> bool:
        """Remember that the database said stock 0 (read after `begin()` gave `token`). False when refused:
        memory is not sure, or the good was reopened (or everything reset) since the token."""
        key = (m.app_id, m.goods_id)
        if not self.sure or self._reset_at > token or self._reopened_at.get(key, -1) > token:
            return False
        self._marks[key] = (self._now(), m)
        self.added_since_poll = True
        return True

    def answer(self, app_id: str, goods_id: str, quantity: int, now_ms: int, has_phone: bool) -> TradeError | None:
        """The database's answer for this order when it is GOODS_SOLD_OUT on the marked row (counted); None: ask
        the database. Only sold out is answered: a row marked while off the shelf, before its sale, after it or
        for a quantity outside its limits gets None, and the database says what comes first (the same rule)."""
        key = (app_id, goods_id)
        hit = self._marks.get(key)
        if hit is None or not self.sure:
            return None
        at, m = hit
        if self._now() - at > self.max_age_s:
            del self._marks[key]
            return None
        said = refusal(m, goods_id, now_ms, quantity, has_phone)
        if said.name != "GOODS_SOLD_OUT":
            return None
        self.from_memory += 1
        metrics.SOLD_OUT_FROM_MEMORY.inc()
        return said

    def answered_by_database(self) -> None:
        """Count a GOODS_SOLD_OUT that a query answered (the other half of the healthz figure)."""
        self.from_database += 1

    def counters(self) -> OrderPathCounters:
        return {"sold_out_from_memory": self.from_memory, "sold_out_from_database": self.from_database,
                "goods_marked_sold_out": len(self._marks), "memory_sure": self.sure}


class Watcher(Protocol):
    async def close(self) -> None: ...


# ----------------------------------------------------------------------------------------- PostgreSQL


class PgListener:
    """LISTEN on its own connection; every NOTIFY reopens its good; reconnects when the connection fails."""

    def __init__(self, registry: SoldOut, dsn: str) -> None:
        self.registry = registry
        self.dsn = dsn
        self.ready = asyncio.Event()  # set once the first LISTEN is live (tests wait for it)
        self.connections = 0
        self.backend_pid: int | None = None
        self._delay = RETRY_MIN_S
        self._task: asyncio.Task[None] | None = None

    def start(self) -> PgListener:
        self._task = asyncio.create_task(self._run(), name="paybutton-soldout-listener")
        return self

    def _on_notify(self, _conn: object, _pid: int, _channel: str, data: str) -> None:
        key = parse(data)
        if key is None:
            self.registry.reset()
        else:
            self.registry.reopen(*key)

    async def _run(self) -> None:
        while True:
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # any failure: not sure, reconnect
                log.warning("sold-out listener: %s: %s; reconnecting in %.1fs", type(e).__name__, e, self._delay)
            self.registry.unsure()
            await asyncio.sleep(self._delay)
            self._delay = min(self._delay * 2, RETRY_MAX_S)

    async def _session(self) -> None:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for drops a cancellation that arrives as the awaited
        # call finishes, and the listener then never ends (close() and the app's shutdown wait forever).
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            conn = await asyncpg.connect(self.dsn, server_settings=PG_SESSION_SETTINGS)
        lost = asyncio.Event()
        try:
            conn.add_termination_listener(lambda _c: lost.set())
            await conn.add_listener(CHANNEL, self._on_notify)
            self.registry.reset()  # whatever was marked while not listening may have been reopened meanwhile
            self.connections += 1
            self.backend_pid = conn.get_server_pid()
            self._delay = RETRY_MIN_S
            while not lost.is_set():
                async with asyncio.timeout(PING_TIMEOUT_S):
                    await conn.fetchval("SELECT 1")
                self.registry.vouch()
                self.ready.set()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(PING_S):
                        await lost.wait()
            raise ConnectionError("listener connection lost")
        finally:
            self.registry.unsure()
            conn.terminate()

    async def close(self) -> None:
        self.registry.unsure()
        if self._task is not None:
            await end_task(self._task)


# ----------------------------------------------------------------------------------------- SQLite


_POLL_COLUMNS = ("on_shelf", "sale_start", "sale_end", "min_limits", "max_limits", "stock", "phone_required",
                 "price", "updated_at")
_POLL_SQL = f"SELECT {', '.join(_POLL_COLUMNS)} FROM goods WHERE app_id = ? AND goods_id = ?"


@dataclass(frozen=True)
class _Seen:
    """A marked good's row as the poll read it (None: the row is gone)."""

    key: Key
    row: dict[str, Any] | None


class SqlitePoller:
    """Every POLL_S: PRAGMA data_version on its own connection; re-reads the marked rows when another connection
    committed or a mark was added since the last poll."""

    def __init__(self, registry: SoldOut, path: str, poll_s: float = POLL_S) -> None:
        self.registry = registry
        self.path = path
        self.poll_s = poll_s
        self.ready = asyncio.Event()
        self.connections = 0
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paybutton-soldout-poll")
        self._conn: sqlite3.Connection | None = None
        self._version: int | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> SqlitePoller:
        self._task = asyncio.create_task(self._run(), name="paybutton-soldout-poller")
        return self

    def _read(self, marks: list[Mark], force: bool) -> list[_Seen] | None:
        """In the poll thread: None when nothing committed since the last poll (and not `force`), else the
        marked rows."""
        if self._conn is None:
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=1)
            self._conn.execute("PRAGMA busy_timeout=1000")
            self._version = None
            self.connections += 1
        version = int(self._conn.execute("PRAGMA data_version").fetchone()[0])
        changed, self._version = version != self._version, version
        if not changed and not force:
            return None
        seen = []
        for m in marks:
            row = self._conn.execute(_POLL_SQL, (m.app_id, m.goods_id)).fetchone()
            got = None if row is None else dict(zip(_POLL_COLUMNS, row, strict=True))
            seen.append(_Seen((m.app_id, m.goods_id), got))
        return seen

    def _drop_conn(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None

    async def poll_once(self) -> None:
        loop = asyncio.get_running_loop()
        r = self.registry
        changed_marks = r.added_since_poll
        r.added_since_poll = False
        marks = r.marked()
        try:
            seen = await loop.run_in_executor(self._pool, self._read, marks, changed_marks)
        except sqlite3.Error as e:
            r.added_since_poll = r.added_since_poll or changed_marks
            r.unsure()
            log.warning("sold-out poll failed: %s; reconnecting", e)
            await loop.run_in_executor(self._pool, self._drop_conn)
            return
        by_key = {(m.app_id, m.goods_id): m for m in marks}
        for s in seen or []:
            m = by_key[s.key]
            if s.row is None or not m.same_row(s.row):
                r.reopen(*s.key)
        r.vouch()
        self.ready.set()

    async def _run(self) -> None:
        while True:
            await self.poll_once()
            await asyncio.sleep(self.poll_s)

    async def close(self) -> None:
        self.registry.unsure()
        if self._task is not None:
            await end_task(self._task)
        await asyncio.get_running_loop().run_in_executor(self._pool, self._drop_conn)
        self._pool.shutdown(wait=True)


def start_watcher(registry: SoldOut, database_url: str) -> PgListener | SqlitePoller:
    """The watcher for this database, started (call from the event loop; `await watcher.close()` at shutdown).
    It does not wait for its first connection: until it vouches, memory is not sure and answers nothing."""
    u = make_url(database_url)
    if u.get_backend_name() == "sqlite":
        return SqlitePoller(registry, u.database or ":memory:").start()
    dsn = u.set(drivername="postgresql").render_as_string(hide_password=False)
    return PgListener(registry, dsn).start()
