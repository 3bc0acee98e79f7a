"""Test infrastructure: one suite on SQLite and PostgreSQL, the app in-process (ASGI) or live on a port,
and a real HTTP merchant server that verifies every signature it receives."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from paybutton.db import upgrade
from paybutton.tables import metadata

PG_ADMIN_URL = os.environ.get("PAYBUTTON_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

_pg_state: dict[str, Any] = {}
_sqlite_template: dict[str, Path] = {}


def bound_socket() -> socket.socket:
    """A socket bound to a free port and kept: a server started on it cannot lose its port to another process (or
    to an outgoing connection's ephemeral port) between choosing it and binding it, as with listening.free_port()."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s


def _pg_url_for(dbname: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{dbname}"


async def _pg_admin(sql: str) -> None:
    engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def _pg_database() -> str:
    """A fresh PostgreSQL database for this test session, migrated once."""
    if "url" in _pg_state:
        return str(_pg_state["url"])
    if "error" in _pg_state:
        raise _pg_state["error"]
    name = f"pb_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as e:  # pragma: no cover - depends on the machine
        _pg_state["error"] = e
        raise
    url = _pg_url_for(name)
    upgrade(url)
    _pg_state["url"] = url
    _pg_state["name"] = name
    return url


def _sqlite_template_file(tmp_root: Path) -> Path:
    if "path" not in _sqlite_template:
        path = tmp_root / "template.db"
        upgrade(f"sqlite:///{path}")
        _sqlite_template["path"] = path
    return _sqlite_template["path"]


async def _truncate_pg(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            names = ", ".join(t.name for t in metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def _session_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pb")


# Test modules import this file's helpers as `root_conftest`: the name `conftest` is taken by whichever
# conftest.py pytest imported last (tests/integration/, tests/browser/ ...) when several directories run.
sys.modules["root_conftest"] = sys.modules[__name__]
_checked: dict[str, Any] = {"databases": 0, "problems": []}
# tests/api/test_schemathesis.py fills this; the terminal summary prints it.
FUZZ: dict[str, Any] = {"operations": set(), "cases": 0, "server_errors": 0, "violations": 0, "seconds": 0.0,
                        "database": "", "rounds": 0}


async def _check(url: str) -> list[str]:
    """What `paybutton check` says of a database (the same scan the CLI runs)."""
    from paybutton.refund.check import scan

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await scan(conn)
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, _session_tmp: Path) -> Iterator[str]:
    """A migrated, empty database: a copied SQLite file, or the session's PostgreSQL database truncated.

    After the test, the money invariants are checked on whatever it left (as `paybutton check` does); any
    broken one fails the session, so the whole suite ends with every database it wrote checked."""
    if request.param == "sqlite":
        path = tmp_path / "paybutton.db"
        shutil.copy(_sqlite_template_file(_session_tmp), path)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        try:
            url = _pg_database()
        except Exception as e:
            pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {e}")
        asyncio.run(_truncate_pg(url))
    yield url
    problems = asyncio.run(_check(url))
    _checked["databases"] += 1
    _checked["problems"].extend(f"{request.node.nodeid}: {p}" for p in problems)


# The controller's: what each xdist worker counted (`make test` splits the run over workers, pytest -n).
_worker_figures: list[dict[str, Any]] = []


def _figures() -> dict[str, Any]:
    """What this process counted: databases checked and their problems, the fuzzing, the accessibility tally."""
    axe = sys.modules.get("axe_helpers")  # tests/browser/axe_helpers.py, when browser tests ran here
    tally = getattr(axe, "TALLY", None)
    return {"databases": _checked["databases"], "problems": list(_checked["problems"]),
            "fuzz": {**FUZZ, "operations": sorted(FUZZ["operations"])},
            "axe": None if tally is None else {"pages": len(tally.pages), "counts": dict(tally.counts),
                                              "found": list(tally.found)}}


def _all_figures() -> list[dict[str, Any]]:
    return _worker_figures or [_figures()]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist: a worker ended; keep what it counted (it sent them in its workeroutput)."""
    figures = getattr(node, "workeroutput", {}).get("paybutton")
    if figures:
        _worker_figures.append(figures)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller sums the figures and decides
        workeroutput["paybutton"] = _figures()
    elif any(f["problems"] for f in _all_figures()):
        session.exitstatus = 1
    if "name" in _pg_state:
        try:
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{_pg_state["name"]}" WITH (FORCE)'))
        except Exception:
            pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    """In CI a skipped test is a failure: the PostgreSQL and browser suites must run there."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which counts as a failure: {report.longrepr}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API keeps an event loop running in this thread for the rest
    of the session, and the database fixtures need to start their own."""
    items.sort(key=lambda item: "browser" in item.path.parts)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    passed = terminalreporter.stats.get("passed", [])
    pg = sum(1 for r in passed if "postgresql" in r.nodeid and r.when == "call")
    lite = sum(1 for r in passed if "sqlite" in r.nodeid and r.when == "call")
    terminalreporter.write_line(f"database suites: {pg} PostgreSQL tests passed, {lite} SQLite tests passed")
    figures = _all_figures()
    problems = [p for f in figures for p in f["problems"]]
    terminalreporter.write_line(
        f"paybutton check after every database test: {sum(f['databases'] for f in figures)} databases checked, "
        f"{len(problems)} broken invariants")
    for p in problems[:50]:
        terminalreporter.write_line(f"  BROKEN {p}")
    for fuzz in (f["fuzz"] for f in figures if f["fuzz"]["cases"]):
        terminalreporter.write_line(
            f"schemathesis: {len(fuzz['operations'])} operations, {fuzz['cases']} cases, "
            f"{fuzz['server_errors']} server errors, {fuzz['violations']} schema violations "
            f"({fuzz['database']}, {fuzz['rounds']} rounds, {fuzz['seconds']:.0f} s in requests)")
    tallies = [f["axe"] for f in figures if f["axe"] and f["axe"]["pages"]]
    if tallies:  # tests/browser/axe_helpers.py
        counts = {k: sum(t["counts"].get(k, 0) for t in tallies) for k in ("serious", "critical", "moderate", "minor")}
        terminalreporter.write_sep("-", "accessibility (axe-core)")
        terminalreporter.write_line(
            f"axe: {sum(t['pages'] for t in tallies)} pages, {counts['serious']} serious, {counts['critical']} "
            f"critical ({counts['moderate']} moderate, {counts['minor']} minor)")
        for line in (x for t in tallies for x in t["found"]):
            terminalreporter.write_line("  " + line)


# ---------------------------------------------------------------- the app, in-process and live


class Running:
    """A started app: its ASGI client and its context (db, clock, signer)."""

    def __init__(self, app: Any, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client

    @property
    def ctx(self) -> Any:
        return self.app.state.ctx


@pytest.fixture
def fake_clock() -> Any:
    from paybutton.clock import FakeClock

    return FakeClock(start_ms=int(time.time() * 1000))


@pytest.fixture
async def running(db_url: str) -> AsyncIterator[Running]:
    """The app on `db_url`, lifespan started, workers off (tests drive sweeps and dispatch themselves)."""
    from paybutton.app import create_app
    from paybutton.config import Settings

    app = create_app(Settings(database_url=db_url, run_workers=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Running(app, client)


class LiveServer:
    def __init__(self, app: Any, host: str = "127.0.0.1", port: int | None = None,
                 sock: socket.socket | None = None) -> None:
        """On `sock` (bound already), on `port`, or on a socket bound here to a free port."""
        self.sock = sock if sock is not None or port else bound_socket()
        self.port = int(self.sock.getsockname()[1]) if self.sock is not None else int(port or 0)
        self.url = f"http://{host}:{self.port}"
        self.app = app
        config = uvicorn.Config(app, host=host, port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.server.run(sockets=None if self.sock is None else [self.sock])

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            if time.time() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_factory() -> Iterator[Any]:
    """Start ASGI apps on real ports (in threads, each with its own event loop); stopped at teardown."""
    started: list[LiveServer] = []

    def start(app: Any, port: int | None = None, sock: socket.socket | None = None) -> LiveServer:
        srv = LiveServer(app, port=port, sock=sock).start()
        started.append(srv)
        return srv

    yield start
    for srv in reversed(started):
        srv.stop()
