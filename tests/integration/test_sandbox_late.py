"""The sandbox's scenario "late" (cashier/sandbox.py) on a real `paybutton serve`: the buyer pays, the sandbox
completes the payment only after the order's deadline, the expiry sweep has ended the order meanwhile, so the
payment arrives late: the pay answers `late`, the payment is kept, refunded automatically exactly once (refund
source 6, the whole amount), and `paybutton check` finds the books balanced. The crash drill's late payer
(bench/chaos_late.py) pays this way; an order due too far away is refused, and a wrong scenario names "late"."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
from listening import listening_socket, port_of
from served import library_shop, start, stop
from sqlalchemy import select

from paybutton import buyer_token
from paybutton.config import Settings
from paybutton.db import Database
from paybutton.tables import orders, payments, refunds

ORDERS = "/api/buyer/v1/orders"



async def _rows(db_url: str, order_id: str) -> tuple[Any, list[Any], list[Any]]:
    db = Database(Settings(database_url=db_url))
    try:
        async with db.engine.connect() as conn:
            order = (await conn.execute(select(orders).where(orders.c.order_id == order_id))).one()
            pays = (await conn.execute(select(payments).where(payments.c.order_id == order_id))).all()
            refs = (await conn.execute(select(refunds).where(refunds.c.order_id == order_id))).all()
    finally:
        await db.dispose()
    return order, list(pays), list(refs)


async def test_a_payment_after_the_deadline_is_kept_and_refunded_once(db_url: str, tmp_path: Path) -> None:
    app = await library_shop(db_url, "Late shop", pay_expire_seconds=2)
    sock, log = listening_socket(), tmp_path / "serve.log"
    proc = start(db_url, sock, log)
    url = f"http://127.0.0.1:{port_of(sock)}"
    h = {"Authorization": "Bearer " + buyer_token.mint(app["app_id"], app["secret"], "late", now=time.time())}
    try:
        async with httpx.AsyncClient(base_url=url, timeout=60, trust_env=False) as http:
            placed = await http.post(ORDERS, json={"goods_id": "g", "goods_type": 1, "quantity": 1}, headers=h)
            oid = placed.json()["order_id"]
            t0 = time.monotonic()
            paid = await http.post(f"{ORDERS}/{oid}/pay", json={"channel": "wechat", "scenario": "late"}, headers=h)
            assert paid.status_code == 200 and paid.json()["late"] is True, paid.text
            assert time.monotonic() - t0 > 2  # it waited for the deadline
            assert paid.json()["result"]["code"] != 0  # not a paid order: the buyer is told it will be refunded
            deadline = time.monotonic() + 30
            while True:
                order, pays, refs = await _rows(db_url, oid)
                if refs and refs[0].status == "SUCCESS" and not order.auto_refund_pending:
                    break
                assert time.monotonic() < deadline, (order, pays, refs)
                await asyncio.sleep(0.2)
            assert order.status == "TIMEOUT"
            (p,) = pays
            assert (p.state, p.late, p.amount) == ("SUCCESS", True, 990)
            (r,) = refs  # refunded exactly once, the whole payment
            assert (r.source, r.payment_id, r.refund_total_amount) == (6, p.payment_id, 990)

            # an order due in an hour: refused, nothing waits an hour
            far = await library_shop(db_url, "Late shop", pay_expire_seconds=3600)
            h2 = {"Authorization": "Bearer " + buyer_token.mint(far["app_id"], far["secret"], "b", now=time.time())}
            oid2 = (await http.post(ORDERS, json={"goods_id": "g", "goods_type": 1, "quantity": 1},
                                    headers=h2)).json()["order_id"]
            r2 = await http.post(f"{ORDERS}/{oid2}/pay", json={"channel": "wechat", "scenario": "late"}, headers=h2)
            assert r2.json().get("error") == "INVALID_PARAMETER" and "at most 60 s away" in r2.text, r2.text
            r3 = await http.post(f"{ORDERS}/{oid2}/pay", json={"channel": "wechat", "scenario": "never"}, headers=h2)
            assert "'late'" in r3.text, r3.text
    finally:
        stop(proc, log)
        sock.close()
    # `paybutton check` runs after every database test (conftest): the late payment and its refund add up
