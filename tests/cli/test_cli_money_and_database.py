"""A CLI that cannot be misread: --price is integer fen only (--price-yuan for yuan), a missing or unmigrated
database is one line and exit 2 with no file created, and every database command takes --database and
PAYBUTTON_DATABASE_URL alike."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shlex
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import typer
from listening import listening_socket
from typer.testing import CliRunner

from paybutton.apps import service as app_service
from paybutton.cli import cli
from paybutton.clikit import absolute_url, export_line, parse_yuan
from paybutton.clock import SystemClock
from paybutton.config import Settings
from paybutton.db import Database, alembic_config, upgrade
from paybutton.demo.seed import DEMO_APP_ID

runner = CliRunner()
PAYBUTTON = str(Path(sys.executable).parent / "paybutton")


def clean_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYBUTTON_")}
    return {**env, "PAYBUTTON_CONFIG": str(tmp / "absent.toml"), "LANG": "C.UTF-8", **extra}


def make_app(url: str) -> str:
    async def make() -> str:
        db = Database(Settings(database_url=url))
        try:
            async with db.tx() as conn:
                return str((await app_service.create_app(conn, SystemClock(), name="Money shop"))["app_id"])
        finally:
            await db.dispose()

    return asyncio.run(make())


@pytest.fixture
def sqlite_app(tmp_path: Path) -> tuple[str, str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'money.db'}"
    upgrade(url)
    return url, make_app(url)


def goods(url: str, *args: str) -> Any:
    return runner.invoke(cli, ["goods", *args, "--database", url])


def goods_json(url: str, *args: str) -> Any:
    r = goods(url, *args, "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


# ------------------------------------------------------------------ money


@pytest.mark.parametrize("price", ["168.00", "1.5", "¥1", "-5", "1e3", "16 800", ""])
def test_price_that_is_not_integer_fen_is_refused_and_nothing_stored(sqlite_app: tuple[str, str], price: str) -> None:
    url, app_id = sqlite_app
    r = goods(url, "add", "--app", app_id, "--id", "g", "--name", "火锅", "--price", price, "--stock", "5")
    assert r.exit_code == 2, r.output
    assert "--price takes integer fen" in r.stderr and "--price-yuan" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.output
    assert goods_json(url, "list", "--app", app_id)["goods_list"] == []


def test_price_yuan_is_exact(sqlite_app: tuple[str, str]) -> None:
    url, app_id = sqlite_app
    g = goods_json(url, "add", "--app", app_id, "--id", "g", "--name", "火锅", "--price-yuan", "168.00", "--stock", "5")
    assert g["price"] == 16800
    assert goods_json(url, "add", "--app", app_id, "--id", "g2", "--name", "n", "--price", "16800",
                      "--stock", "1")["price"] == 16800
    assert goods_json(url, "update", "--app", app_id, "--id", "g", "--price-yuan", "0.1")["price"] == 10
    assert goods_json(url, "update", "--app", app_id, "--id", "g", "--price-yuan", "99")["price"] == 9900
    assert goods_json(url, "update", "--app", app_id, "--id", "g", "--price", "1")["price"] == 1
    # 0.29 is 28.999… as a float: the conversion is decimal, never float
    assert goods_json(url, "update", "--app", app_id, "--id", "g", "--price-yuan", "0.29")["price"] == 29

    for bad in ("1.234", "¥1", "-1", "1,5", "1.", ".5", "abc"):
        r = goods(url, "update", "--app", app_id, "--id", "g", "--price-yuan", bad)
        assert r.exit_code == 2 and "--price-yuan takes yuan with at most 2 decimals" in r.stderr, (bad, r.output)
    r = goods(url, "update", "--app", app_id, "--id", "g", "--price", "100", "--price-yuan", "1")
    assert r.exit_code == 2 and "not both" in r.stderr
    r = goods(url, "update", "--app", app_id, "--id", "g", "--price", "1.00")
    assert r.exit_code == 2 and "--price-yuan" in r.stderr
    r = goods(url, "add", "--app", app_id, "--id", "g3", "--name", "n", "--stock", "1")
    assert r.exit_code == 2 and "give --price" in r.stderr
    assert goods_json(url, "show", "--app", app_id, "--id", "g")["price"] == 29  # the refused updates changed nothing
    assert [x["goods_id"] for x in goods_json(url, "list", "--app", app_id)["goods_list"]] == ["g", "g2"]


@pytest.mark.parametrize(("text", "fen"), [("168.00", 16800), ("168", 16800), ("0.01", 1), ("0", 0), ("1.5", 150),
                                           ("12345678.90", 1234567890), (" 2.05 ", 205)])
def test_parse_yuan(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


def test_price_help_names_the_unit() -> None:
    r = runner.invoke(cli, ["goods", "add", "--help"], env={"COLUMNS": "200"})
    assert "integer fen" in r.stdout and "--price-yuan" in r.stdout


# ------------------------------------------------------------------ a database that is not there or not set up


def run_real(tmp: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PAYBUTTON, *args], cwd=tmp, env=clean_env(tmp, **env), capture_output=True, text=True,
                          timeout=120)


def snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


@pytest.mark.parametrize("args", [["app", "list"], ["app", "list", "--json"], ["goods", "list", "--app", "tt1"],
                                  ["db", "current"]])
def test_in_an_empty_folder_one_line_exit_2_and_no_file(tmp_path: Path, args: list[str]) -> None:
    out = run_real(tmp_path, *args)
    assert out.returncode == 2, out
    assert out.stdout == "" and len(out.stderr.splitlines()) == 1, out.stderr
    assert f"no database at {tmp_path / 'paybutton.db'}" in out.stderr and "paybutton db upgrade" in out.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_unmigrated_sqlite_file_is_one_line_and_left_as_it_was(tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()
    with sqlite3.connect(tmp_path / "other.db") as conn:
        conn.execute("CREATE TABLE notes (x)")
    before = snapshot(tmp_path)
    for name in ("empty.db", "other.db"):
        out = run_real(tmp_path, "app", "list", "--json", "--database", f"sqlite:///{name}")
        assert out.returncode == 2 and out.stdout == "", out
        assert out.stderr.splitlines() == [f"error: the database at sqlite:///{name} is not set up: run `paybutton db "
                                           "upgrade` (with the same --database / PAYBUTTON_DATABASE_URL)"]
    assert snapshot(tmp_path) == before


def test_a_database_behind_the_migrations_says_so(tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    url = f"sqlite:///{tmp_path / 'old.db'}"
    script = ScriptDirectory.from_config(alembic_config(url))
    head = script.get_revision(script.get_current_head())
    previous = head.down_revision
    assert isinstance(previous, str)
    upgrade(url, previous)
    r = runner.invoke(cli, ["app", "list", "--database", url])
    assert r.exit_code == 2
    assert f"is at revision {previous}, this paybutton needs {head.revision}: run `paybutton db upgrade`" in r.stderr
    assert runner.invoke(cli, ["db", "upgrade", "--database", url]).exit_code == 0
    assert runner.invoke(cli, ["app", "list", "--database", url]).stdout.strip() == "no apps"


def test_a_postgres_database_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    pg = os.environ.get("PAYBUTTON_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    url = pg.rsplit("/", 1)[0] + "/paybutton_no_such_database"
    r = runner.invoke(cli, ["app", "list", "--database", url])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith(f"error: cannot open the database at {url}") and len(r.stderr.splitlines()) == 1


# ------------------------------------------------------------------ --database and PAYBUTTON_DATABASE_URL alike

# Every command that opens the database, with arguments it accepts; run on a database that does not exist, each
# must name the database it was pointed at (so the option or variable reached it) and create nothing.
DB_COMMANDS = [
    ["app", "create", "--name", "x"], ["app", "show", "tt1"], ["app", "list"], ["app", "update", "tt1", "--name", "y"],
    ["goods", "add", "--app", "tt1", "--id", "g", "--name", "n", "--price", "1", "--stock", "1"],
    ["goods", "update", "--app", "tt1", "--id", "g", "--name", "n"], ["goods", "show", "--app", "tt1", "--id", "g"],
    ["goods", "list", "--app", "tt1"], ["keys", "show"], ["keys", "rotate"],
    ["buyer-token", "--app", "tt1", "--open-id", "u"], ["callbacks", "list", "--app", "tt1"],
    ["callbacks", "attempts", "--app", "tt1"], ["callbacks", "show", "1", "--app", "tt1"],
    ["callbacks", "replay", "1", "--app", "tt1"], ["callbacks", "test", "--app", "tt1", "--wait", "0"],
    ["check"], ["verify", "CODE"], ["db", "current"], ["serve", "--no-migrate"],
    ["bookings", "list", "--app", "tt1"], ["bookings", "certificates", "--app", "tt1", "--order", "ot1"],
    ["statement", "--app", "tt1", "--from", "2026-01-01", "--to", "2026-01-01"],
    ["reconcile", "--app", "tt1", "--date", "2026-01-01"], ["orders", "list", "--app", "tt1"],
    ["orders", "show", "ot1", "--app", "tt1"], ["audit"], ["receiver", "list"],
    ["receiver", "add", "u1", "--name", "n"], ["db", "backup", "/nonexistent-dir/backup.db"],
]
NO_DATABASE = {("docs", "errors"), ("docs", "callbacks")}


def leaf_commands() -> list[tuple[tuple[str, ...], Any]]:
    """Every leaf command of the CLI (typer's own click: duck-typed)."""
    found: list[tuple[tuple[str, ...], Any]] = []

    def walk(path: tuple[str, ...], node: Any) -> None:
        subcommands = getattr(node, "commands", None)
        if subcommands is not None:
            for name, sub in subcommands.items():
                walk((*path, name), sub)
        else:
            found.append((path, node))

    walk((), typer.main.get_command(cli))
    return found


def command_path(args: list[str]) -> tuple[str, ...]:
    """('callbacks', 'show') for ['callbacks', 'show', '1', …]: the words that name groups and the command."""
    node: Any = typer.main.get_command(cli)
    path: list[str] = []
    for word in args:
        subcommands = getattr(node, "commands", None)
        if subcommands is None:
            break
        node = subcommands[word]
        path.append(word)
    return tuple(path)


def test_every_command_that_opens_the_database_takes_the_option_and_the_variable() -> None:
    exercised = {command_path(c) for c in DB_COMMANDS}
    for path, command in leaf_commands():
        if path in NO_DATABASE:
            continue
        params = {p.name: p for p in command.params}
        assert "database" in params, f"paybutton {' '.join(path)} has no --database"
        opt = params["database"]
        assert opt.opts == ["--database"], path
        assert opt.envvar == "PAYBUTTON_DATABASE_URL", path
        # db upgrade and demo create the database (tested below and by demo); db restore writes one from a backup
        # (tests/cli/test_backup.py)
        if path not in (("db", "upgrade"), ("demo",), ("db", "restore")):
            assert path in exercised, f"paybutton {' '.join(path)} is not in DB_COMMANDS"


@pytest.mark.parametrize("args", DB_COMMANDS, ids=lambda a: " ".join(a[:2]))
@pytest.mark.parametrize("how", ["option", "variable"])
def test_database_option_and_variable_alike(tmp_path: Path, args: list[str], how: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAYBUTTON_DATABASE_URL", raising=False)
    target = tmp_path / "elsewhere" / "there.db"
    url = f"sqlite+aiosqlite:///{target}"
    argv = [*args, "--database", url] if how == "option" else args
    env = {"PAYBUTTON_DATABASE_URL": url} if how == "variable" else {}
    r = runner.invoke(cli, argv, env={"PAYBUTTON_CONFIG": str(tmp_path / "absent.toml"), **env})
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith(f"error: no database at {target}:"), r.stderr
    assert not target.parent.exists() or list(target.parent.iterdir()) == []


def test_db_upgrade_then_every_reader_uses_the_same_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    env = clean_env(tmp_path)
    assert runner.invoke(cli, ["db", "upgrade", "--database", url], env=env).exit_code == 0
    created = runner.invoke(cli, ["app", "create", "--name", "Env shop", "--json"],
                            env={**env, "PAYBUTTON_DATABASE_URL": url})
    assert created.exit_code == 0, created.output
    app_id = json.loads(created.stdout)["app_id"]
    assert runner.invoke(cli, ["goods", "add", "--app", app_id, "--id", "g", "--name", "n", "--price-yuan", "1",
                               "--stock", "1", "--database", url], env=env).exit_code == 0
    listed = runner.invoke(cli, ["goods", "list", "--app", app_id], env={**env, "PAYBUTTON_DATABASE_URL": url})
    assert listed.exit_code == 0 and "¥1.00" in listed.stdout


def test_export_line_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert absolute_url("sqlite+aiosqlite:///paybutton-demo.db") == f"sqlite+aiosqlite:///{tmp_path}/paybutton-demo.db"
    assert absolute_url("sqlite:////abs/x.db") == "sqlite:////abs/x.db"
    assert absolute_url("postgresql://u:p@h/db") == "postgresql://u:p@h/db"
    assert export_line("sqlite:///a b.db") == f"export PAYBUTTON_DATABASE_URL='sqlite+aiosqlite:///{tmp_path}/a b.db'"


def test_demo_prints_the_line_that_points_the_cli_at_its_database(tmp_path: Path) -> None:
    """`paybutton demo` in a folder of its own; its `CLI  export PAYBUTTON_DATABASE_URL=…` line, run from another
    folder, makes `paybutton app list` list the demo app."""
    here, elsewhere = tmp_path / "demo", tmp_path / "elsewhere"
    here.mkdir()
    elsewhere.mkdir()
    socks = [listening_socket(), listening_socket()]  # kept until the demo is done: its ports cannot be lost
    log = (tmp_path / "demo.log").open("w")
    demo = subprocess.Popen([sys.executable, "-m", "paybutton.cli", "demo", "--fd", str(socks[0].fileno()),
                             "--shop-fd", str(socks[1].fileno())], cwd=here, env=clean_env(tmp_path),
                            stdout=log, stderr=subprocess.STDOUT, text=True, pass_fds=[s.fileno() for s in socks])
    try:
        deadline = time.monotonic() + 90
        line = None
        while line is None:
            assert demo.poll() is None and time.monotonic() < deadline, (tmp_path / "demo.log").read_text()
            line = re.search(r"^  CLI +export PAYBUTTON_DATABASE_URL=(\S+)", (tmp_path / "demo.log").read_text(),
                             flags=re.M)
            time.sleep(0.2)
    finally:
        demo.terminate()
        demo.wait(timeout=30)
        log.close()
        for s in socks:
            s.close()
    url = shlex.split(line.group(1))[0]
    assert url == f"sqlite+aiosqlite:///{here / 'paybutton-demo.db'}"
    out = run_real(elsewhere, "app", "list", PAYBUTTON_DATABASE_URL=url)
    assert out.returncode == 0 and DEMO_APP_ID in out.stdout, out
    assert list(elsewhere.iterdir()) == []
