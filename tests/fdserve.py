"""Run a server program on a listening socket its parent made and handed down, never on a port chosen, closed and
bound again later (another process, or an outgoing connection's ephemeral port, can take it in between: "address
already in use").

    sock = listening_socket()          # bound to a free port and listening, kept by the parent
    port = port_of(sock)
    subprocess.Popen(fd_argv([sock], [sys.executable, "-m", "paybutton.cli", "serve", "--port", str(port)]),
                     pass_fds=[sock.fileno()])

The child runs the program as it is (`-m module` or a script path, with its own arguments, which name the ports
as usual): each uvicorn server it makes (`paybutton serve`, `paybutton demo`'s two, the FastAPI example) is given
the socket of its port as `fd` (uvicorn's --fd); werkzeug (the Flask example) takes the first socket through its
own WERKZEUG_SERVER_FD. The parent keeps the sockets, so a server killed and started again on one (the crash
test) finds its port still its own."""

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


def port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def fd_argv(socks: list[socket.socket], argv: list[str]) -> list[str]:
    """`argv` (a Python interpreter, then `-m module` or a script, then its arguments) run on `socks` (Popen them
    with pass_fds=[s.fileno() for s in socks])."""
    assert argv[0] == sys.executable, "fdserve runs Python programs"
    fds = ",".join(f"{port_of(s)}={s.fileno()}" for s in socks)
    return [sys.executable, HERE, fds, *argv[1:]]


def _main() -> None:
    fds = {int(p): int(f) for p, f in (pair.split("=") for pair in sys.argv[1].split(","))}
    target = sys.argv[2:]
    os.environ["WERKZEUG_SERVER_FD"] = str(next(iter(fds.values())))  # werkzeug.serving.run_simple's socket
    os.environ["WERKZEUG_RUN_MAIN"] = "true"
    import uvicorn

    original = uvicorn.Config.__init__

    def with_fd(self: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        fd = fds.get(int(kwargs.get("port") or 0))
        if fd is not None:
            kwargs["fd"] = fd
        original(self, *args, **kwargs)

    uvicorn.Config.__init__ = with_fd  # type: ignore[method-assign]

    # paybutton's own port check (clikit.bind: `serve` checks its port first, `demo` serves on the sockets it
    # bound) gets a copy of the handed-down socket: the parent's listening socket is the port's, so binding it again
    # would say "busy"; a copy (os.dup) may be closed by `serve`'s check without closing the fd uvicorn is given
    from paybutton import clikit

    own_bind = clikit.bind

    def inherited(host: str, port: int, option: str, hint: str = "") -> socket.socket:
        fd = fds.get(int(port))
        return own_bind(host, port, option, hint) if fd is None else socket.socket(fileno=os.dup(fd))

    clikit.bind = inherited
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
