"""A live `paybutton serve` under a stream of 100 MB bodies at the unauthenticated /oauth/client_token/:
each gets 413 and the server's memory stays flat (issue 10: it once grew from 129 to 429 MB)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from listening import listening_socket, port_of, wait_http

MB = 1024 * 1024
TOTAL = 100 * MB
CHUNK = 64 * 1024


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, int]]:
    sock = listening_socket()  # kept: the server serves on it (--fd), its port cannot be lost
    port = port_of(sock)
    exe = str(Path(sys.executable).with_name("paybutton"))
    env = {**os.environ, "PAYBUTTON_RUN_WORKERS": "false"}
    proc = subprocess.Popen([exe, "serve", "--fd", str(sock.fileno()), "--database",
                             f"sqlite+aiosqlite:///{tmp_path / 'pb.db'}"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=[sock.fileno()])
    try:
        # 90 s only guards against a hang: a loaded 2-core machine takes 15 s or more to start it
        wait_http(f"http://127.0.0.1:{port}/healthz", proc, lambda: "(its output is not kept)", timeout=90)
        yield port, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        sock.close()


def stream(port: int, chunked: bool) -> tuple[int, int, bytes]:
    """Send up to 100 MB, generated on the fly, until the server stops taking it; (bytes sent, status, body)."""
    head = [b"POST /oauth/client_token/ HTTP/1.1", b"Host: 127.0.0.1", b"Content-Type: application/json"]
    head.append(b"Transfer-Encoding: chunked" if chunked else f"Content-Length: {TOTAL}".encode())
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"\r\n".join(head) + b"\r\n\r\n")
        piece = b"[" + b" " * (CHUNK - 1)
        frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece
        s.settimeout(0.5)
        try:
            while sent < TOTAL:
                s.sendall(frame)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # the server answered and stopped reading
        s.settimeout(10)
        answer = b""
        try:
            while b"\r\n\r\n" not in answer or len(answer) < answer.index(b"\r\n\r\n") + 40:
                got = s.recv(65536)
                if not got:
                    break
                answer += got
        except (ConnectionResetError, TimeoutError):
            pass
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    return sent, status, answer


def test_a_stream_of_100_mb_bodies_gets_413_with_flat_memory(server: tuple[int, int]) -> None:
    port, pid = server
    # warm the process up (imports, first request) before the baseline
    ok = httpx.post(f"http://127.0.0.1:{port}/oauth/client_token/", json={"grant_type": "x"})
    assert ok.status_code == 200
    before = rss_kb(pid)
    results = [stream(port, chunked=i % 2 == 0) for i in range(6)]
    after = rss_kb(pid)
    for _sent, status, answer in results:
        assert status == 413, answer[:300]
        assert b'"error_code":2100005' in answer.replace(b" ", b""), answer[:300]
    # the server stopped reading long before 100 MB
    assert all(sent < 20 * MB for sent, _, _ in results), [r[0] for r in results]
    growth_mb = (after - before) / 1024
    print(f"server RSS {before // 1024} MB -> {after // 1024} MB over 6 x 100 MB streams")
    assert growth_mb < 50, growth_mb
    # and it still serves
    assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
