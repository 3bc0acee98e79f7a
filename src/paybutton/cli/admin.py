"""The operator's upkeep: `paybutton db ...` (schema), `keys ...` (the platform key pair), `docs ...` (generated
docs) and `check` (the money invariants)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from sqlalchemy.exc import DBAPIError

from paybutton import clikit
from paybutton.apps import service as app_service
from paybutton.clikit import DatabaseOpt
from paybutton.clock import SystemClock
from paybutton.db import Database, current_revision
from paybutton.recon.check import open_breaks
from paybutton.refund.check import scan

db_cli = clikit.group("Database schema (Alembic migrations).")
keys_cli = clikit.group("The platform key pair that signs callbacks.")
docs_cli = clikit.group("Generated docs: the error table and the callback catalogue.")

CheckOpt: Any = typer.Option(False, "--check", help="exit 1 if the file differs")


# ------------------------------------------------------------------ db


@db_cli.command("upgrade")
def db_upgrade(database: str | None = DatabaseOpt) -> None:
    """Apply every migration."""
    url = clikit.settings_for(database).database_url
    clikit.migrate(url)
    typer.echo(f"database at revision {current_revision(url)}")


@db_cli.command("current")
def db_current(database: str | None = DatabaseOpt) -> None:
    """Print the schema revision ("empty" for a database never migrated)."""
    url = clikit.settings_for(database).database_url
    missing = clikit.missing_file_message(url)
    if missing:
        clikit.fail(missing)  # connecting would create the file
    try:
        rev = current_revision(url)
    except (DBAPIError, OSError) as e:
        clikit.cannot_open(url, e)
    typer.echo(rev or "empty")


# ------------------------------------------------------------------ keys


async def platform_public_key(db: Database) -> str:
    """The active platform public key (PEM), made first if there is none yet."""
    async with db.tx() as conn:
        return (await app_service.ensure_platform_key(conn, SystemClock()))[1]


@keys_cli.command("show")
def keys_show(database: str | None = DatabaseOpt) -> None:
    """Print the active platform public key (PEM), the one running servers sign with: merchants verify with it."""
    typer.echo(clikit.run(database, platform_public_key).strip())


@keys_cli.command("rotate")
def keys_rotate(database: str | None = DatabaseOpt) -> None:
    """Generate a new platform key pair; running servers sign with it (and serve it) within a second."""

    async def go(db: Database) -> str:
        async with db.tx() as conn:
            return await app_service.rotate_platform_key(conn, SystemClock())

    typer.echo(clikit.run(database, go).strip())


# ------------------------------------------------------------------ generated docs


def _docs(name: str, out: Path | None, check: bool) -> None:
    from paybutton.docsgen import DOCS, GENERATORS

    path = out or Path(DOCS[name])
    text = GENERATORS[name]()
    if check:
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            typer.echo(f"{path} is out of date: run `paybutton docs {name}`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{path} is up to date")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {path}")


@docs_cli.command("errors")
def docs_errors(out: Path | None = typer.Option(None, help="default docs/errors.md"),
                check: bool = CheckOpt) -> None:
    """Write docs/errors.md from the error registry."""
    _docs("errors", out, check)


@docs_cli.command("callbacks")
def docs_callbacks(out: Path | None = typer.Option(None, help="default docs/callbacks.md"),
                   check: bool = CheckOpt) -> None:
    """Write docs/callbacks.md (every callback type, built by the server's own code)."""
    _docs("callbacks", out, check)


# ------------------------------------------------------------------ invariants


def check(database: str | None = DatabaseOpt) -> None:
    """Scan the database for broken money invariants (orders, item orders, refunds) and reconciliation breaks
    still open; exit 1 if any."""
    async def go(db: Database) -> list[str]:
        async with db.engine.connect() as conn:
            return await scan(conn) + await open_breaks(conn)

    problems = clikit.run(database, go)
    for p in problems:
        typer.echo(p)
    if problems:
        typer.echo(f"{len(problems)} broken invariant(s)", err=True)
        raise typer.Exit(1)
    typer.echo("ok: no broken invariant")
