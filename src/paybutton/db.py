"""Engine and transactions (`Database.tx()`: one write transaction, committed on success); the SQLite settings
every connection to the file uses (WAL, busy timeout, foreign keys) and writes that take the write lock up front;
migrations (Alembic) entry points."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from paybutton import inuse
from paybutton.config import Settings


def normalise_url(url: str) -> str:
    """Accept plain postgresql:// and sqlite:// URLs and pick the async drivers."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        u = u.set(drivername="postgresql+asyncpg")
    elif u.drivername == "sqlite":
        u = u.set(drivername="sqlite+aiosqlite")
    return u.render_as_string(hide_password=False)


# asyncpg prepares every statement, and after five runs PostgreSQL may switch a prepared statement to a generic
# plan costed with the table sizes of that moment, then keep it for the life of the connection. On a new
# installation (tables analysed while empty) that froze plans that cost 3-5 times the CPU per order until the
# server restarted; custom plans are re-planned with the real sizes on every run (a few µs for these statements).
PG_SESSION_SETTINGS = {"plan_cache_mode": "force_custom_plan"}

# Every connection to a SQLite file, the engine's and the order writer's own (OrderWriter), runs these:
# WAL so readers never block the writer, a 10 s wait for the write lock instead of an immediate SQLITE_BUSY.
SQLITE_PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=10000", "foreign_keys=ON")


def apply_sqlite_pragmas(conn: Any) -> None:
    """Run SQLITE_PRAGMAS on a DB-API connection or cursor (anything with `execute`)."""
    for pragma in SQLITE_PRAGMAS:
        conn.execute(f"PRAGMA {pragma}")


def make_engine(settings: Settings) -> AsyncEngine:
    url = normalise_url(settings.database_url)
    if url.startswith("sqlite"):
        # The engine holds one connection per process: its writers queue in the event loop instead of busy-waiting
        # in SQLite. (The order writer has its own connection; busy_timeout covers the two.)
        engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=60)
        _tune_sqlite(engine)
        return engine
    return create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=False,
        pool_recycle=3600,
        connect_args={"server_settings": PG_SESSION_SETTINGS},
    )


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the driver so we can BEGIN IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        apply_sqlite_pragmas(cur)
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writes (Database.tx) take the write lock up front: no read-then-upgrade deadlocks between
        # connections. Reads begin deferred and never hold the write lock.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("sqlite_write") else "BEGIN")


class Database:
    """Owns the engine. `tx()` is one write transaction: commit on success, rollback on error. A request or job may
    run several (a refund commits before it calls the merchant; a synchronous call's attempt row has its own)."""

    def __init__(self, settings: Settings, *, claim: bool = False) -> None:
        """`claim`: a server's database, held as in use until dispose() (on SQLite: `db restore` refuses it)."""
        self.settings = settings
        self.engine = make_engine(settings)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        file = make_url(self.engine.url).database if self.is_sqlite and claim else None
        self._claim = inuse.hold(Path(file)) if file and file != ":memory:" and not file.startswith("file:") else None

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            if self.is_sqlite:
                await conn.execution_options(sqlite_write=True)
            async with conn.begin():
                yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()
        inuse.release(self._claim)
        self._claim = None


def alembic_config(database_url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", normalise_url(database_url).replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations (sync entry point; runs its own event loop), then refresh the planner's statistics on
    PostgreSQL: tables that were never analysed get plans several times slower until autovacuum's first
    ANALYZE, which on a new installation is minutes into its first sales."""
    import asyncio

    from alembic import command
    from sqlalchemy import text

    command.upgrade(alembic_config(database_url), revision)
    url = normalise_url(database_url)
    if url.startswith("postgresql"):

        async def analyze() -> None:
            engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
            try:
                async with engine.connect() as conn:
                    await conn.execute(text("ANALYZE"))
            finally:
                await engine.dispose()

        asyncio.run(analyze())


def current_revision(database_url: str) -> str | None:
    import asyncio

    from sqlalchemy import text

    async def _read() -> str | None:
        engine = create_async_engine(normalise_url(database_url))
        try:
            async with engine.connect() as conn:
                try:
                    row = (await conn.execute(text("SELECT version_num FROM alembic_version"))).first()
                except Exception:
                    return None
                return str(row[0]) if row else None
        finally:
            await engine.dispose()

    return asyncio.run(_read())
