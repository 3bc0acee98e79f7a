"""What every `paybutton` command shares: the command groups (plain help that reads at 80 columns), the --database and
--json options, a database URL paybutton can run on and a database that must be set up before use (checked without
creating anything), an --app that must exist, money options that cannot be misread, masked secrets, one way to print
a result (JSON or text) and a time (Beijing time, with its offset), and one-line errors (exit 2)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import socket
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from paybutton import audit
from paybutton.clock import BEIJING
from paybutton.config import Settings
from paybutton.db import Database, alembic_config, normalise_url, upgrade
from paybutton.errors import TradeError
from paybutton.tables import apps

T = TypeVar("T")

# The one place the default database is named: the Settings field (README's "Which database" says the same, and
# tests/cli/test_cli_edges.py checks that it does).
DEFAULT_DATABASE: str = Settings.model_fields["database_url"].default
DATABASE_HELP = f"database URL (default: PAYBUTTON_DATABASE_URL, then paybutton.toml, then {DEFAULT_DATABASE})"
DatabaseOpt: Any = typer.Option(None, "--database", envvar="PAYBUTTON_DATABASE_URL", help=DATABASE_HELP)
DatabaseArg = Annotated[
    str | None, typer.Option("--database", envvar="PAYBUTTON_DATABASE_URL", help=DATABASE_HELP)
]
ShowSecretOpt: Any = typer.Option(False, "--show-secret", help="print secrets in clear (masked otherwise)")
JsonFlag: Any = typer.Option(False, "--json")

UPGRADE = "run `paybutton db upgrade` (with the same --database / PAYBUTTON_DATABASE_URL)"


def group(text: str) -> typer.Typer:
    """A command group. Its help is click's plain layout, which wraps the descriptions and never cuts an option's
    name (rich's boxed table cut `--payment-notify-url` to `--payment-notify-u…` at 80 columns)."""
    return typer.Typer(help=text, no_args_is_help=True, rich_markup_mode=None)


def fail(message: str) -> NoReturn:
    """One line on stderr, exit 2: the CLI's answer to anything the user can fix."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def fail_trade(err: TradeError, lang: str = "en") -> NoReturn:
    code = err.spec.err_no if err.spec.err_no is not None else err.spec.error_code
    typer.echo(f"error {code}: {err.text(lang)}", err=True)
    raise typer.Exit(2)


# ------------------------------------------------------------------ output


def out(data: Any, as_json: bool, human: Callable[[Any], str]) -> None:
    """Print a result: indented JSON (non-ASCII kept) with --json, else what `human` makes of it."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2) if as_json else human(data))


# Every time the CLI prints or reads is Beijing time, as the console shows it (console/forms.py) and as the
# merchant and the buyer see it: a time entered as 2026-12-01T10:00:00+08:00 prints as itself.


def beijing_time(ms: int | None) -> str:
    """Epoch milliseconds as ISO-8601 in Beijing time, to the second, with the offset (+08:00); '-' for None."""
    return "-" if ms is None else datetime.fromtimestamp(ms / 1000, tz=BEIJING).isoformat(timespec="seconds")


# ------------------------------------------------------------------ the database


# The drivers paybutton runs on (db.normalise_url turns the sync spellings into the async drivers).
DRIVERS = ("sqlite", "sqlite+aiosqlite", "postgresql", "postgres", "postgresql+asyncpg", "postgresql+psycopg",
           "postgresql+psycopg2")
URL_HINT = "paybutton runs on SQLite (sqlite:///paybutton.db) or PostgreSQL (postgresql://user@host/dbname)"


def checked_url(url: str) -> str:
    """The URL, when paybutton can run on it; anything else (mysql://, foo://, no URL at all) is one line, exit 2."""
    try:
        drivername = make_url(url).drivername
    except ArgumentError:
        fail(f"not a database URL: {url!r}: {URL_HINT}")
    if drivername not in DRIVERS:
        fail(f"unsupported database URL {shown_url(url)}: {URL_HINT}")
    return url


def settings_for(database: str | None) -> Settings:
    """The settings with --database (else PAYBUTTON_DATABASE_URL, paybutton.toml, the default); a URL or a setting
    paybutton cannot use is one line and exit 2."""
    try:
        settings = Settings(database_url=database) if database else Settings()
    except ValidationError as e:
        bad = e.errors()[0]
        fail(f"setting {'.'.join(str(p) for p in bad['loc'])}: {bad['msg']}")
    checked_url(settings.database_url)
    return settings


def cannot_open(url: str, e: BaseException) -> NoReturn:
    first = str(getattr(e, "orig", None) or e).strip().splitlines()
    fail(f"cannot open the database at {shown_url(url)}: {first[0] if first else type(e).__name__}")


def migrate(url: str) -> None:
    """Apply the migrations; a database that cannot be reached is one line and exit 2."""
    try:
        upgrade(url)
    except (DBAPIError, OSError, sqlite3.Error) as e:
        cannot_open(url, e)


def shown_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def sqlite_file(url: str) -> Path | None:
    """The file an SQLite URL opens (None for in-memory, URI-style or non-SQLite URLs)."""
    u = make_url(normalise_url(url))
    if u.get_backend_name() != "sqlite" or u.query.get("uri") in ("true", "1"):
        return None
    name = u.database or ""
    if name in ("", ":memory:") or name.startswith("file:"):
        return None
    return Path(name)


def absolute_url(url: str) -> str:
    """A SQLite URL with a relative path made absolute (the same database from any folder); others unchanged."""
    path = sqlite_file(url)
    if path is None or path.is_absolute():
        return url
    return make_url(normalise_url(url)).set(database=str(path.resolve())).render_as_string(hide_password=False)


def export_line(url: str) -> str:
    """The shell line that points the CLI at this database."""
    return f"export PAYBUTTON_DATABASE_URL={shlex.quote(absolute_url(url))}"


def missing_file_message(url: str) -> str | None:
    """For a SQLite file that does not exist: what to say (connecting would create an empty file)."""
    path = sqlite_file(url)
    if path is None or path.exists():
        return None
    return (f"no database at {path.resolve()}: run `paybutton db upgrade` to create it, or point --database / "
            "PAYBUTTON_DATABASE_URL at an existing one (`paybutton demo` prints the line for its own)")


def _revisions(url: str) -> tuple[set[str], set[str]]:
    """(heads, every known revision) of this paybutton's migrations."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(url))
    return set(script.get_heads()), {r.revision for r in script.walk_revisions()}


def revision_problem(rev: str | None, url: str) -> str | None:
    """Why a database at revision `rev` cannot serve the CLI yet (None at the migrations' head, or ahead of it)."""
    if rev is None:
        return f"the database at {shown_url(url)} is not set up: {UPGRADE}"
    heads, known = _revisions(url)
    if rev not in heads and rev in known:
        return (f"the database at {shown_url(url)} is at revision {rev}, this paybutton needs "
                f"{', '.join(sorted(heads))}: {UPGRADE}")
    return None


def _sqlite_revision(path: Path) -> str | None:
    """The Alembic revision of an existing SQLite file, read-only (the file is not touched)."""
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'").fetchone():
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return str(row[0]) if row else None


async def _revision(db: Database, url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def current(sync_conn: Any) -> str | None:
        rev: str | None = MigrationContext.configure(sync_conn).get_current_revision()
        return rev

    path = sqlite_file(url)
    if path is not None:
        return _sqlite_revision(path)
    async with db.engine.connect() as conn:
        return await conn.run_sync(current)


async def _ready(db: Database, url: str) -> None:
    try:
        rev = await _revision(db, url)
    except (DBAPIError, OSError, sqlite3.Error) as e:
        cannot_open(url, e)
    problem = revision_problem(rev, url)
    if problem:
        fail(problem)


async def _known_app(db: Database, app_id: str, url: str) -> None:
    async with db.engine.connect() as conn:
        found = (await conn.execute(select(apps.c.app_id).where(apps.c.app_id == app_id))).first()
    if found is None:
        fail(f"no such app: {app_id} in the database at {shown_url(url)} (`paybutton app list` lists its apps)")


def run(database: str | None, work: Callable[[Database], Awaitable[T]], lang: str = "en",
        app_id: str | None = None) -> T:
    """Run `work` on a database that is set up; a missing or unmigrated one is one line and exit 2, and no file is
    created. With `app_id` (a command's --app), an app that does not exist is one line and exit 2 before `work`
    runs (a listing would otherwise say "no goods" for a mistyped id). A TradeError is one line and exit 2 too."""
    url = settings_for(database).database_url
    missing = missing_file_message(url)
    if missing:
        fail(missing)

    async def main() -> T:
        audit.acting(audit.cli_actor())  # every change a command makes is recorded as the user@host that ran it
        db = Database(settings_for(url))
        try:
            await _ready(db, url)
            if app_id is not None:
                await _known_app(db, app_id, url)
            return await work(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except TradeError as e:
        fail_trade(e, lang)


# ------------------------------------------------------------------ ports


def bind(host: str, port: int, option: str, hint: str = "") -> socket.socket:
    """A socket bound to host:port, for the server to listen on (uvicorn takes it: no other process can take the port
    in between). A port in use is one line and exit 2, before anything else happens."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: a port in TIME_WAIT is free
    try:
        sock.bind((host, port))
        # Listening at once holds the port: two sockets with SO_REUSEADDR may both bind one that neither listens on.
        sock.listen(2048)  # uvicorn's default backlog
    except OSError as e:
        sock.close()
        fail(f"cannot listen on {host}:{port} ({option} {port}): {e.strerror or e}{hint}; choose another port "
             f"with {option}. Nothing was started and no database was touched")
    return sock


def inherited(fd: int, option: str = "--fd") -> socket.socket:
    """The listening socket inherited as fd `fd` (systemd socket activation: from 3 on), duplicated (closing it
    leaves `fd` to the server). Anything else is one line and exit 2, before anything else happens."""
    hint = "; give the number of a listening socket this process inherited (systemd socket activation: 3)"
    try:
        dup = os.dup(fd)
    except (OSError, OverflowError) as e:
        fail(f"{option} {fd} is not an open file descriptor ({getattr(e, 'strerror', None) or e}){hint}")
    try:
        sock = socket.socket(fileno=dup)
    except OSError as e:
        os.close(dup)
        fail(f"{option} {fd} is not a socket ({e.strerror or e}){hint}")
    if sock.type != socket.SOCK_STREAM or not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
        sock.close()
        fail(f"{option} {fd} is a socket that is not listening for connections{hint}")
    if sock.family in (socket.AF_INET, socket.AF_INET6):  # uvicorn opens an fd as AF_UNIX: no TCP_NODELAY on its
        # connections (Nagle: a third fewer orders/s in the bench); Linux's accepted sockets take the listener's.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def socket_url(sock: socket.socket, host: str = "") -> str:
    """Where a listening socket answers: http://host:port (`host` instead of the address it is bound to, when
    given), or the path of a Unix socket."""
    if sock.family == getattr(socket, "AF_UNIX", None):
        return f"unix:{sock.getsockname()}"
    address, port = sock.getsockname()[:2]
    where = host or address
    return f"http://[{where}]:{port}" if ":" in where else f"http://{where}:{port}"


# ------------------------------------------------------------------ money

FEN = re.compile(r"[0-9]+")
YUAN = re.compile(r"([0-9]+)(?:\.([0-9]{1,2}))?")


def parse_fen(text: str, option: str = "--price") -> int:
    """An integer number of fen, digits only: '16800' -> 16800. Anything else ('168.00', '1.5', '¥1', '-5') is
    refused with a pointer to the yuan option, never rounded or truncated."""
    value = text.strip()
    if not FEN.fullmatch(value):
        fail(f"{option} takes integer fen (16800 = ¥168.00), got {text!r}: for yuan use {option}-yuan "
             f"(e.g. {option}-yuan 168.00)")
    return int(value)


def parse_yuan(text: str, option: str = "--price-yuan") -> int:
    """Yuan with at most 2 decimals, exactly, to fen: '168.00' -> 16800, '168' -> 16800, '0.01' -> 1."""
    m = YUAN.fullmatch(text.strip())
    if not m:
        fail(f"{option} takes yuan with at most 2 decimals (168.00, 168 or 0.01), got {text!r}")
    return int(m.group(1)) * 100 + int((m.group(2) or "").ljust(2, "0"))


def money_fen(fen: str | None, yuan: str | None, option: str = "--price") -> int | None:
    """The amount from `--price` (fen) or `--price-yuan`, at most one of them; None when neither was given."""
    if fen is not None and yuan is not None:
        fail(f"give {option} (fen) or {option}-yuan, not both")
    if fen is not None:
        return parse_fen(fen, option)
    if yuan is not None:
        return parse_yuan(yuan, f"{option}-yuan")
    return None


def required_money_fen(fen: str | None, yuan: str | None, option: str = "--price") -> int:
    """As money_fen, and one of the two must be given."""
    amount = money_fen(fen, yuan, option)
    if amount is None:
        fail(f"give {option} (integer fen, 16800 = ¥168.00) or {option}-yuan (168.00)")
    return amount


# ------------------------------------------------------------------ secrets

SECRET_KEY = re.compile(r"secret|password|private|api_?key|(^|_)key$|cert", re.I)


def mask(value: str) -> str:
    """'755d312a…' -> '755d… (masked: --show-secret)': enough to tell secrets apart, useless to sign with."""
    return f"{value[:4] if len(value) > 12 else ''}… (masked: --show-secret)"


def _mask_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (mask(str(v)) if v and SECRET_KEY.search(k) and not isinstance(v, dict | list) else _mask_tree(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_tree(v) for v in value]
    return value


def masked_app(app: dict[str, Any], show: bool) -> dict[str, Any]:
    """The app with its secret masked, unless `show`."""
    if show:
        return app
    out = dict(app)
    if out.get("secret"):
        out["secret"] = mask(str(out["secret"]))
    # pay_config needs nothing here: the apps service only ever hands out its masked view ("set (…last 4)"),
    # so the channel secrets are never shown again after saving, --show-secret or not.
    return out


# ------------------------------------------------------------------ origins


def _origin(o: str) -> str:
    return o.strip().rstrip("/")


def edit_origins(current: list[str], replace: list[str] | None, add: list[str], remove: list[str]) -> list[str]:
    """The allowed origins after `--origin` (replaces the whole list), then `--add-origin`, then `--remove-origin`."""
    out = [_origin(o) for o in (replace if replace else current)]
    for o in add:
        if _origin(o) not in out:
            out.append(_origin(o))
    for o in remove:
        if _origin(o) not in out:
            fail(f"--remove-origin {o}: not among the allowed origins {out}")
        out.remove(_origin(o))
    return out
