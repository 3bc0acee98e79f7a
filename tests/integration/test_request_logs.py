"""One id finds the whole story (telemetry/logs.py): `paybutton serve` with PAYBUTTON_LOG_FORMAT=json writes one
JSON object per line; a failing order's errLogId is its X-Request-Id and x-tt-logid, the request_id of its log
lines and the logid of its pre_create_order attempt; a proxy's sane X-Request-Id is kept, an insane one replaced."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
from listening import listening_socket, port_of
from root_conftest import bound_socket
from served import library_shop, start, stop
from sqlalchemy import select

from paybutton import buyer_token
from paybutton.config import Settings
from paybutton.db import Database
from paybutton.tables import callback_attempts
from paybutton.telemetry.logs import request_id_from

ORDERS = "/api/buyer/v1/orders"



async def _attempt_logids(db_url: str) -> list[str]:
    db = Database(Settings(database_url=db_url))
    try:
        async with db.engine.connect() as conn:
            return [r.logid for r in await conn.execute(select(callback_attempts.c.logid))]
    finally:
        await db.dispose()


async def test_a_failing_order_is_found_by_its_err_log_id(db_url: str, tmp_path: Path) -> None:
    refused = bound_socket()  # bound and never listening: pre_create_order's connection is refused at once
    app = await library_shop(db_url, "Log shop",
                             pre_order_url=f"http://127.0.0.1:{port_of(refused)}/pre_create_order")
    sock, log = listening_socket(), tmp_path / "serve.log"
    proc = start(db_url, sock, log, PAYBUTTON_LOG_FORMAT="json", PAYBUTTON_LOG_LEVEL="info")
    url = f"http://127.0.0.1:{port_of(sock)}"
    tok = buyer_token.mint(app["app_id"], app["secret"], "buyer", now=time.time())
    h = {"Authorization": f"Bearer {tok}"}
    try:
        async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
            r = await http.post(f"{url}{ORDERS}", headers=h, json={"goods_id": "g", "goods_type": 1})
            failed = r.json()
            proxied = await http.post(f"{url}{ORDERS}", json={"goods_id": "g", "goods_type": 1},
                                      headers={**h, "X-Request-Id": "edge-7f3a9c21-b0d4"})
            insane = [await http.get(f"{url}/healthz", headers={"X-Request-Id": v})
                      for v in ("short", "x" * 41, "bad id <script>")]
            platform = await http.post(f"{url}/oauth/client_token/", headers={"X-Request-Id": "edge-openapi-0001"},
                                       json={"grant_type": "client_credential", "client_key": app["app_id"],
                                             "client_secret": "wrong"})
    finally:
        stop(proc, log)
        sock.close()
        refused.close()
    lid = failed["errLogId"]
    assert r.status_code != 200 and failed["error"] == "PRE_ORDER_SERVER_ERROR", failed
    assert r.headers["x-request-id"] == lid == r.headers["x-tt-logid"]
    assert proxied.json()["errLogId"] == "edge-7f3a9c21-b0d4" == proxied.headers["x-request-id"]
    for answer in insane:
        made = answer.headers["x-request-id"]
        assert made == answer.headers["x-tt-logid"] and request_id_from(made) == made  # a new, sane one
        assert made not in ("short", "x" * 41, "bad id <script>")
    assert platform.json()["extra"]["logid"] == "edge-openapi-0001" == platform.headers["x-tt-logid"]

    lines = [json.loads(line) for line in log.read_text().splitlines()]  # every line is one JSON object
    story = [line for line in lines if line["request_id"] == lid]
    refusal = [line for line in story if line["message"] == "order refused: PRE_ORDER_SERVER_ERROR"]
    assert refusal and refusal[0]["app_id"] == app["app_id"] and refusal[0]["goods_id"] == "g", story
    assert refusal[0]["level"] == "INFO" and refusal[0]["logger"] == "paybutton.order"
    access = [line for line in story if line["logger"] == "paybutton.access"]
    assert access and access[0]["status"] == r.status_code and access[0]["route"] == ORDERS, story
    assert all(line["request_id"] != lid for line in lines if line not in story)
    assert lid in await _attempt_logids(db_url)  # the merchant's Byte-Logid of that pre_create_order
