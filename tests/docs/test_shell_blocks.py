"""Docs that run: every shell block (```sh, bash, shell, console) of README.md, docs/*.md, examples/README.md and
bench/README.md is run by bash (`set -euo pipefail`, curl with --fail-with-body) against a fresh `paybutton demo`,
in the order a reader meets them, in a temp folder standing for a fresh clone (`.venv` and `examples/` linked in,
the demo's default database `paybutton-demo.db` in it, PAYBUTTON_DATABASE_URL pointing at it). A doc step that
fails fails the test with its file:line, the block and its output.

A block the reader cannot run here by nature says so in the Markdown (```sh no-run); NO_RUN names each with the
reason, and must match exactly what was skipped. Placeholders are filled by the explicit SUBSTITUTIONS below and
by the few files a reader would have at hand (FILES). The examples README must end with a paid order."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fakes.alipay_gateway import FakeAlipay
from fakes.wechat_gateway import FakeWechat
from listening import listening_socket, port_of, wait_http

from paybutton.kernel.signing import Signer

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent
SOURCES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "examples" / "README.md",
           ROOT / "bench" / "README.md"]
SHELL = {"sh", "bash", "shell", "console"}
PRELUDE = 'set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; }\n'

# (file, first command of the block) -> why it is not run. The Markdown marks these ```sh no-run.
NO_RUN = {
    ("docs/integration-guide.md", "paybutton reconcile --app tt… --date 2026-12-06"):
        "reconciles with the real channels' bills (WeChat Pay, Alipay), which the app of this test reaches only "
        "through fakes; tests/integration/test_recon.py runs it against them",
    ("docs/integration-guide.md", "paybutton app update tt… --settle-mode manual"):
        "settle rules of a real app (tt…) and a receiver on the operator's installation; tests/integration/"
        "test_settle_auto.py and tests/api/test_console_settle.py run the same settings",
    ("docs/integration-guide.md", "curl -s -X POST https://pay.example/api/apps/trade/v2/settle/create_settle "
                                  "-H 'access-token: clt.…' \\"):
        "a settle on a live installation (pay.example) needs a paid and redeemed order; tests/integration/"
        "test_settle.py makes the same call",
    ("README.md", "make demo"): "serves the demo until stopped (this test's own `paybutton demo` stands for it), "
                                "and its `make test` would run this test again",
    ("README.md", "PAYBUTTON_DATABASE_URL=postgresql://user@db/paybutton .venv/bin/paybutton serve --host 0.0.0.0 "
                  "--workers 2"): "serves until stopped, on a PostgreSQL host named db",
    ("README.md", "PAYBUTTON_LOG_FORMAT=json paybutton serve 2> paybutton.log"):
        "serves until stopped (tests/integration/test_request_logs.py runs it and follows one errLogId)",
    ("README.md", "make chaos"): "the crash drill takes minutes (its short version is tests/integration/test_chaos.py)",
    ("README.md", "make fuzz"): "the long schemathesis run takes 5 minutes a database (its CI round is "
                                "tests/api/test_schemathesis.py)",
    ("examples/README.md", "make demo"): "serves until stopped; this test's demo runs in the same folder on the same "
                                         "default database file and stands for it",
    ("bench/README.md", "make bench"): "the benchmark takes minutes and the whole machine",
    ("docs/scaling.md", "export PAYBUTTON_DATABASE_URL=postgresql+asyncpg://paybutton@db.internal/paybutton"):
        "servers on other machines, behind a load balancer, on a PostgreSQL host named db.internal",
    ("docs/scaling.md", "pg_dump --format=custom --file=paybutton-before-citus.dump paybutton"):
        "moves a PostgreSQL database onto a Citus cluster (extension, coordinator, workers); no Citus here: "
        "tests/integration/test_distribution.py checks the schema against Citus's rules and "
        "tests/unit/test_scaling_doc.py the calls",
    ("bench/README.md", "make chaos"): "the crash drill takes minutes (its short version is "
                                       "tests/integration/test_chaos.py)",
    ("README.md", "scripts/image-base.sh"): "needs root, podman and minutes; `make image-test` runs these steps "
                                            "(tests/unit/test_container.py checks the script uses the same flags)",
}


@dataclass(frozen=True)
class Block:
    file: str
    line: int
    code: str
    no_run: bool

    @property
    def first(self) -> str:
        return self.code.splitlines()[0].split("#")[0].strip()


def shell_blocks() -> list[Block]:
    found = []
    for path in SOURCES:
        if not path.exists():
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        i = 0
        while i < len(lines):
            m = re.match(r"^```(.*)$", lines[i])
            if not m:
                i += 1
                continue
            words = m.group(1).split()
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            if words and words[0] in SHELL:
                found.append(Block(str(path.relative_to(ROOT)), i + 1, "\n".join(lines[i + 1:end]) + "\n",
                                   "no-run" in words[1:]))
            i = end + 1
    return found


@dataclass
class Demo:
    folder: Path
    port: int
    shop: int
    example: socket.socket  # listening, kept: the example merchant server a block starts (on 9000 in the doc) gets it

    @property
    def database(self) -> Path:
        return self.folder / "paybutton-demo.db"

    def newest_app(self) -> tuple[str, str]:
        with sqlite3.connect(self.database) as c:
            row = c.execute("SELECT app_id, secret FROM apps ORDER BY created_at DESC, rowid DESC LIMIT 1").fetchone()
        return str(row[0]), str(row[1])

    def substitutions(self, code: str) -> list[tuple[str, str]]:
        """The placeholders of the docs and what a reader would put there, in the order applied."""
        app, secret = self.newest_app()  # `tt…`: the app the reader made last (by an earlier block)
        subs = [
            ("https://pay.example", f"http://127.0.0.1:{self.port}"),  # the guide's stand-in for the server
            ("127.0.0.1:8000", f"127.0.0.1:{self.port}"),  # the demo's ports, free ones here
            ("127.0.0.1:8001", f"127.0.0.1:{self.shop}"),
            ("127.0.0.1:9000", f"127.0.0.1:{port_of(self.example)}"),  # the example merchant's port
            # the example merchant runs on the socket held here (its --fd, tests/listening.py), as the demo does
            ('--port "${SHOP##*:}"', f"--fd {self.example.fileno()}"),
            # callback URLs a command will call: the demo merchant server (verifies, answers err_no 0)
            ("https://shop.example/cb/", f"http://127.0.0.1:{self.shop}/merchant/callbacks/"),
            ('"client_secret":"…"', f'"client_secret":"{secret}"'),
            ("tt…", app),
        ]
        if "clt.…" in code:  # the access token the block's first command printed
            r = httpx.post(f"http://127.0.0.1:{self.port}/oauth/client_token/", timeout=30, json={
                "grant_type": "client_credential", "client_key": app, "client_secret": secret})
            subs.append(("clt.…", r.json()["data"]["access_token"]))
        return subs

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PAYBUTTON_", "MERCHANT_"))}
        return {**env, "PATH": f"{VENV / 'bin'}:{env.get('PATH', '')}", "LANG": "C.UTF-8",
                "PAYBUTTON_CONFIG": str(self.folder / "absent.toml"),
                "PAYBUTTON_DATABASE_URL": f"sqlite+aiosqlite:///{self.database}"}


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """A fresh clone's folder (.venv and examples/ linked in) running `paybutton demo` on free ports."""
    folder = tmp_path / "clone"
    folder.mkdir()
    (folder / ".venv").symlink_to(VENV)
    (folder / "examples").symlink_to(ROOT / "examples")
    # the demo's two servers, and the example merchant a block starts in the background, on sockets bound here and
    # kept (their --fd, tests/listening.py): their ports cannot be lost between choosing and binding
    socks = [listening_socket(), listening_socket()]
    d = Demo(folder, port_of(socks[0]), port_of(socks[1]), listening_socket())
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([  # the default database: paybutton-demo.db, as `make demo` makes
            sys.executable, "-m", "paybutton.cli", "demo", "--fd", str(socks[0].fileno()), "--shop-fd",
            str(socks[1].fileno())],
            cwd=folder, env={k: v for k, v in d.env().items() if k != "PAYBUTTON_DATABASE_URL"}, stdout=out,
            stderr=subprocess.STDOUT, pass_fds=[s.fileno() for s in socks])
        try:
            for url in (f"http://127.0.0.1:{d.port}/healthz", f"http://127.0.0.1:{d.shop}/merchant/callbacks"):
                wait_http(url, proc, lambda: log.read_text(errors="replace"), name="paybutton demo")
            yield d
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
            for s in [*socks, d.example]:
                s.close()


def write_files(d: Demo) -> None:
    """FILES: what a reader has at hand when a block names it. wechat.json / alipay.json: the fields the guide lists
    (keys generated; `gateway` left out as it says). body.bin / headers.json: a genuine callback, signed by the
    demo's platform key, as a merchant would have captured it."""
    for name, cfg in (("wechat.json", FakeWechat(base_url="http://127.0.0.1:9").merchant_config()),
                      ("alipay.json", FakeAlipay(base_url="http://127.0.0.1:9").merchant_config())):
        (d.folder / name).write_text(json.dumps({k: v for k, v in cfg.items() if k != "gateway"}))
    with sqlite3.connect(d.database) as c:
        (private,) = c.execute("SELECT private_pem FROM platform_keys WHERE active").fetchone()
    body = json.dumps({"version": "2.0", "type": "payment", "msg": json.dumps({"order_id": "docs"})}).encode()
    (d.folder / "body.bin").write_bytes(body)
    headers = Signer(private).sign(body, int(time.time())).as_headers("payment", "docs-logid")
    (d.folder / "headers.json").write_text(json.dumps(headers))


def run_block(d: Demo, block: Block) -> tuple[int, str, str]:
    code = block.code
    for old, new in d.substitutions(code):
        code = code.replace(old, new)
    log = d.folder.parent / f"block-{block.file.replace('/', '_')}-{block.line}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(["bash", "-c", PRELUDE + code], cwd=d.folder, env=d.env(), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True, pass_fds=[d.example.fileno()])
        try:
            rc = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            rc = -1
        finally:
            try:  # what the block left running in the background (an example server) ends with it
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
    return rc, code, log.read_text(errors="replace")


def test_every_shell_block_runs_against_a_fresh_demo(demo: Demo) -> None:
    blocks = shell_blocks()
    write_files(demo)
    skipped = {(b.file, b.first) for b in blocks if b.no_run}
    assert skipped == set(NO_RUN), "the ```sh no-run blocks and NO_RUN differ: decide, then list each with its reason"
    failures, ran = [], []
    outputs: dict[str, str] = {}
    for block in blocks:
        if block.no_run:
            continue
        rc, code, output = run_block(demo, block)
        ran.append(f"{block.file}:{block.line}")
        outputs[f"{block.file}:{block.line}"] = output
        if rc != 0:
            failures.append(f"--- {block.file}:{block.line} exited {rc}\n{code}--- output:\n{output[-3000:]}")
    assert not failures, "\n\n".join(failures)
    print("ran:", *ran, sep="\n  ")
    assert len(ran) >= 8 and any(r.startswith("examples/README.md") for r in ran)

    # The examples README took a new merchant from a fresh clone to a paid order.
    app_id = json.loads((demo.folder / "flask-shop.json").read_text())["app_id"]
    with sqlite3.connect(demo.database) as c:
        orders = c.execute("SELECT order_id, status, out_order_no FROM orders WHERE app_id = ?", (app_id,)).fetchall()
    assert [(status, out.startswith("FLASK-")) for _, status, out in orders] == [("SUCCESS", True)], orders
    [example] = [k for k in outputs if k.startswith("examples/README.md")]
    assert '"outcome":"SUCCESS"' in outputs[example].replace(" ", ""), outputs[example]

    check = subprocess.run([str(VENV / "bin" / "paybutton"), "check"], env=demo.env(), capture_output=True,
                           text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
