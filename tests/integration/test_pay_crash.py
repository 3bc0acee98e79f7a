"""Fault injection: the server PROCESS dies (os._exit, through the test hook PAYBUTTON_TEST_CRASH_AFTER_CHARGE)
between the channel's SUCCESS and writing it. The channel (a real HTTP server in this test process) has the
money; after a restart the reconciler finds the attempt, asks the channel, and the order is paid once and the
payment callback reaches the merchant (a real local server verifying the signature)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from http_channel import HttpChannel
from listening import listening_socket, wait_http
from merchant_stub import MerchantStub
from sqlalchemy import select
from typer.testing import CliRunner

from paybutton import buyer_token
from paybutton.apps import service as app_service
from paybutton.cli import cli
from paybutton.clock import SystemClock
from paybutton.config import Settings
from paybutton.db import Database
from paybutton.tables import goods, orders, payments, platform_keys

TESTS = Path(__file__).resolve().parents[1]


def _serve(db_url: str, sock: socket.socket, channel_url: str, crash: bool, log: Path) -> subprocess.Popen[bytes]:
    """`paybutton serve` on the test's listening socket (`--fd`, tests/listening.py): the restarted server gets the same
    port, which the test never let go."""
    port = int(sock.getsockname()[1])
    env = {**os.environ, "PAYBUTTON_DATABASE_URL": db_url, "PAYBUTTON_TEST_CASHIER": "http_channel:HttpChannelCashier",
           "PAYBUTTON_TEST_CHANNEL_URL": channel_url, "PAYBUTTON_PAYMENT_CALL_LEASE_SECONDS": "1",
           "PAYBUTTON_SWEEP_INTERVAL_SECONDS": "0.2", "PAYBUTTON_DISPATCH_INTERVAL_SECONDS": "0.2",
           "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    env.pop("PAYBUTTON_TEST_CRASH_AFTER_CHARGE", None)
    if crash:
        env["PAYBUTTON_TEST_CRASH_AFTER_CHARGE"] = "1"
    with log.open("ab") as out:  # the child keeps its own descriptor
        proc = subprocess.Popen([sys.executable, "-m", "paybutton.cli", "serve", "--fd", str(sock.fileno())],
                                env=env, stdout=out, stderr=subprocess.STDOUT, pass_fds=[sock.fileno()])
    try:  # any answer will do; 90 s only guards against a hang (a loaded 2-core machine takes 15 s or more)
        wait_http(f"http://127.0.0.1:{port}/openapi.json", proc, log.read_text, timeout=90, any_status=True)
    except RuntimeError:
        proc.kill()  # the caller gets no process to stop
        proc.wait()
        raise
    return proc


async def test_a_crash_between_the_charge_and_the_write_is_settled_after_restart(tmp_path: Path,
                                                                               live_factory: Any) -> None:
    channel = HttpChannel()
    ch = live_factory(channel.asgi())
    merchant = MerchantStub()
    msrv = live_factory(merchant.asgi())
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"
    sock = listening_socket()
    port = int(sock.getsockname()[1])
    log = tmp_path / "server.log"
    first = await asyncio.to_thread(_serve, db_url, sock, ch.url, True, log)
    db = Database(Settings(database_url=db_url))
    try:
        clock = SystemClock()
        async with db.tx() as conn:
            app = await app_service.create_app(conn, clock, name="Crash shop", payment_notify_url=f"{msrv.url}/pay")
            now = clock.now_ms()
            await conn.execute(goods.insert().values(
                app_id=app["app_id"], goods_id="g", name="g", photo_url="", price=990, stock=5, sold=0,
                labels="[]", min_limits=1, max_limits=9, date_rule="", phone_required=False, biz_line=1,
                on_shelf=True, created_at=now, updated_at=now))
            merchant.public_pem = (await conn.execute(select(platform_keys.c.public_pem).where(
                platform_keys.c.active.is_(True)))).scalar_one()
        url = f"http://127.0.0.1:{port}"
        tok = buyer_token.mint(app["app_id"], app["secret"], "buyer", now=time.time())
        h = {"Authorization": f"Bearer {tok}"}
        async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
            r = await http.post(f"{url}/api/buyer/v1/orders", headers=h, json={"goods_id": "g", "goods_type": 1})
            assert r.status_code == 200, r.text
            oid = r.json()["order_id"]
            try:
                await http.post(f"{url}/api/buyer/v1/orders/{oid}/pay", headers=h, json={"channel": "douyin"})
                raise AssertionError("the server answered; the crash hook did not fire")
            except httpx.HTTPError:
                pass  # the process died mid-request
            assert await asyncio.to_thread(first.wait, 10) == 86
            assert channel.charges == 1  # the money moved ...
            async with db.engine.connect() as conn:
                (attempt,) = (await conn.execute(select(payments))).all()
                order = (await conn.execute(select(orders).where(orders.c.order_id == oid))).one()
            assert attempt.state == "PROCESSING" and attempt.provider == "httpchannel"  # ... and was recorded
            assert order.status != "SUCCESS"
            second = await asyncio.to_thread(_serve, db_url, sock, ch.url, False, log)
            try:
                for _ in range(150):  # up to 30 s: the merchant stub is another thread's server
                    if merchant.of_type("payment"):
                        break
                    await asyncio.sleep(0.2)
                got = (await http.get(f"{url}/api/buyer/v1/orders/{oid}", headers=h)).json()
                await asyncio.sleep(1)  # anything else would have arrived by now
            finally:
                second.terminate()
                await asyncio.to_thread(second.wait, 10)
        assert got["status"] == "SUCCESS", log.read_text()
        (note,) = merchant.of_type("payment")
        assert note.signature_ok and note.msg["order_id"] == oid and note.msg["status"] == "SUCCESS"
        assert note.msg["channel_pay_id"] == "hc-1"
        async with db.engine.connect() as conn:
            (attempt,) = (await conn.execute(select(payments))).all()
        assert attempt.state == "SUCCESS" and attempt.late is False and channel.charges == 1
        assert channel.queries >= 1
        check = await asyncio.to_thread(CliRunner().invoke, cli, ["check", "--database", db_url])
        assert check.exit_code == 0, check.output
    finally:
        if first.poll() is None:
            first.kill()
        await db.dispose()
        sock.close()
