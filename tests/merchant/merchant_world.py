"""`paybutton demo` as a real subprocess on free ports and a temp SQLite file, and helpers to run the example
merchant servers (also real subprocesses) against it. The fixtures are re-exported by conftest.py."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from listening import listening_socket, port_of, wait_http

ROOT = Path(__file__).resolve().parents[2]
PAYBUTTON = str(Path(sys.executable).parent / "paybutton")


def listening() -> tuple[socket.socket, int]:
    """A socket bound to a free port and listening, for a child server (tests/listening.py), and its port."""
    s = listening_socket()
    return s, port_of(s)


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("PAYBUTTON_", "MERCHANT_"))}


class Process:
    """A child process with its output in a log file (shown when it does not come up). A server is given the
    listening sockets of its ports (`socks`, named in `args` by --fd and --shop-fd): it never binds a port someone
    else could have taken meanwhile."""

    def __init__(self, args: list[str], log: Path, socks: list[socket.socket]) -> None:
        self.log = log
        self._out = log.open("wb")
        self.socks = socks
        self.proc = subprocess.Popen(args, cwd=ROOT, env=_env(), stdout=self._out,
                                     stderr=subprocess.STDOUT, pass_fds=[s.fileno() for s in socks])

    def wait_http(self, url: str, timeout: float = 60) -> None:
        wait_http(url, self.proc, self.output, timeout=timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self._out.close()
        for s in self.socks:
            s.close()


@dataclass
class Platform:
    url: str
    database_url: str
    tmp: Path

    def cli(self, *args: str) -> Any:
        """Run the real CLI on the demo's database; its --json output."""
        out = subprocess.run([PAYBUTTON, *args, "--json", "--database", self.database_url], cwd=ROOT, env=_env(),
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """`paybutton demo` on free ports and a fresh SQLite file, with its sweeper and dispatcher running."""
    tmp = tmp_path_factory.mktemp("demo")
    (sock, port), (shop_sock, _) = listening(), listening()
    database_url = f"sqlite+aiosqlite:///{tmp / 'demo.db'}"
    demo = Process([sys.executable, "-m", "paybutton.cli", "demo", "--fd", str(sock.fileno()), "--shop-fd",
                    str(shop_sock.fileno()), "--database", database_url], tmp / "demo.log", [sock, shop_sock])
    try:
        demo.wait_http(f"http://127.0.0.1:{port}/healthz")
        yield Platform(f"http://127.0.0.1:{port}", database_url, tmp)
    finally:
        demo.stop()


@pytest.fixture
def start_process(tmp_path: Path) -> Iterator[Callable[..., Process]]:
    started: list[Process] = []

    def start(args: list[str], name: str, socks: list[socket.socket]) -> Process:
        p = Process(args, tmp_path / f"{name}.log", socks)
        started.append(p)
        return p

    yield start
    for p in reversed(started):
        p.stop()
