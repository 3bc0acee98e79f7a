"""Listening sockets for the tests' subprocess servers, and the wait until such a server answers. The test binds a
free port, listens, keeps the socket and hands it down (`paybutton serve --fd N`, `paybutton demo --fd N --shop-fd
M`, the examples' `--fd N`), so no other process, and no outgoing connection's ephemeral port, can take the port
between choosing it and serving on it. A server killed and started again on the same socket (the crash tests) finds
its port still its own. `wait_http` polls a URL until it answers, and stops at once, with the process's output, when
the process exited.

    sock = listening_socket()
    proc = subprocess.Popen([..., "serve", "--fd", str(sock.fileno())], pass_fds=[sock.fileno()], stdout=log, ...)
    wait_http(f"http://127.0.0.1:{port_of(sock)}/healthz", proc, log_path.read_text)

The code is the bench's (bench/procs.py), which starts its servers the same way: one home for both, and the bench
imports nothing from tests/."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[1]))  # the repository's root: `bench` is not installed

import socket

from bench.procs import listening_socket, port_of, wait_http

__all__ = ["free_port", "listening_socket", "port_of", "wait_http"]


def free_port() -> int:
    """A port the system just gave out and nobody holds now: the address of a server that is down (a connection to
    it is refused), or one a command is told to bind while the test is about its other port. A server the test
    starts gets a listening_socket() instead."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
