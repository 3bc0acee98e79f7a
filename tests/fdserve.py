"""Run a server program on a listening socket its parent made and handed down, never on a port chosen, closed and
bound again later (another process, or an outgoing connection's ephemeral port, can take it in between: "address
already in use").

    sock = listening_socket()          # bound to a free port and listening, kept by the parent
    subprocess.Popen(fd_argv(sock, [sys.executable, "-m", "paybutton.cli", "serve"]), pass_fds=[sock.fileno()])

The child runs the program as it is (`-m module` or a script path, with its own arguments): uvicorn (`paybutton
serve`, the FastAPI example) is given the socket as `fd` (uvicorn's --fd), werkzeug (the Flask example) through its
own WERKZEUG_SERVER_FD. A port the program is told (--port) is then only a label. The parent keeps the socket,
so a server killed and started again on it (the crash test) finds its port still its own."""

from __future__ import annotations

import os
import runpy
import socket
import sys
from pathlib import Path
from typing import Any

HERE = str(Path(__file__).resolve())


def listening_socket() -> socket.socket:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    s.set_inheritable(True)
    return s


def fd_argv(sock: socket.socket, argv: list[str]) -> list[str]:
    """`argv` (a Python interpreter, then `-m module` or a script, then its arguments) run on `sock`."""
    assert argv[0] == sys.executable, "fdserve runs Python programs"
    return [sys.executable, HERE, str(sock.fileno()), *argv[1:]]


def _main() -> None:
    fd, target = int(sys.argv[1]), sys.argv[2:]
    os.environ["WERKZEUG_SERVER_FD"] = str(fd)  # werkzeug.serving.run_simple: serve on this descriptor
    os.environ["WERKZEUG_RUN_MAIN"] = "true"
    import uvicorn

    original = uvicorn.Config.__init__

    def with_fd(self: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        kwargs["fd"] = fd
        original(self, *args, **kwargs)

    uvicorn.Config.__init__ = with_fd  # type: ignore[method-assign]
    sys.path.insert(0, str(Path.cwd()))
    if target[0] == "-m":
        sys.argv = [target[1], *target[2:]]
        runpy.run_module(target[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = list(target)
        sys.path.insert(0, str(Path(target[0]).resolve().parent))
        runpy.run_path(target[0], run_name="__main__")


if __name__ == "__main__":
    _main()
