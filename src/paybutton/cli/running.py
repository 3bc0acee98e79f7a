"""`paybutton serve` (the trade server) and `paybutton demo` (trade server, demo shop and demo merchant)."""

from __future__ import annotations

import os
import sys

import typer

from paybutton import clikit
from paybutton.cli.admin import platform_public_key
from paybutton.clikit import DatabaseOpt
from paybutton.db import upgrade

DEMO_DATABASE = "sqlite+aiosqlite:///paybutton-demo.db"


def serve(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000, envvar="PAYBUTTON_PORT"),
    workers: int = typer.Option(1, help="server processes (PostgreSQL: several may share one database)"),
    migrate: bool = typer.Option(True, "--migrate/--no-migrate", help="apply migrations first"),
    database: str | None = DatabaseOpt,
) -> None:
    """Run the trade server (with the expiry sweeper and the callback dispatcher)."""
    import uvicorn

    settings = clikit.settings_for(database)
    if migrate:
        upgrade(settings.database_url)
    clikit.run(settings.database_url, platform_public_key)  # before the workers fork, so they all sign with one key
    os.environ["PAYBUTTON_DATABASE_URL"] = settings.database_url  # what the workers' create_app reads
    typer.echo(f"paybutton serving on http://{host}:{port}  database: {settings.database_url.split('@')[-1]}")
    uvicorn.run("paybutton.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level=settings.log_level, access_log=False,
                loop="uvloop" if sys.platform != "win32" else "auto", http="httptools")


def demo(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000, envvar="PAYBUTTON_PORT", help="trade server port"),
    shop_port: int | None = typer.Option(None, help="demo shop and merchant server port (default port+1)"),
    database: str | None = typer.Option(
        None, "--database", envvar="PAYBUTTON_DATABASE_URL", help=(
            f"database URL (default: PAYBUTTON_DATABASE_URL, then {DEMO_DATABASE}); it gets the demo app, whose "
            "secret is published: never point the demo at a production database")),
) -> None:
    """Run the demo: trade server, demo shop and demo merchant server, on a SQLite file. Nothing else needed.

    It migrates and seeds the database, and prints the `export PAYBUTTON_DATABASE_URL=…` line that points the other
    commands (app, goods, callbacks, …) at it."""
    from paybutton.demo.run import run_demo

    url = clikit.absolute_url(database or DEMO_DATABASE)
    run_demo(host=host, port=port, shop_port=shop_port or port + 1, database_url=url)
