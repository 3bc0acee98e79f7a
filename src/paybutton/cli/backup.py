"""`paybutton db backup FILE` and `paybutton db restore FILE`.

SQLite: a backup is SQLite's online backup API (https://www.sqlite.org/backup.html) run in one step, so the copy is
one consistent snapshot even while servers write (WAL: they are not blocked meanwhile); it is written beside FILE,
checked, and only then renamed to FILE. A restore checks FILE is a paybutton database, refuses while any paybutton
server has the database open (paybutton/inuse.py) or another program holds a lock on it, copies FILE in beside
it, keeps the database it replaces as `<database>.replaced-<time>`, and swaps the two by a rename.
PostgreSQL: paybutton does not copy a server's database; both commands print the pg_dump / pg_restore commands
that do (https://www.postgresql.org/docs/current/app-pgdump.html, "Examples") and say that nothing was written.

Every refusal is one line on stderr and exit 2, and happens before anything is written."""

from __future__ import annotations

import os
import shlex
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import typer
from sqlalchemy.engine import make_url

from paybutton import clikit, inuse
from paybutton.clikit import DatabaseOpt
from paybutton.db import alembic_config

ForceOpt = typer.Option(False, "--force", help="replace FILE if it exists")


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {r.revision for r in ScriptDirectory.from_config(alembic_config("sqlite://")).walk_revisions()}


def not_paybutton(path: Path) -> str | None:
    """Why `path` is not a paybutton SQLite database this version can run (None when it is one). Read-only."""
    if not path.is_file():
        return f"{path} is not a file"
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not {"alembic_version", "apps", "orders"} <= tables:
                return f"{path} is not a paybutton database (no paybutton tables)"
            rev = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            if rev is None or rev[0] not in _known_revisions():
                return f"{path} is a paybutton database of another version (revision {rev and rev[0]})"
            if conn.execute("PRAGMA quick_check").fetchone() != ("ok",):
                return f"{path} is damaged (PRAGMA quick_check failed)"
    except sqlite3.Error as e:
        return f"{path} is not a paybutton database ({e})"
    return None


def _writable_dir(path: Path) -> str | None:
    """Why a file cannot be made at `path` (None when it can): its folder must exist and take a new file."""
    folder = path.parent
    probe = folder / f".{path.name}.probe-{os.getpid()}"
    try:
        probe.touch(exist_ok=False)
        probe.unlink()
    except OSError as e:
        return f"cannot write {path}: {e.strerror or e}"
    return None


def _copy(src: Path, dest: Path) -> None:
    """One consistent snapshot of `src` into a new file beside `dest`, checked, then renamed to `dest`."""
    partial = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    try:
        with closing(sqlite3.connect(f"{src.resolve().as_uri()}?mode=ro", uri=True)) as source, \
                closing(sqlite3.connect(partial)) as copy:
            source.execute("PRAGMA busy_timeout=10000")
            source.backup(copy)  # pages=-1: every page in one step, under one read transaction
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            if copy.execute("PRAGMA quick_check").fetchone() != ("ok",):
                raise sqlite3.DatabaseError("the copy failed its quick_check")
        with open(partial, "rb") as f:
            os.fsync(f.fileno())
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)


def _sqlite_target(database: str | None, verb: str, file: Path) -> Path | None:
    """The SQLite file of the configured database; None after printing the PostgreSQL commands."""
    url = clikit.settings_for(database).database_url
    path = clikit.sqlite_file(url)
    if path is not None:
        return path
    if make_url(url).get_backend_name() != "postgresql":
        clikit.fail(f"`paybutton db {verb}` works on a SQLite file; {clikit.shown_url(url)} is not one")
    _postgres_guide(url, verb, file)
    return None


def _postgres_guide(url: str, verb: str, file: Path) -> None:
    u = make_url(url).set(drivername="postgresql", password=None)  # the password: PGPASSWORD or ~/.pgpass
    libpq = shlex.quote(u.render_as_string(hide_password=False))
    f = shlex.quote(str(file))
    typer.echo(f"PostgreSQL: paybutton does not copy a PostgreSQL database itself, and wrote nothing. "
               f"To {verb}, run:")
    if verb == "backup":
        typer.echo(f"  pg_dump --format=custom --no-owner --file={f} {libpq}")
    else:
        typer.echo("  # stop every paybutton server on this database first, then:")
        typer.echo(f"  pg_restore --clean --if-exists --no-owner --single-transaction --dbname={libpq} {f}")
    typer.echo(f"  paybutton check --database {libpq}")


def db_backup(file: Path = typer.Argument(..., help="the copy to write"), force: bool = ForceOpt,
              database: str | None = DatabaseOpt) -> None:
    """Copy the database to FILE while servers run (SQLite; PostgreSQL: prints the pg_dump command)."""
    src = _sqlite_target(database, "backup", file)
    if src is None:
        return
    missing = clikit.missing_file_message(clikit.settings_for(database).database_url)
    if missing:
        clikit.fail(missing)
    why = not_paybutton(src) or _writable_dir(file)
    if why:
        clikit.fail(why)
    if file.exists() and (not force or file.resolve() == src.resolve()):
        clikit.fail(f"{file} exists: pass --force to replace it" if file.resolve() != src.resolve()
                    else f"{file} is the database itself")
    try:
        _copy(src, file)
    except (OSError, sqlite3.Error) as e:
        clikit.fail(f"cannot write {file}: {e}")
    typer.echo(f"backed up {src} to {file} ({file.stat().st_size} bytes; "
               f"`paybutton db restore {shlex.quote(str(file))}` puts it back)")


def _quiesce(target: Path) -> str | None:
    """Fold the WAL of the database being replaced into it and take it out of WAL mode, under an exclusive lock
    taken without waiting: another program (not paybutton) using it is a refusal. None when done."""
    try:
        with closing(sqlite3.connect(target, timeout=0, isolation_level=None)) as conn:
            conn.execute("BEGIN EXCLUSIVE")
            conn.execute("COMMIT")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.OperationalError as e:
        return f"the database at {target} is in use by another program ({e}): nothing was restored"
    return None


def _swap_in(file: Path, target: Path) -> Path | None:
    """Copy FILE beside the target, keep the target as .replaced-<time>, rename the copy over it."""
    aside = None
    staged = target.with_name(f".{target.name}.restoring-{os.getpid()}")
    _copy(file, staged)
    try:
        if target.exists():
            aside = target.with_name(f"{target.name}.replaced-{time.strftime('%Y%m%dT%H%M%S')}")
            os.link(target, aside)
            for side in ("-wal", "-shm", "-journal"):
                target.with_name(target.name + side).unlink(missing_ok=True)
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    return aside


def db_restore(file: Path = typer.Argument(..., help="a backup made by `paybutton db backup`"),
               database: str | None = DatabaseOpt) -> None:
    """Replace the SQLite database with FILE; refused while a paybutton server has the database open."""
    target = _sqlite_target(database, "restore", file)
    if target is None:
        return
    why = not_paybutton(file) or _writable_dir(target)
    if why:
        clikit.fail(why)
    claim = inuse.take_exclusive(target)
    if claim is None:
        clikit.fail(f"the database at {target} is in use by a running paybutton server (serve or demo): "
                    "stop it first; nothing was restored")
    try:
        why = _quiesce(target) if target.exists() else None
        if why:
            clikit.fail(why)
        try:
            aside = _swap_in(file, target)
        except (OSError, sqlite3.Error) as e:
            clikit.fail(f"cannot restore into {target}: {e}")
    finally:
        inuse.release(claim)
    kept = f"; the database it replaced is kept as {aside}" if aside else ""
    typer.echo(f"restored {file} into {target}{kept}. `paybutton db upgrade` if it is from an older version, "
               "then `paybutton check`")
