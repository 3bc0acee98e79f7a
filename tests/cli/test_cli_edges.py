"""Issue 18 item 12 and issue 19 item 5: the CLI's edges are one clear line on stderr and exit 2, and `paybutton demo`
touches no database before its ports are known to be free, nor any database it did not make.

- an unsupported database URL (mysql://, foo://, not a URL) is one line, for every kind of command;
- a second `paybutton demo` on a busy port stops before it prints anything or touches a database (its own or the
  running demo's: compared row by row before and after);
- `paybutton demo` refuses a database it did not make, unless --allow-foreign-database;
- every command that takes --app says "no such app" for an app that does not exist;
- times print in Beijing time with the offset, whatever the machine's zone;
- every --help reads at 80 columns (no option name cut), and names the same default database as the README."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from listening import free_port, listening_socket, port_of
from sqlalchemy import MetaData, select
from sqlalchemy.ext.asyncio import create_async_engine
from test_cli_money_and_database import DB_COMMANDS, clean_env, leaf_commands, make_app
from typer.testing import CliRunner

from paybutton.apps import service as app_service
from paybutton.cli import cli
from paybutton.cli.running import DEMO_DATABASE
from paybutton.clikit import DEFAULT_DATABASE
from paybutton.clock import SystemClock
from paybutton.config import Settings
from paybutton.db import Database, normalise_url, upgrade
from paybutton.demo.guard import MARKER
from paybutton.demo.seed import DEMO_APP_ID

runner = CliRunner()
PAYBUTTON = str(Path(sys.executable).parent / "paybutton")
README = Path(__file__).resolve().parents[2] / "README.md"


def one_line_error(r: Any, *needles: str) -> None:
    """Exit 2, nothing on stdout, exactly one line on stderr that contains every needle."""
    assert r.exit_code == 2 if hasattr(r, "exit_code") else r.returncode == 2, (r.stdout, r.stderr)
    assert r.stdout == "", r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error"), r.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of the database, every row, sorted: what "changed nothing" is compared with."""

    async def read() -> dict[str, list[tuple[Any, ...]]]:
        engine = create_async_engine(normalise_url(url))
        try:
            async with engine.connect() as conn:
                meta = MetaData()
                await conn.run_sync(meta.reflect)
                return {name: sorted((await conn.execute(select(table))).all(), key=repr)
                        for name, table in meta.tables.items()}
        finally:
            await engine.dispose()

    return asyncio.run(read())


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port some other program listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


@pytest.fixture
def held() -> Iterator[list[socket.socket]]:
    """Two listening sockets the test keeps, for the demo's two servers (`--fd`, `--shop-fd`)."""
    socks = [listening_socket(), listening_socket()]
    yield socks
    for s in socks:
        s.close()


# ------------------------------------------------------------------ an unsupported database URL

BAD_URLS = ["mysql://user@db/shop", "foo://x", "not a url", "sqlite+pysqlite:///x.db"]


@pytest.mark.parametrize("url", BAD_URLS)
@pytest.mark.parametrize("args", [["app", "list"], ["db", "upgrade"], ["db", "current"], ["serve", "--port", "1"],
                                  ["demo", "--port", "1"], ["goods", "list", "--app", "tt1"]],
                         ids=lambda a: " ".join(a[:2]))
@pytest.mark.parametrize("how", ["option", "variable"])
def test_an_unsupported_database_url_is_one_line(tmp_path: Path, url: str, args: list[str], how: str) -> None:
    env = clean_env(tmp_path, **({"PAYBUTTON_DATABASE_URL": url} if how == "variable" else {}))
    argv = [*args, "--database", url] if how == "option" else args
    r = runner.invoke(cli, argv, env=env)
    shown = "not a database URL" if url == "not a url" else "unsupported database URL"
    one_line_error(r, shown, "SQLite", "PostgreSQL")
    assert list(tmp_path.iterdir()) == []


def test_an_unsupported_url_from_a_real_process_has_no_traceback(tmp_path: Path) -> None:
    out = subprocess.run([PAYBUTTON, "app", "list", "--database", "mysql://user@db/shop"], cwd=tmp_path,
                         env=clean_env(tmp_path), capture_output=True, text=True, timeout=120)
    one_line_error(out, "unsupported database URL mysql://user@db/shop")


def test_a_database_that_cannot_be_reached_is_one_line_for_db_upgrade(tmp_path: Path) -> None:
    url = "postgresql://nobody@127.0.0.1:1/x"
    r = runner.invoke(cli, ["db", "upgrade", "--database", url], env=clean_env(tmp_path))
    one_line_error(r, "cannot open the database at postgresql://nobody@127.0.0.1:1/x")


# ------------------------------------------------------------------ demo: ports first


def demo_args(port: int, shop_port: int, url: str, *more: str) -> list[str]:
    return ["demo", "--port", str(port), "--shop-port", str(shop_port), "--database", url, *more]


def demo_on(socks: list[socket.socket], url: str, *more: str) -> list[str]:
    return ["demo", "--fd", str(socks[0].fileno()), "--shop-fd", str(socks[1].fileno()), "--database", url, *more]


@pytest.mark.parametrize("busy", ["port", "shop-port"])
def test_demo_on_a_busy_port_touches_no_database(db_url: str, tmp_path: Path, held_port: int, busy: str) -> None:
    """The port is checked (bound) first: neither the database given (the fixture's, on SQLite and PostgreSQL) nor
    a new SQLite file is touched."""
    # the other port: one the system just gave out and nobody holds (the neighbour of the held port was taken by
    # another program on a busy machine, so the demo failed on it instead)
    port, shop = (held_port, free_port()) if busy == "port" else (free_port(), held_port)
    before = dump(db_url)
    r = runner.invoke(cli, demo_args(port, shop, db_url), env=clean_env(tmp_path))
    one_line_error(r, f"cannot listen on 127.0.0.1:{held_port}", f"--{busy} {held_port}", "no database was touched")
    assert dump(db_url) == before
    fresh = tmp_path / "new" / "demo.db"
    r = runner.invoke(cli, demo_args(port, shop, f"sqlite:///{fresh}"), env=clean_env(tmp_path))
    one_line_error(r, f"cannot listen on 127.0.0.1:{held_port}")
    assert not fresh.parent.exists()


def start_demo(tmp: Path, args: list[str], socks: list[socket.socket],
               name: str = "demo") -> tuple[subprocess.Popen[str], Path]:
    log = tmp / f"{name}.log"
    with log.open("w") as out:
        proc = subprocess.Popen([PAYBUTTON, *args], cwd=tmp, env=clean_env(tmp), stdout=out,
                                stderr=subprocess.STDOUT, text=True, pass_fds=[s.fileno() for s in socks])
    return proc, log


def wait_banner(proc: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + 120
    while "platform public key" not in log.read_text() or "-----END PUBLIC KEY-----" not in log.read_text():
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def demo_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """What a demo start writes: the demo app, its goods, the platform keys, the marker."""
    rows = dump(url)
    return {name: rows[name] for name in ("apps", "goods", "platform_keys", MARKER)}


def test_a_second_demo_on_the_running_demos_port_changes_nothing(tmp_path: Path,
                                                                 held: list[socket.socket]) -> None:
    """The issue's case: a demo runs; `paybutton demo` again (same ports, same database) printed the banner, 300
    lines of traceback, and re-applied the demo app's settings to the running demo's database."""
    port, shop = (port_of(s) for s in held)
    url = f"sqlite+aiosqlite:///{tmp_path / 'paybutton-demo.db'}"
    first, log = start_demo(tmp_path, demo_on(held, url), held)
    try:
        wait_banner(first, log)
        before = demo_rows(url)
        time.sleep(1.1)  # a re-seed would write later updated_at / sale windows
        second = subprocess.run([PAYBUTTON, *demo_args(port, shop + 1000, url)], cwd=tmp_path, env=clean_env(tmp_path),
                                capture_output=True, text=True, timeout=120)
        one_line_error(second, f"cannot listen on 127.0.0.1:{port}", "is a demo already running there?")
        assert demo_rows(url) == before
        assert first.poll() is None  # the running demo is untouched
    finally:
        stop(first)


# ------------------------------------------------------------------ demo: only on its own database (issue 19.5)


def test_demo_refuses_a_database_it_did_not_make(db_url: str, tmp_path: Path, held: list[socket.socket]) -> None:
    """A merchant's database (migrated, with an app): the demo would write its app and published secret into it.
    Before the fix the demo seeded it and served (this run would not end: the timeout fails the test)."""
    make_app(db_url)
    before = dump(db_url)
    out = subprocess.run([PAYBUTTON, *demo_on(held, db_url)], cwd=tmp_path, env=clean_env(tmp_path),
                         capture_output=True, text=True, timeout=120, pass_fds=[s.fileno() for s in held])
    one_line_error(out, "was not made by `paybutton demo`", "--allow-foreign-database")
    after = dump(db_url)
    assert after == before
    assert DEMO_APP_ID not in {row[0] for row in after["apps"]}


def test_demo_refuses_a_migrated_database_without_apps(tmp_path: Path, held: list[socket.socket]) -> None:
    url = f"sqlite:///{tmp_path / 'made-by-db-upgrade.db'}"
    upgrade(url)
    before = (tmp_path / "made-by-db-upgrade.db").read_bytes()
    r = runner.invoke(cli, demo_on(held, url), env=clean_env(tmp_path))
    one_line_error(r, "was not made by `paybutton demo`")
    assert (tmp_path / "made-by-db-upgrade.db").read_bytes() == before


def test_demo_on_a_foreign_database_when_told(tmp_path: Path, held: list[socket.socket]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"
    upgrade(url)
    shop_app = make_app(url)
    proc, log = start_demo(tmp_path, demo_on(held, url, "--allow-foreign-database"), held)
    try:
        wait_banner(proc, log)
    finally:
        stop(proc)
    apps = {row[0] for row in dump(url)["apps"]}
    assert apps == {shop_app, DEMO_APP_ID}
    assert MARKER not in dump(url)  # told once is not told forever


def test_a_new_database_is_marked_and_used_again(tmp_path: Path, held: list[socket.socket]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    for name in ("first", "second"):
        proc, log = start_demo(tmp_path, demo_on(held, url), held, name)
        try:
            wait_banner(proc, log)
        finally:
            stop(proc)
        assert [row[1] for row in dump(url)[MARKER]] == [
            "made by paybutton demo: it holds the demo app, whose secret is published"]


def test_a_demo_database_from_before_the_marker_is_taken(tmp_path: Path) -> None:
    """A paybutton-demo.db made by an earlier version (its only app is the demo app) gets the marker."""
    from paybutton.demo.guard import claim_database

    url = f"sqlite+aiosqlite:///{tmp_path / 'old-demo.db'}"
    upgrade(url)

    async def add_demo_app() -> None:
        db = Database(Settings(database_url=url))
        try:
            async with db.tx() as conn:
                await app_service.create_app(conn, SystemClock(), name="demo", app_id=DEMO_APP_ID)
        finally:
            await db.dispose()

    asyncio.run(add_demo_app())
    claim_database(url, allow_foreign=False)
    assert MARKER in dump(url)


# ------------------------------------------------------------------ --app names an app that exists

# Every command that takes --app, with the other arguments it needs.
APP_COMMANDS = {
    ("goods", "add"): ["--id", "g", "--name", "n", "--price", "1", "--stock", "1"],
    ("goods", "update"): ["--id", "g", "--stock", "2"],
    ("goods", "show"): ["--id", "g"],
    ("goods", "list"): [],
    ("buyer-token",): ["--open-id", "u"],
    ("callbacks", "list"): [],
    ("callbacks", "attempts"): [],
    ("callbacks", "show"): ["1"],
    ("callbacks", "replay"): ["1"],
    ("callbacks", "test"): ["--wait", "0"],
    ("statement",): ["--from", "2026-01-01", "--to", "2026-01-01"],
    ("reconcile",): ["--date", "2026-01-01"],
    ("orders", "list"): [],
    ("orders", "show"): ["ord1"],
    ("bookings", "list"): [],
    ("bookings", "certificates"): ["--order", "ot1"],
    ("audit",): [],
    ("verify",): ["000000000000"],
}


def test_every_command_with_app_is_listed() -> None:
    taking = {path for path, command in leaf_commands() if any("--app" in p.opts for p in command.params)}
    assert taking == set(APP_COMMANDS)


@pytest.mark.parametrize("path", list(APP_COMMANDS), ids=" ".join)
def test_an_app_that_does_not_exist_is_named(db_url: str, tmp_path: Path, path: tuple[str, ...]) -> None:
    make_app(db_url)  # the database has an app, just not this one
    before = dump(db_url)
    r = runner.invoke(cli, [*path, "--app", "ttnope", *APP_COMMANDS[path], "--database", db_url],
                      env=clean_env(tmp_path))
    one_line_error(r, "no such app: ttnope", "paybutton app list")
    assert dump(db_url) == before


# ------------------------------------------------------------------ Beijing time, with the offset


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_sale_windows_print_in_beijing_time(tmp_path: Path, zone: str) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    upgrade(url)
    app_id = make_app(url)
    env = clean_env(tmp_path, TZ=zone)
    goods = [PAYBUTTON, "goods", "add", "--app", app_id, "--name", "n", "--price", "100", "--stock", "1",
             "--database", url]
    # one with the offset, one without (read as Beijing time, as the console reads it)
    for gid, start in (("a", "2026-12-01T10:00:00+08:00"), ("b", "2026-12-01 10:00")):
        out = subprocess.run([*goods, "--id", gid, "--sale-start", start, "--sale-end", "2026-12-31T22:30:00+08:00"],
                             env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert "sale window  2026-12-01T10:00:00+08:00 .. 2026-12-31T22:30:00+08:00" in out.stdout, out.stdout


def test_callback_times_print_in_beijing_time(db_url: str, tmp_path: Path) -> None:
    r = runner.invoke(cli, ["app", "create", "--name", "t", "--payment-notify-url", "http://127.0.0.1:9/pay",
                            "--json", "--database", db_url], env=clean_env(tmp_path))
    app_id = re.search(r'"app_id": "(tt\w+)"', r.stdout)
    assert app_id, r.output
    queued = runner.invoke(cli, ["callbacks", "test", "--app", app_id.group(1), "--wait", "0", "--database", db_url],
                           env=clean_env(tmp_path, COLUMNS="200", TZ="UTC"))
    assert queued.exit_code == 0, queued.output
    listed = runner.invoke(cli, ["callbacks", "list", "--app", app_id.group(1), "--database", db_url],
                           env=clean_env(tmp_path, COLUMNS="200", TZ="UTC"))
    assert "next try (+08:00)" in listed.stdout
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", listed.stdout), listed.stdout


# ------------------------------------------------------------------ help at 80 columns, one default database


def width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def every_help() -> list[tuple[tuple[str, ...], Any]]:
    return [((), None), *leaf_commands()]


@pytest.mark.parametrize(("path", "command"), every_help(), ids=lambda x: " ".join(x) if isinstance(x, tuple) else "")
def test_help_reads_at_80_columns(path: tuple[str, ...], command: Any) -> None:
    r = runner.invoke(cli, [*path, "--help"], env={"COLUMNS": "80"}, terminal_width=80)
    assert r.exit_code == 0, r.output
    for line in r.stdout.splitlines():
        assert width(line) <= 80, line
    assert "─" not in r.stdout and "╭" not in r.stdout  # no boxed table (it cut names with …)
    words = set(re.findall(r"--[a-z][a-z0-9-]*", r.stdout))
    for param in command.params if command is not None else []:
        for opt in [*param.opts, *param.secondary_opts]:
            if opt.startswith("--"):
                assert opt in words, f"paybutton {' '.join(path)} --help: {opt} cut or missing\n{r.stdout}"


def flat(text: str) -> str:
    return " ".join(text.split())


GROUPS = ("app", "goods", "callbacks", "keys", "db", "bookings", "orders", "receiver")  # the command groups


def test_one_default_database_in_help_settings_and_readme() -> None:
    assert DEFAULT_DATABASE == Settings.model_fields["database_url"].default
    readme = flat(README.read_text(encoding="utf-8"))
    assert f"then `{DEFAULT_DATABASE}` in the current folder" in readme
    assert f"`{DEMO_DATABASE.rsplit('/', 1)[1]}`" in readme
    for args in DB_COMMANDS:
        path = tuple(a for a in args if not a.startswith("-"))[:2]
        r = runner.invoke(cli, [*path[: 2 if path[0] in GROUPS else 1],
                                "--help"], env={"COLUMNS": "80"}, terminal_width=80)
        assert f"then {DEFAULT_DATABASE}" in flat(r.stdout), (path, r.stdout)
    demo = runner.invoke(cli, ["demo", "--help"], env={"COLUMNS": "80"}, terminal_width=80)
    assert f"then {DEMO_DATABASE})" in flat(demo.stdout)

