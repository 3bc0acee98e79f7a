"""SIGTERM under load (app.py lifespan, workers.Workers.stop): `paybutton serve` stops accepting, answers every
request it had accepted (no 5xx, no reset), and hands its callback claim back, so another instance delivers it at
once instead of after the claim's lease (60 s here). Nothing is lost: every order placed is in the database,
accepted, and another instance's dispatcher delivers the callback at once."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from listening import listening_socket, port_of
from merchant_stub import MerchantStub, Received, ok
from served import start, stop
from sqlalchemy import select
from starlette.responses import Response

from paybutton import buyer_token
from paybutton.app import create_app
from paybutton.apps import service as app_service
from paybutton.callbacks.dispatcher import dispatch_due
from paybutton.clock import SystemClock
from paybutton.config import Settings
from paybutton.db import Database
from paybutton.tables import goods, orders, outbox, payments

IN_FLIGHT = 6
SERVER_ENV = {"PAYBUTTON_SHUTDOWN_GRACE_SECONDS": "3", "PAYBUTTON_CALLBACK_TIMEOUT_SECONDS": "30"}


class SlowMerchant(MerchantStub):
    """pre_create_order answers after `delay` s; the first payment callback hangs until `release` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.delay = 0.0
        self.release = threading.Event()
        self.answers["pre_create_order"] = self._pre_order
        self.answers["payment"] = self._payment

    async def _pre_order(self, rec: Received) -> Response:
        await asyncio.sleep(self.delay)
        return ok({"out_order_no": "M" + rec.msg["order_id"], "pay_expire_seconds": 300})

    async def _payment(self, rec: Received) -> Response:
        if len(self.of_type("payment")) == 1:
            for _ in range(1200):  # up to 60 s, or until the test ends
                if self.release.is_set():
                    break
                await asyncio.sleep(0.05)
        return ok()


async def _until(what: str, check: Any, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        await asyncio.sleep(0.05)


async def test_sigterm_under_load_loses_nothing(db_url: str, tmp_path: Path, live_factory: Any) -> None:
    merchant = SlowMerchant()
    msrv = live_factory(merchant.asgi())
    db = Database(Settings(database_url=db_url))
    clock = SystemClock()
    async with db.tx() as conn:
        app = await app_service.create_app(conn, clock, name="Stop shop", pre_order_url=f"{msrv.url}/pre",
                                           payment_notify_url=f"{msrv.url}/payment")
        await conn.execute(goods.insert().values(
            app_id=app["app_id"], goods_id="g", name="g", photo_url="", price=990, stock=50, sold=0, labels="[]",
            min_limits=1, max_limits=9, date_rule="", phone_required=False, biz_line=1, on_shelf=True,
            created_at=clock.now_ms(), updated_at=clock.now_ms()))
    sock, log = listening_socket(), tmp_path / "serve.log"
    url = f"http://127.0.0.1:{port_of(sock)}"
    h = {"Authorization": "Bearer " + buyer_token.mint(app["app_id"], app["secret"], "buyer", now=time.time())}
    first = start(db_url, sock, log, **SERVER_ENV)
    try:
        async with httpx.AsyncClient(trust_env=False, timeout=30) as http:
            oid = (await http.post(f"{url}/api/buyer/v1/orders", headers=h,
                                   json={"goods_id": "g", "goods_type": 1})).json()["order_id"]
            assert (await http.post(f"{url}/api/buyer/v1/orders/{oid}/cashier", headers=h)).status_code == 200
            paid = await http.post(f"{url}/api/buyer/v1/orders/{oid}/pay", headers=h, json={"channel": "douyin"})
            assert paid.status_code == 200 and paid.json()["result"]["code"] == 0, paid.text
        await _until("the payment callback's first POST", lambda: merchant.of_type("payment"))
        merchant.delay = 1.0
        before = len(merchant.of_type("pre_create_order"))

        async def place() -> httpx.Response:
            async with httpx.AsyncClient(trust_env=False, timeout=30) as own:  # one connection per request
                return await own.post(f"{url}/api/buyer/v1/orders", headers=h,
                                      json={"goods_id": "g", "goods_type": 1})

        placing = [asyncio.create_task(place()) for _ in range(IN_FLIGHT)]
        await _until("every order in flight", lambda: len(merchant.of_type("pre_create_order")) == before + IN_FLIGHT)
        await asyncio.to_thread(stop, first, log)  # SIGTERM while they all wait for pre_create_order
        answers = await asyncio.gather(*placing)
        assert [a.status_code for a in answers] == [200] * IN_FLIGHT, [a.text for a in answers]
        placed = {a.json()["order_id"] for a in answers}
        async with db.engine.connect() as conn:
            rows = (await conn.execute(select(orders.c.order_id, orders.c.pre_order_status)
                                       .where(orders.c.order_id.in_(placed)))).all()
            (cb,) = (await conn.execute(select(outbox).where(outbox.c.type == "payment"))).all()
            attempts = (await conn.execute(select(payments.c.state))).scalars().all()
        assert sorted(r.pre_order_status for r in rows) == ["OK"] * IN_FLIGHT  # all there, all accepted
        assert attempts == ["SUCCESS"]  # no payment half-done
        assert cb.status == "PENDING" and cb.locked_until is None, "the claim was not handed back"
        assert "1 callback claims handed back" in log.read_text()

        other = create_app(Settings(database_url=db_url, run_workers=False, callback_timeout_seconds=30))
        async with other.router.lifespan_context(other):  # another instance takes the callback over at once
            assert await dispatch_due(other.state.ctx, worker_id="another-instance") == 1
        assert len(merchant.of_type("payment")) == 2
        async with db.engine.connect() as conn:
            (cb,) = (await conn.execute(select(outbox).where(outbox.c.type == "payment"))).all()
        assert cb.status == "DONE"
    finally:
        merchant.release.set()
        if first.poll() is None:
            first.kill()
        await db.dispose()
        sock.close()
