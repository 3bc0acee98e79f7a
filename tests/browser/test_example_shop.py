"""examples/README.md in a browser: a real `paybutton serve` on a fresh database (after `paybutton db upgrade`), an
app, its good and its origin made by the CLI as the README says, and the example merchant server (Flask, then
FastAPI) as a real process on another port, so another origin. Its buy page at / sells the good with paybutton's
<pay-button>: tap, confirm, pay in the sandbox cashier, and the page shows `paid: <orderId>` for an order that the
database holds as paid, placed at the example's pre_create_order and notified to it."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_helpers import shot
from listening import listening_socket, port_of, wait_http

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PAYBUTTON = str(Path(sys.executable).parent / "paybutton")
EXAMPLES = {"flask": ("examples/flask_merchant.py", "FLASK"), "fastapi": ("examples/fastapi_merchant.py", "FASTAPI")}
OVERLAY = "[data-pay-button-overlay] iframe"


@dataclass
class Platform:
    url: str
    folder: Path

    @property
    def database(self) -> Path:
        return self.folder / "paybutton.db"

    def env(self) -> dict[str, str]:
        """A reader's shell: PAYBUTTON_DATABASE_URL points the CLI (and the server) at the database."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PAYBUTTON_", "MERCHANT_"))}
        return {**env, "PAYBUTTON_CONFIG": str(self.folder / "absent.toml"),
                "PAYBUTTON_DATABASE_URL": f"sqlite+aiosqlite:///{self.database}"}

    def cli(self, *args: str) -> str:
        out = subprocess.run([PAYBUTTON, *args], cwd=self.folder, env=self.env(), capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, f"paybutton {' '.join(args)}: {out.stdout}{out.stderr}"
        return out.stdout

    def start(self, args: list[str], name: str, sock: socket.socket) -> subprocess.Popen[bytes]:
        """A server program on `sock` (its `--fd`), bound and listening already (tests/listening.py): its port
        cannot be lost."""
        with (self.folder / f"{name}.log").open("wb") as log:
            return subprocess.Popen(args, cwd=ROOT, env=self.env(), stdout=log,
                                    stderr=subprocess.STDOUT, pass_fds=[sock.fileno()])

    def wait_http(self, proc: subprocess.Popen[bytes], url: str, name: str) -> None:
        """Until `url` answers 200; the program's log (`start`'s) when it exits first or the minute is up."""
        wait_http(url, proc, lambda: (self.folder / f"{name}.log").read_text(errors="replace"), name=name)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """`paybutton db upgrade`, then `paybutton serve` on a free port: the trade server a merchant runs."""
    folder = tmp_path_factory.mktemp("example-shop")
    sock = listening_socket()
    p = Platform(f"http://127.0.0.1:{port_of(sock)}", folder)
    p.cli("db", "upgrade")
    server = p.start([sys.executable, "-m", "paybutton.cli", "serve", "--fd", str(sock.fileno())], "paybutton", sock)
    try:
        p.wait_http(server, f"{p.url}/healthz", "paybutton")
        yield p
    finally:
        stop(server)
        sock.close()


@pytest.fixture
def sockets() -> Iterator[Callable[[], socket.socket]]:
    """Listening sockets for the example servers, closed at teardown."""
    made: list[socket.socket] = []

    def make() -> socket.socket:
        made.append(listening_socket())
        return made[-1]

    yield make
    for s in made:
        s.close()


@pytest.fixture
def started() -> Iterator[Callable[[subprocess.Popen[bytes]], subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def keep(proc: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
        procs.append(proc)
        return proc

    yield keep
    for proc in reversed(procs):
        stop(proc)


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_a_paid_order_from_the_example_shop_page(example: str, platform: Platform, page: Any,
                                                started: Callable[[subprocess.Popen[bytes]], Any],
                                                sockets: Callable[[], socket.socket]) -> None:
    script, prefix = EXAMPLES[example]
    sock = sockets()
    port = port_of(sock)
    merchant = f"http://127.0.0.1:{port}"
    # the README's steps: an app whose callbacks and login go to the example, its good, the example's origin
    app = json.loads(platform.cli(
        "app", "create", "--name", f"{example} shop", "--json",
        "--pre-order-url", f"{merchant}/callbacks/pre_create_order",
        "--payment-notify-url", f"{merchant}/callbacks/payment", "--refund-url", f"{merchant}/callbacks/refund",
        "--login-url", f"{merchant}/login", "--marketing-url", f"{merchant}/callbacks/marketing"))
    app_id, secret = app["app_id"], app["secret"]
    platform.cli("goods", "add", "--app", app_id, "--id", "hotpot", "--name", "双人火锅套餐", "--price", "16800",
                 "--stock", "100")
    platform.cli("app", "update", app_id, "--add-origin", merchant)
    server = started(platform.start([sys.executable, script, "--platform-url", platform.url, "--app-id", app_id,
                                     "--secret", secret, "--fd", str(sock.fileno())], example, sock))
    platform.wait_http(server, f"{merchant}/", example)

    page.goto(f"{merchant}/")
    page.wait_for_selector("pay-button button[data-state=on_sale]")
    assert page.locator("#goods-name").inner_text() == "双人火锅套餐"
    assert page.locator("#goods-price").inner_text() == "¥168.00"
    page.click("pay-button button")
    f = page.frame_locator(OVERLAY)
    f.locator("#pay-now:enabled").wait_for()
    assert f.locator("[data-testid=goods-name]").inner_text() == "双人火锅套餐"
    assert f.locator("[data-testid=price]").inner_text() == "¥168.00"
    f.locator("#pay-now").click()
    f.locator("#confirm-pay:enabled").wait_for()
    assert f.locator("[data-testid=sandbox]").inner_text() == "沙盒"
    shot(page, f"example-shop-{example}-cashier")
    f.locator("#confirm-pay").click()
    page.wait_for_function("document.getElementById('result').textContent.startsWith('paid: ')")
    order_id = page.locator("#result").inner_text().removeprefix("paid: ")
    assert order_id.startswith("ot")
    assert page.locator("#error").inner_text() == ""
    assert page.locator("[data-pay-button-overlay]").count() == 0
    shot(page, f"example-shop-{example}-paid")

    with sqlite3.connect(platform.database) as c:
        row = c.execute("SELECT app_id, status, out_order_no, total_amount FROM orders WHERE order_id = ?",
                        (order_id,)).fetchone()
    assert row == (app_id, "SUCCESS", f"{prefix}-{order_id}", 16800)

    def notified() -> list[dict[str, Any]]:
        got = httpx.get(f"{merchant}/received", timeout=5, trust_env=False).json()["callbacks"]
        return [c for c in got if c.get("type") == "payment" and c["msg"].get("order_id") == order_id]

    deadline = time.monotonic() + 30
    while not notified() and time.monotonic() < deadline:
        time.sleep(0.2)
    (paid,) = notified()
    assert paid["verified"] and paid["msg"]["status"] == "SUCCESS"


def test_the_page_says_what_is_wrong_when_the_origin_is_not_allowed(platform: Platform, page: Any,
                                                                    started: Callable[..., Any],
                                                                    sockets: Callable[[], socket.socket]) -> None:
    """The step the README insists on: without `--add-origin` the button cannot reach paybutton, and the page shows
    the error it gets (a face for the failure, not a silent button)."""
    script, _ = EXAMPLES["flask"]
    sock = sockets()
    port = port_of(sock)
    merchant = f"http://127.0.0.1:{port}"
    app = json.loads(platform.cli("app", "create", "--name", "no origin", "--json",
                                  "--login-url", f"{merchant}/login"))
    platform.cli("goods", "add", "--app", app["app_id"], "--id", "hotpot", "--name", "火锅", "--price", "100",
                 "--stock", "1")
    server = started(platform.start([sys.executable, script, "--platform-url", platform.url, "--app-id",
                                     app["app_id"], "--secret", app["secret"], "--fd", str(sock.fileno())],
                                     "no-origin", sock))
    platform.wait_http(server, f"{merchant}/", "no-origin")
    page.goto(f"{merchant}/")
    # the bridge says at once that the origin is not allowed: 21505 (goods info) or 21507 (pay capability), whichever
    # comes first, naming the origin and the command that allows it (issue 18 item 6)
    page.wait_for_function("document.getElementById('error').textContent.startsWith('error ')", timeout=5000)
    shot(page, "example-shop-origin-not-allowed")
    error = page.locator("#error").inner_text()
    assert error.startswith(("error 21505", "error 21507")), error
    assert f"paybutton app update {app['app_id']} --add-origin {merchant}" in error, error
    assert page.locator("#result").inner_text() == ""
