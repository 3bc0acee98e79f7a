"""Child processes of the benchmark (server, stub merchant, load generator): started in their own process
group, always stopped in a finally block; CPU accounting from /proc shows where the machine's time went."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

CLK_TCK = os.sysconf("SC_CLK_TCK")


def listening_socket() -> socket.socket:
    """A socket bound to a free port and listening, kept by its maker (the bench, a test) and handed to a child server
    (its --fd): the port cannot be taken between choosing it and serving on it, and a killed server's restart finds
    it its own. The one such helper: tests/listening.py hands this one to the tests."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1024)
    s.set_inheritable(True)
    return s


def port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[Any], output: Callable[[], str], *, name: str = "",
              timeout: float = 60.0, any_status: bool = False) -> httpx.Response:
    """GET url until it answers 200 (with `any_status`, any HTTP answer) and return that answer: the server `proc`
    runs is up. Stop at once when proc exited, or at the deadline; either failure says which and shows `output()`
    (the process's log). The one wait-for-a-server loop of the bench and the tests."""
    who = name or str(proc.args)
    deadline = time.monotonic() + timeout
    last = "no answer"
    with httpx.Client(timeout=2.0, trust_env=False) as client:  # a proxy from the environment must not see 127.0.0.1
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{who} exited with {proc.returncode} before {url} answered:\n{output()}")
            try:
                resp = client.get(url)
                if any_status or resp.status_code == 200:
                    return resp
                last = f"HTTP {resp.status_code}: {resp.text[:200]}"
            except httpx.HTTPError as e:
                last = repr(e)
            if time.monotonic() >= deadline:
                raise RuntimeError(f"{who} did not answer {url} within {timeout} s ({last}):\n{output()}")
            time.sleep(0.05)


class Child:
    """A process (and its process group) the benchmark started; `stop()` ends exactly that group."""

    def __init__(self, name: str, argv: list[str], log_path: Path, env: dict[str, str] | None = None,
                 socks: tuple[socket.socket, ...] = ()) -> None:
        self.name = name
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(
            argv, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, start_new_session=True, pass_fds=[s.fileno() for s in socks],
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def wait_http(self, url: str, timeout: float = 30.0) -> httpx.Response:
        """GET url until it answers 200; fail early, with the log's tail, when the child died."""
        return wait_http(url, self.proc, self.tail, name=self.name, timeout=timeout)

    def wait_with_usage(self, timeout: float) -> tuple[int, float]:
        """Wait for the child to exit: (exit code, CPU seconds it and its reaped children used)."""
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
            if pid:
                self.proc.returncode = os.waitstatus_to_exitcode(status)
                return self.proc.returncode, usage.ru_utime + usage.ru_stime
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} still running after {timeout}s")
            time.sleep(0.05)

    def stop(self, grace: float = 10.0) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        # uvicorn's worker processes share the group: make sure none outlives its parent.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


class Children:
    """Every child of a run; `stop_all()` in a finally block leaves no process behind."""

    def __init__(self) -> None:
        self.items: list[Child] = []

    def start(self, name: str, argv: list[str], log_path: Path, env: dict[str, str] | None = None,
              socks: tuple[socket.socket, ...] = ()) -> Child:
        child = Child(name, argv, log_path, env, socks)
        self.items.append(child)
        return child

    def stop(self, child: Child) -> None:
        child.stop()
        if child in self.items:
            self.items.remove(child)

    def stop_all(self) -> None:
        while self.items:
            self.items.pop().stop()


# ---------------------------------------------------------------- CPU accounting


def _ticks(pid: int) -> int:
    """utime + stime of one process, in clock ticks (0 when it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out.extend(int(x) for x in (task / "children").read_text().split())
    return out


def tree_pids(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo.extend(_children(p))
    return pids


def postgres_pids() -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError):
                if (d / "comm").read_text().strip().startswith("postgres"):
                    out.append(int(d.name))
    return out


def machine_ticks() -> tuple[int, int]:
    """(busy, total) ticks over all CPUs since boot."""
    parts = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(x) for x in parts[:8]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class CpuSampler:
    """CPU used by each named group of process trees (and PostgreSQL) between start() and stop(), in cores.
    A name maps to one root pid or to several (e.g. every server process), summed."""

    def __init__(self, roots: dict[str, int | list[int]]) -> None:
        self.roots = {name: [r] if isinstance(r, int) else r for name, r in roots.items()}
        self._start: dict[str, dict[int, int]] = {}
        self._machine: tuple[int, int] = (0, 0)
        self._t0 = 0.0

    def _snapshot(self) -> dict[str, dict[int, int]]:
        snap = {name: {p: _ticks(p) for pid in pids for p in tree_pids(pid)} for name, pids in self.roots.items()}
        snap["postgres"] = {p: _ticks(p) for p in postgres_pids()}
        return snap

    def start(self) -> None:
        self._start = self._snapshot()
        self._machine = machine_ticks()
        self._t0 = time.monotonic()

    def stop(self) -> dict[str, float]:
        end = self._snapshot()
        busy1, total1 = machine_ticks()
        elapsed = time.monotonic() - self._t0
        out: dict[str, float] = {}
        for name, pids in end.items():
            before = self._start.get(name, {})
            used = sum(t - before.get(p, 0) for p, t in pids.items())
            out[name] = round(used / CLK_TCK / elapsed, 2) if elapsed > 0 else 0.0
        busy0, total0 = self._machine
        ncpu = os.cpu_count() or 1
        out["machine_busy"] = round((busy1 - busy0) / max(1, total1 - total0) * ncpu, 2)
        return out


