"""Listening sockets for the tests' subprocess servers: the test binds a free port, listens, keeps the socket and
hands it down (`paybutton serve --fd N`, `paybutton demo --fd N --shop-fd M`, the examples' `--fd N`), so no
other process, and no outgoing connection's ephemeral port, can take the port between choosing it and serving
on it. A server killed and started again on the same socket (the crash tests) finds its port still its own.

    sock = listening_socket()
    subprocess.Popen([..., "serve", "--fd", str(sock.fileno())], pass_fds=[sock.fileno()])"""

from __future__ import annotations

import socket


def listening_socket() -> socket.socket:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    s.set_inheritable(True)
    return s


def port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])
