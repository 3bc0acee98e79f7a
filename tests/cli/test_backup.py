"""`paybutton db backup` / `db restore` (issue 23): a backup taken while a live `paybutton serve` takes and pays
orders restores to a database that `paybutton check` finds whole; restore refuses a database in use and a file that
is not a paybutton database; a path that cannot be written is one line and exit 2; nothing changes on a refusal.
PostgreSQL: both commands print the pg_dump / pg_restore commands and write nothing."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from listening import listening_socket, port_of, wait_http
from typer.testing import CliRunner

from paybutton import buyer_token
from paybutton.cli import cli
from paybutton.db import upgrade

runner = CliRunner()


def cli_run(*args: str) -> Any:
    return runner.invoke(cli, list(args))


def one_line_exit_2(result: Any, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.output.strip().count("\n") == 0, result.output
    for w in words:
        assert w in result.output, result.output


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def orders_in(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM orders WHERE status = 'SUCCESS'").fetchone()[0])


class Traffic(threading.Thread):
    """A buyer placing and paying orders against the live server until stopped."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.url, self.token, self.paid, self.errors = url, token, 0, []  # type: ignore[var-annotated]
        self.done = threading.Event()

    def run(self) -> None:
        h = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.url, trust_env=False, timeout=10) as http:
            while not self.done.is_set():
                o = http.post("/api/buyer/v1/orders", headers=h, json={"goods_id": "g", "goods_type": 1,
                                                                       "quantity": 1})
                p = http.post(f"/api/buyer/v1/orders/{o.json()['order_id']}/pay", headers=h,
                              json={"channel": "douyin"}) if o.status_code == 200 else o
                if p.status_code == 200 and p.json().get("outcome") == "SUCCESS":
                    self.paid += 1
                else:
                    self.errors.append(p.text)

    def wait_for(self, paid: int) -> None:
        deadline = time.monotonic() + 30
        while self.paid < paid:
            assert time.monotonic() < deadline and not self.errors, self.errors[:3]
            time.sleep(0.05)


def serve(tmp: Path, url: str) -> tuple[subprocess.Popen[str], str, Any, Any]:
    sock = listening_socket()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYBUTTON_")}
    log = (tmp / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "paybutton.cli", "serve", "--fd", str(sock.fileno()),
                             "--database", url],
                            env={**env, "PAYBUTTON_CONFIG": str(tmp / "absent.toml")}, stdout=log,
                            stderr=subprocess.STDOUT, text=True, pass_fds=[sock.fileno()])
    base = f"http://127.0.0.1:{port_of(sock)}"
    wait_http(base + "/healthz", proc, (tmp / "serve.log").read_text)
    return proc, base, sock, log


def test_backup_during_traffic_restore_and_check(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    url = f"sqlite:///{live}"
    upgrade(url)
    app = json.loads(cli_run("app", "create", "--name", "Shop", "--json", "--database", url)
                     .output)
    assert cli_run("goods", "add", "--app", app["app_id"], "--id", "g", "--name", "G", "--price", "100",
                   "--stock", "100000", "--database", url).exit_code == 0
    proc, base, sock, log = serve(tmp_path, url)
    traffic = Traffic(base, buyer_token.mint(app["app_id"], app["secret"], "u1"))
    try:
        traffic.start()
        traffic.wait_for(5)
        backup = tmp_path / "backups" / "copy.db"
        backup.parent.mkdir()
        made = cli_run("db", "backup", str(backup), "--database", url)
        assert made.exit_code == 0 and "backed up" in made.output, made.output
        paid_at_backup = traffic.paid
        traffic.wait_for(paid_at_backup + 5)  # the server went on selling while and after it was copied
        traffic.done.set()
        traffic.join(10)
        # an idle server holds no SQLite lock: its claim on live.db-inuse is what refuses the restore
        refused = cli_run("db", "restore", str(backup), "--database", url)
        one_line_exit_2(refused, "in use by a running paybutton", "nothing was restored")
        assert not list(tmp_path.glob("live.db.replaced-*"))
        assert httpx.get(base + "/healthz", trust_env=False, timeout=5).status_code == 200
    finally:
        traffic.done.set()
        traffic.join(10)
        proc.terminate()
        proc.wait(20)
        sock.close()
        log.close()
    assert not traffic.errors, traffic.errors[:3]
    assert 5 <= orders_in(backup) < orders_in(live)  # a snapshot from the middle of the traffic
    restored = tmp_path / "restored.db"
    put = cli_run("db", "restore", str(backup), "--database", f"sqlite:///{restored}")
    assert put.exit_code == 0 and "restored" in put.output, put.output
    checked = cli_run("check", "--database", f"sqlite:///{restored}")
    assert checked.exit_code == 0 and "ok: no broken invariant" in checked.output, checked.output
    assert orders_in(restored) == orders_in(backup)
    # the server stopped: restoring over the live database now works, and keeps the one it replaced
    before = orders_in(live)
    over = cli_run("db", "restore", str(backup), "--database", url)
    assert over.exit_code == 0, over.output
    (kept,) = tmp_path.glob("live.db.replaced-*")
    assert orders_in(kept) == before and orders_in(live) == orders_in(backup)
    assert cli_run("check", "--database", url).exit_code == 0


def test_bad_backup_and_restore_input_changes_nothing(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    url = f"sqlite:///{live}"
    upgrade(url)
    assert cli_run("app", "create", "--name", "Shop", "--database", url).exit_code == 0
    good = tmp_path / "good.db"
    assert cli_run("db", "backup", str(good), "--database", url).exit_code == 0
    one_line_exit_2(cli_run("db", "backup", str(good), "--database", url), "exists", "--force")
    assert cli_run("db", "backup", str(good), "--force", "--database", url).exit_code == 0
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    one_line_exit_2(cli_run("db", "backup", str(blocker / "copy.db"), "--database", url), "cannot write")
    one_line_exit_2(cli_run("db", "backup", str(tmp_path / "no" / "such" / "copy.db"), "--database", url),
                    "cannot write")
    one_line_exit_2(cli_run("db", "backup", str(good), "--database", f"sqlite:///{tmp_path / 'missing.db'}"))
    assert not (tmp_path / "missing.db").exists()

    was = digest(live)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all\n" * 100)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    for bad, why in ((junk, "is not a paybutton database"), (other, "is not a paybutton database"),
                     (tmp_path / "absent.db", "is not a file"), (tmp_path, "is not a file")):
        one_line_exit_2(cli_run("db", "restore", str(bad), "--database", url), why)
    one_line_exit_2(cli_run("db", "restore", str(good), "--database", f"sqlite:///{blocker / 'x.db'}"),
                    "cannot write")
    assert digest(live) == was and not list(tmp_path.glob("live.db.replaced-*"))
    assert not list(tmp_path.glob(".*partial*")) and not list(tmp_path.glob(".*restoring*"))


def test_postgresql_prints_the_commands_and_writes_nothing(tmp_path: Path, db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        return  # SQLite is the other tests'
    out = tmp_path / "pg.dump"
    made = cli_run("db", "backup", str(out), "--database", db_url)
    assert made.exit_code == 0, made.output
    assert "wrote nothing" in made.output and f"pg_dump --format=custom --no-owner --file={out} " in made.output
    assert "postgresql://postgres@127.0.0.1:5432/" in made.output and "+asyncpg" not in made.output
    back = cli_run("db", "restore", str(out), "--database", db_url)
    assert back.exit_code == 0 and "pg_restore --clean --if-exists --no-owner --single-transaction" in back.output
    assert not out.exists()


@pytest.mark.parametrize("bad_url", ["mysql://u@h/db"])
def test_a_database_that_is_neither(bad_url: str, tmp_path: Path) -> None:
    one_line_exit_2(cli_run("db", "backup", str(tmp_path / "x.db"), "--database", bad_url))
