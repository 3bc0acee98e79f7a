"""`paybutton serve --fd N` and `paybutton demo --fd N --shop-fd M`: serving on a listening socket the process
inherited (systemd socket activation), and anything else given as --fd refused in one line, exit 2, before any
database is touched."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from listening import listening_socket, port_of, wait_http
from test_cli_edges import dump, one_line_error
from test_cli_money_and_database import clean_env
from typer.testing import CliRunner

from paybutton.cli import cli

runner = CliRunner()
HINT = "give the number of a listening socket this process inherited"


def not_listening() -> Iterator[tuple[str, int, str]]:
    """(what, fd, the error's words) for every kind of bad --fd; the descriptors stay open while the test runs."""
    bound = socket.socket()
    bound.bind(("127.0.0.1", 0))  # bound, never listening
    udp = socket.socket(type=socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    with open(__file__, "rb") as f, bound, udp:
        yield "a file", f.fileno(), "is not a socket"
        yield "a bound socket that does not listen", bound.fileno(), "is a socket that is not listening"
        yield "a UDP socket", udp.fileno(), "is a socket that is not listening"
        yield "no such descriptor", 1000, "is not an open file descriptor"


def run(tmp: Path, *args: str, fds: tuple[int, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "paybutton.cli", *args], cwd=tmp, env=clean_env(tmp),
                          capture_output=True, text=True, timeout=120, pass_fds=fds)


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_an_fd_that_is_no_listening_socket_is_one_line(db_url: str, tmp_path: Path, command: str) -> None:
    """Each kind of wrong descriptor: one line naming it, exit 2, the database unchanged (the fixture's, SQLite and
    PostgreSQL) and no new SQLite file made."""
    before = dump(db_url)
    fresh = tmp_path / "new" / "paybutton.db"
    for what, fd, words in not_listening():
        for url in (db_url, f"sqlite+aiosqlite:///{fresh}"):
            r = runner.invoke(cli, [command, "--fd", str(fd), "--database", url], env=clean_env(tmp_path))
            one_line_error(r, f"--fd {fd} {words}", HINT)
        if what == "a bound socket that does not listen":  # and a real process says it the same, no traceback
            out = run(tmp_path, command, "--fd", str(fd), "--database", db_url, fds=(fd,))
            one_line_error(out, f"--fd {fd} {words}", HINT)
    assert dump(db_url) == before
    assert not fresh.parent.exists()


def test_the_demo_shop_fd_is_checked_too(tmp_path: Path) -> None:
    with listening_socket() as trade:
        out = run(tmp_path, "demo", "--fd", str(trade.fileno()), "--shop-fd", "1000",
                  "--database", f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}", fds=(trade.fileno(),))
    one_line_error(out, "--shop-fd 1000 is not an open file descriptor", HINT)
    assert not (tmp_path / "demo.db").exists()


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_answers_on_the_socket_it_was_given(tmp_path: Path, workers: int) -> None:
    """The test binds and keeps the socket; serve (and each of its --workers) answers on it, and says where."""
    sock = listening_socket()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "paybutton.cli", "serve", "--fd", str(sock.fileno()),
                                 "--workers", str(workers), "--database",
                                 f"sqlite+aiosqlite:///{tmp_path / 'pb.db'}"], cwd=tmp_path, env=clean_env(tmp_path),
                                stdout=out, stderr=subprocess.STDOUT, text=True, pass_fds=[sock.fileno()])
    try:
        r = wait_http(f"http://127.0.0.1:{port_of(sock)}/healthz", proc, log.read_text, timeout=90, any_status=True)
        assert r.status_code == 200 and r.json()["ok"] is True
        assert f"paybutton serving on http://127.0.0.1:{port_of(sock)}" in log.read_text()
        # uvicorn takes an fd for a Unix socket and sets no TCP_NODELAY; serve sets it on the listener (this very
        # socket), whose connections inherit it: without it Nagle held answers back (a third fewer orders/s).
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        sock.close()
