"""`paybutton serve` (the trade server) and `paybutton demo` (trade server, demo shop and demo merchant)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import typer

from paybutton import clikit
from paybutton.cli.admin import platform_public_key
from paybutton.clikit import DatabaseOpt
from paybutton.db import Database
from paybutton.telemetry.logs import log_config

DEMO_DATABASE = "sqlite+aiosqlite:///paybutton-demo.db"
FD_HELP = ("serve on the listening socket inherited as this file descriptor (systemd socket activation: 3) instead "
           "of binding --host/--port")


async def _ready(db: Database) -> None:
    """Nothing: clikit.run has checked that the database is set up."""


def serve(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000, envvar="PAYBUTTON_PORT"),
    workers: int = typer.Option(1, help="server processes (PostgreSQL: several may share one database)"),
    fd: int | None = typer.Option(None, "--fd", help=FD_HELP, show_default=False),
    migrate: bool = typer.Option(True, "--migrate/--no-migrate", help="apply migrations first"),
    database: str | None = DatabaseOpt,
) -> None:
    """Run the trade server (with the expiry sweeper and the callback dispatcher).

    With --fd N it serves on the listening socket it inherited as file descriptor N (systemd socket activation:
    the service's socket unit binds the port, the server starts on the first connection and restarts without
    refusing any); --host and --port are then not used. --workers share that socket."""
    import uvicorn

    settings = clikit.settings_for(database)
    if not migrate:
        clikit.run(settings.database_url, _ready)  # read-only: a missing or old database says so, port or not
    # The port first: a busy one (or an --fd that is no listening socket) stops before the database is touched.
    # The check socket is closed just before uvicorn binds (its own socket handling, TCP_NODELAY and workers kept
    # as they are; the demo serves on its own). An inherited one is given to uvicorn as it is (its fd).
    sock = clikit.bind(host, port, "--port") if fd is None else clikit.inherited(fd)
    where = clikit.socket_url(sock, "" if fd is not None else host)
    if migrate:
        clikit.migrate(settings.database_url)
    clikit.run(settings.database_url, platform_public_key)  # before the workers fork, so they all sign with one key
    os.environ["PAYBUTTON_DATABASE_URL"] = settings.database_url  # what the workers' create_app reads
    made = ""  # a temporary folder for the workers' metrics, removed when serve ends
    if workers > 1 and settings.metrics_token:
        given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        folder = metrics_dir(os.environ)
        made = "" if given else folder
    typer.echo(f"paybutton serving on {where}  database: {settings.database_url.split('@')[-1]}")
    sock.close()
    listen: dict[str, Any] = {"host": host, "port": port} if fd is None else {"fd": fd}
    # SIGTERM (or Ctrl-C): uvicorn stops accepting, lets the requests in flight finish (up to the grace), then the
    # lifespan stops the workers (app.py, workers.Workers.stop).
    try:
        uvicorn.run("paybutton.app:create_app", factory=True, **listen, workers=workers,
                    log_level=settings.log_level, access_log=False,
                    log_config=log_config(settings.log_format, settings.log_level),
                    timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
                    loop="uvloop" if sys.platform != "win32" else "auto", http="httptools")
    finally:
        if made:  # the temporary folder serve made for the workers' metrics
            shutil.rmtree(made, ignore_errors=True)


def metrics_dir(env: MutableMapping[str, str]) -> str:
    """Several workers count into files: PROMETHEUS_MULTIPROC_DIR as given (emptied of the last run's files),
    else a new temporary folder. Set before the workers start, so each one's prometheus_client sees it."""
    folder = env.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="paybutton-metrics-")
    Path(folder).mkdir(parents=True, exist_ok=True)
    for old in Path(folder).glob("*.db"):
        old.unlink()
    env["PROMETHEUS_MULTIPROC_DIR"] = folder
    return folder


def demo(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000, envvar="PAYBUTTON_PORT", help="trade server port"),
    shop_port: int | None = typer.Option(None, help="demo shop and merchant server port (default port+1)"),
    fd: int | None = typer.Option(None, "--fd", help="the trade server on the listening socket inherited as this "
                                  "file descriptor instead of binding --port", show_default=False),
    shop_fd: int | None = typer.Option(None, "--shop-fd", help="the demo shop on the listening socket inherited as "
                                       "this file descriptor instead of binding --shop-port", show_default=False),
    database: str | None = typer.Option(
        None, "--database", envvar="PAYBUTTON_DATABASE_URL", help=(
            f"database URL (default: PAYBUTTON_DATABASE_URL, then {DEMO_DATABASE}); it gets the demo app, whose "
            "secret is published, so it must be new or made by the demo")),
    allow_foreign_database: bool = typer.Option(False, "--allow-foreign-database", help=(
        "run on a database the demo did not make (it gets the demo app and its published secret)")),
) -> None:
    """Run the demo: trade server, demo shop and demo merchant server, on a SQLite file. Nothing else needed.

    It binds both ports first, then migrates and seeds the database, and prints the `export
    PAYBUTTON_DATABASE_URL=…` line that points the other commands (app, goods, callbacks, …) at it. The database
    must be new or one the demo made: any other is refused unless --allow-foreign-database. With --fd and --shop-fd
    it serves on listening sockets it inherited (systemd socket activation) instead of binding the ports."""
    from paybutton.demo.run import run_demo

    url = clikit.absolute_url(clikit.checked_url(database or DEMO_DATABASE))
    if fd is None and shop_fd is None and (shop_port or port + 1) == port:
        clikit.fail(f"--shop-port {port} is the trade server's --port: give the demo shop a port of its own")
    run_demo(host=host, port=port, shop_port=shop_port, database_url=url, allow_foreign=allow_foreign_database,
             fd=fd, shop_fd=shop_fd)
