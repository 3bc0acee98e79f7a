"""Issue 23: `paybutton demo` writes its log lines as `serve` does (telemetry/logs.py). With PAYBUTTON_LOG_FORMAT=json
every line on its stderr is one JSON object, and a request's lines carry its id: the proxy's X-Request-Id, or the
one the server made and answered with. (It used to keep uvicorn's plain lines and drop paybutton's info lines.)"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from listening import listening_socket, port_of, wait_http
from test_cli_money_and_database import clean_env


def _lines(err: Path, request_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every stderr line as JSON (json.loads fails on a plain one), and those of the request."""
    lines = [json.loads(line) for line in err.read_text().splitlines() if line.strip()]
    return lines, [line for line in lines if line["request_id"] == request_id]


def test_demo_writes_json_log_lines_with_the_request_id(tmp_path: Path) -> None:
    trade, shop = listening_socket(), listening_socket()
    url = f"http://127.0.0.1:{port_of(trade)}"
    out, err = tmp_path / "demo.out", tmp_path / "demo.err"
    env = clean_env(tmp_path, PAYBUTTON_LOG_FORMAT="json")
    argv = [sys.executable, "-m", "paybutton.cli", "demo", "--fd", str(trade.fileno()), "--shop-fd",
            str(shop.fileno()), "--database", f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=stdout, stderr=stderr,
                                pass_fds=[trade.fileno(), shop.fileno()])
    try:
        # a loaded 2-core machine takes 15 s or more to migrate, seed and start
        wait_http(f"{url}/healthz", proc, lambda: err.read_text(errors="replace"), name="paybutton demo", timeout=90)
        proxied = httpx.get(f"{url}/healthz", headers={"X-Request-Id": "edge-demo-json-0001"}, trust_env=False)
        made = httpx.get(f"{url}/api/buyer/v1/orders/nope", trust_env=False)  # no token: 401, a new id
        deadline = time.monotonic() + 10
        while not (_lines(err, "edge-demo-json-0001")[1] and _lines(err, made.headers["x-request-id"])[1]):
            assert time.monotonic() < deadline, err.read_text()
            time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        trade.close()
        shop.close()
    assert proxied.status_code == 200 and proxied.headers["x-request-id"] == "edge-demo-json-0001"
    lines, story = _lines(err, "edge-demo-json-0001")
    assert story[0]["logger"] == "paybutton.access" and story[0]["route"] == "/healthz" and story[0]["status"] == 200
    assert story[0]["level"] == "INFO" and story[0]["time"].endswith("Z"), story
    _, other = _lines(err, made.headers["x-request-id"])
    assert other[0]["status"] == made.status_code == 401, other
    assert any(line["logger"].startswith("uvicorn") for line in lines), lines  # the servers' own lines too
    assert "paybutton demo" in out.read_text()  # the banner stays on stdout
