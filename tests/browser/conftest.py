"""Browser tests: the demo (trade server + demo shop on a second origin) live on free ports, fresh SQLite each
test, driven by Playwright on Debian's Chromium."""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import CHROMIUM, WAIT_MS, Demo, open_page


def bound_socket() -> socket.socket:
    """A socket bound to a free port, kept until its server takes it (choosing a port, closing it and binding it
    again later lost the port to another process now and then: "address already in use")."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from paybutton.db import upgrade

    path = tmp_path_factory.mktemp("browser") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def _start_demo(start: Any, tmp_path: Path, template: Path, *, clock: Any = None, **settings: Any) -> Demo:
    """`settings` override the trade server's (e.g. run_workers=True); `clock` is its clock (default: the system's)."""
    from paybutton.app import create_app
    from paybutton.config import Settings
    from paybutton.demo.run import prepare, shop_app

    db = tmp_path / "demo.db"
    shutil.copy(template, db)
    url = f"sqlite+aiosqlite:///{db}"
    sock, shop_sock = bound_socket(), bound_socket()  # kept bound until the servers take them: no port race
    port, shop_port = sock.getsockname()[1], shop_sock.getsockname()[1]
    server_url, shop_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{shop_port}"
    out: dict[str, Any] = {}

    def _prepare() -> None:  # its own thread: Playwright's sync API owns this thread's event loop
        out["r"] = asyncio.run(prepare(url, server_url, shop_url))

    t = threading.Thread(target=_prepare)
    t.start()
    t.join()
    public_pem, seeded = out["r"]
    trade = create_app(Settings(**{"database_url": url, "demo": True, "public_url": server_url, "run_workers": False,
                                   **settings}), clock=clock)
    start(trade, sock=sock)
    start(shop_app(server_url, public_pem, seeded["goods"]), sock=shop_sock)
    return Demo(server=server_url, shop=shop_url)


@pytest.fixture
def demo(live_factory: Any, tmp_path: Path, _template_db: Path) -> Demo:
    """The two apps of `paybutton demo`, built as demo/run.py builds them, served by live_factory on a fresh
    SQLite file: for journeys that change data."""
    return _start_demo(live_factory, tmp_path, _template_db)


@pytest.fixture
def demo_factory(live_factory: Any, tmp_path: Path, _template_db: Path) -> Any:
    """Start the demo with options: `clock=` and trade-server settings (e.g. run_workers=True). The SQLite file is
    tmp_path / "demo.db"."""

    def make(**options: Any) -> Demo:
        return _start_demo(live_factory, tmp_path, _template_db, **options)

    return make


@pytest.fixture(scope="module")
def shared_demo(tmp_path_factory: pytest.TempPathFactory, _template_db: Path) -> Iterator[Demo]:
    """One demo for a module of read-only button tests (the servers start once)."""
    import time

    import uvicorn

    servers: list[tuple[Any, threading.Thread]] = []

    def start(app: Any, sock: socket.socket) -> None:
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=sock.getsockname()[1],
                                               log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.time() + 20
        while not server.started:
            if time.time() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        servers.append((server, thread))

    yield _start_demo(start, tmp_path_factory.mktemp("shared"), _template_db)
    for server, thread in reversed(servers):
        server.should_exit = True
        thread.join(timeout=10)


# One Chromium per test file, not per session: Playwright's sync API keeps an event loop running in this thread
# while it is open, and under xdist (`make test`) a worker may run other files after a browser file; those start
# their own loops (asyncio.run), which a running one forbids. A closed Playwright leaves no loop behind.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's Chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)  # expect(...) waits for its state as long as a page step may take
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM,
                               args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx, p = open_page(browser, "phone", locale="zh-CN")
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    yield p
    ctx.close()
    assert not errors, f"uncaught errors in the page: {errors}"
