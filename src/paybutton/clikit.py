"""What every `paybutton` command shares: the --database and --json options, a database that must be set up before use
(checked without creating anything), money options that cannot be misread, masked secrets, one way to print a result
(JSON or text) and a time, and one-line errors (exit 2)."""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from paybutton.config import Settings
from paybutton.db import Database, alembic_config, normalise_url
from paybutton.errors import TradeError

T = TypeVar("T")

DATABASE_HELP = "database URL (default: PAYBUTTON_DATABASE_URL, then paybutton.toml, then sqlite:///paybutton.db)"
DatabaseOpt: Any = typer.Option(None, "--database", envvar="PAYBUTTON_DATABASE_URL", help=DATABASE_HELP)
DatabaseArg = Annotated[
    str | None, typer.Option("--database", envvar="PAYBUTTON_DATABASE_URL", help=DATABASE_HELP)
]
ShowSecretOpt: Any = typer.Option(False, "--show-secret", help="print secrets in clear (masked otherwise)")
JsonFlag: Any = typer.Option(False, "--json")

UPGRADE = "run `paybutton db upgrade` (with the same --database / PAYBUTTON_DATABASE_URL)"


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


def local_time(ms: int | None) -> str:
    """Epoch milliseconds as local ISO-8601 to the second; '-' for None."""
    return "-" if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone().isoformat(timespec="seconds")


# ------------------------------------------------------------------ the database


def settings_for(database: str | None) -> Settings:
    return Settings(database_url=database) if database else Settings()


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
        first = str(getattr(e, "orig", None) or e).strip().splitlines()
        fail(f"cannot open the database at {shown_url(url)}: {first[0] if first else type(e).__name__}")
    problem = revision_problem(rev, url)
    if problem:
        fail(problem)


def run(database: str | None, work: Callable[[Database], Awaitable[T]], lang: str = "en") -> T:
    """Run `work` on a database that is set up; a missing or unmigrated one is one line and exit 2, and no file is
    created. A TradeError is one line and exit 2 too."""
    url = settings_for(database).database_url
    missing = missing_file_message(url)
    if missing:
        fail(missing)

    async def main() -> T:
        db = Database(settings_for(url))
        try:
            await _ready(db, url)
            return await work(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except TradeError as e:
        fail_trade(e, lang)


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
