"""`paybutton serve --no-migrate` (the tests' databases are migrated) as a subprocess on a listening socket the
test keeps (`--fd`, tests/listening.py), for the tests of what an operator sees: JSON logs, SIGTERM. `start` waits until
it answers; `stop` sends SIGTERM and waits. `library_shop` makes the app such a server sells from: one library good
"g" at 990 fen, stock 5."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from listening import port_of, wait_http

from paybutton.apps import service as app_service
from paybutton.clock import SystemClock
from paybutton.config import Settings
from paybutton.db import Database
from paybutton.goods.service import create_goods

TESTS = Path(__file__).resolve().parent


def start(db_url: str, sock: socket.socket, log: Path, *args: str, **env: str) -> subprocess.Popen[bytes]:
    port = port_of(sock)
    full = {**os.environ, "PAYBUTTON_DATABASE_URL": db_url, "PAYBUTTON_SWEEP_INTERVAL_SECONDS": "0.2",
            "PAYBUTTON_DISPATCH_INTERVAL_SECONDS": "0.2",
            "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]), **env}
    with log.open("ab") as err, open(os.devnull, "wb") as out:  # stdout: the banner; stderr: the log lines
        proc = subprocess.Popen([sys.executable, "-m", "paybutton.cli", "serve", "--fd", str(sock.fileno()),
                                 "--no-migrate", *args], env=full, stdout=out, stderr=err, pass_fds=[sock.fileno()])
    try:  # any answer will do: it is serving. A loaded 2-core machine takes 15 s or more to start it.
        wait_http(f"http://127.0.0.1:{port}/healthz", proc, log.read_text, name="paybutton serve", timeout=90,
                  any_status=True)
    except RuntimeError:
        proc.kill()  # the caller gets no process to stop
        proc.wait()
        raise
    return proc


def stop(proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    """SIGTERM, then wait for a clean end: uvicorn finishes its shutdown (the lifespan's included), then raises
    the signal again for its parent to see (exit -15)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError("the server did not stop on SIGTERM: " + log.read_text()[-3000:]) from None
    text = log.read_text()
    assert code in (0, -signal.SIGTERM), f"exit {code}: {text[-3000:]}"
    assert "Application shutdown complete" in text and "Finished server process" in text, text[-3000:]


async def library_shop(db_url: str, name: str, **app_fields: Any) -> dict[str, Any]:
    """A new app (`app_fields` as create_app takes them) selling one library good "g": 990 fen, stock 5, 1-9 a time."""
    db = Database(Settings(database_url=db_url))
    try:
        async with db.tx() as conn:
            app = await app_service.create_app(conn, SystemClock(), name=name, **app_fields)
            await create_goods(conn, SystemClock(), app_id=app["app_id"], goods_id="g", name="g", price=990,
                               stock=5, max_limits=9)
    finally:
        await db.dispose()
    return app
