"""`paybutton demo` as a real subprocess on free ports and a temp SQLite file, and helpers to run the example
merchant servers (also real subprocesses) against it. The fixtures are re-exported by conftest.py."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
PAYBUTTON = str(Path(sys.executable).parent / "paybutton")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("PAYBUTTON_", "MERCHANT_"))}


class Process:
    """A child process with its output in a log file (shown when it does not come up)."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        self.proc = subprocess.Popen(args, cwd=ROOT, env=_env(), stdout=self._out, stderr=subprocess.STDOUT)

    def wait_http(self, url: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.proc.args} exited {self.proc.returncode}:\n{self.output()}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{url} did not answer in {timeout} s:\n{self.output()}")

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
    port, shop_port = free_port(), free_port()
    database_url = f"sqlite+aiosqlite:///{tmp / 'demo.db'}"
    demo = Process([PAYBUTTON, "demo", "--port", str(port), "--shop-port", str(shop_port), "--database", database_url],
                   tmp / "demo.log")
    try:
        demo.wait_http(f"http://127.0.0.1:{port}/healthz")
        yield Platform(f"http://127.0.0.1:{port}", database_url, tmp)
    finally:
        demo.stop()


@pytest.fixture
def start_process(tmp_path: Path) -> Iterator[Callable[..., Process]]:
    started: list[Process] = []

    def start(args: list[str], name: str) -> Process:
        p = Process(args, tmp_path / f"{name}.log")
        started.append(p)
        return p

    yield start
    for p in reversed(started):
        p.stop()
