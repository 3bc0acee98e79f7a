"""pre_create_refund called while the buyer waits (reference §1.3: the platform asks the merchant before the front
end is told), over real HTTP on SQLite and PostgreSQL: the apply answer carries the merchant's out_refund_no; a
merchant that is down, slow or answers without a number gets `out_refund_no_pending` and the outbox retries to
SUCCESS with the merchant's number; the synchronous call racing the outbox's retry moves the refund once."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from merchant_stub import Received, ok
from sqlalchemy import select
from starlette.responses import JSONResponse, Response
from trade_world import TradeWorld

from paybutton.refund.applying import lease_ms
from paybutton.tables import callback_attempts, outbox

BUYER = "/api/buyer/v1"


async def apply(w: TradeWorld, order_id: str) -> Any:
    return await w.http.post(f"{w.url}{BUYER}/orders/{order_id}/refunds", headers=w.auth("buyer"),
                             json={"reason": "不想要了"})


async def callback_log(w: TradeWorld, refund_id: str) -> tuple[Any, list[Any]]:
    """The refund's pre_create_refund outbox row and its attempts, oldest first."""
    async with w.db.engine.connect() as conn:
        row = (await conn.execute(select(outbox).where(outbox.c.refund_id == refund_id,
                                                       outbox.c.type == "pre_create_refund"))).one()
        tries = (await conn.execute(select(callback_attempts).where(callback_attempts.c.outbox_id == row.id)
                                    .order_by(callback_attempts.c.id))).all()
    return row, list(tries)


async def test_the_apply_answer_carries_the_merchants_out_refund_no(trade: TradeWorld) -> None:
    order = await trade.paid_order(quantity=2)
    r = await apply(trade, order["order_id"])
    assert r.status_code == 200, r.text
    body = r.json()
    rid = body["refund_id"]
    assert body["out_refund_no"] == "M" + rid and body["out_refund_no_pending"] is False
    assert body["status"] in ("PROCESSING", "SUCCESS")
    (pre,) = trade.merchant.of_type("pre_create_refund")
    assert pre.signature_ok and pre.msg["refund_id"] == rid and pre.msg["refund_source"] == 1
    row, tries = await callback_log(trade, rid)
    assert (row.status, row.attempts) == ("DONE", 1)
    assert [(t.attempt, t.ok, t.http_status) for t in tries] == [(1, True, 200)]
    await trade.drive()
    assert len(trade.merchant.of_type("pre_create_refund")) == 1  # the outbox never sends it again
    refund = await trade.refund(rid)
    assert refund.status == "SUCCESS" and refund.out_refund_no == "M" + rid
    (note,) = trade.merchant.of_type("refund")
    assert note.msg["out_refund_no"] == "M" + rid


@pytest.mark.parametrize("audit", [True])
async def test_with_an_audit_the_answer_has_the_number_and_the_refund_waits(trade: TradeWorld) -> None:
    order = await trade.paid_order()
    body = (await apply(trade, order["order_id"])).json()
    assert body["out_refund_no"] == "M" + body["refund_id"] and body["status"] == "PROCESSING"
    row = await trade.refund(body["refund_id"])
    assert (row.stage, row.audit_status) == ("AUDIT", "TOAUDIT")
    env = await trade.api("refund/merchant_audit_callback", {"out_refund_no": body["out_refund_no"],
                                                             "refund_audit_status": 1})
    assert env["extra"]["error_code"] == 0
    await trade.drive()
    assert (await trade.refund(body["refund_id"])).status == "SUCCESS"


def first_answer(first: Any, number: str) -> Any:
    """The merchant's first pre_create_refund answer is `first` (down, slow, no number); then `number`."""
    seen = {"n": 0}

    async def answer(rec: Received) -> Response:
        seen["n"] += 1
        if seen["n"] == 1:
            got = first()
            if asyncio.iscoroutine(got):
                got = await got
            assert isinstance(got, Response)
            return got
        return ok({"out_refund_no": number})

    return answer


async def _slow() -> Response:
    await asyncio.sleep(4.0)  # far past the 0.5-s budget (a loaded machine must not let the answer win)
    return ok({"out_refund_no": "TOO-LATE"})


FIRST = {
    "down": lambda: JSONResponse({"boom": True}, status_code=503),
    "slow": _slow,
    "no_number": lambda: ok({"order_entry_schema": {"path": "p", "params": "{}"}}),
}


@pytest.mark.parametrize("settings_overrides", [{"pre_refund_timeout_seconds": 0.5}])
@pytest.mark.parametrize("how", sorted(FIRST))
async def test_merchant_down_or_slow_the_number_is_pending_then_the_outbox_retries(trade: TradeWorld,
                                                                                  how: str) -> None:
    trade.merchant.answers["pre_create_refund"] = first_answer(FIRST[how], "MR-LATER")
    order = await trade.paid_order()
    r = await apply(trade, order["order_id"])
    assert r.status_code == 200, r.text
    body = r.json()
    rid = body["refund_id"]
    assert body["out_refund_no"] == "" and body["out_refund_no_pending"] is True and body["status"] == "PROCESSING"
    # "slow": no number, pending, so the buyer waited for the budget (0.5 s), not for the merchant's answer (4 s,
    # "TOO-LATE"): the answer shows it; a wall-clock bound on the call can fail on a loaded machine
    row, tries = await callback_log(trade, rid)
    assert (row.status, row.attempts) == ("PENDING", 1) and row.locked_by is None
    assert row.next_attempt_at == trade.clock.now_ms() + 3000  # the schedule's first retry
    (first,) = tries
    assert first.attempt == 1 and first.ok is False and first.error
    await trade.drive()  # not due yet
    assert (await trade.refund(rid)).stage == "PRE_REFUND"
    detail = (await trade.http.get(f"{trade.url}{BUYER}/refunds/{rid}", headers=trade.auth("buyer"))).json()
    assert detail["out_refund_no"] == "" and detail["status"] == "PROCESSING"
    trade.clock.advance(3)
    await trade.drive()
    refund = await trade.refund(rid)
    assert refund.status == "SUCCESS" and refund.out_refund_no == "MR-LATER"
    assert len(trade.merchant.of_type("pre_create_refund")) == 2
    row, tries = await callback_log(trade, rid)
    assert (row.status, row.attempts) == ("DONE", 2) and [t.attempt for t in tries] == [1, 2]
    (note,) = trade.merchant.of_type("refund")
    assert note.msg["out_refund_no"] == "MR-LATER" and note.msg["status"] == "SUCCESS"
    listed = (await trade.http.get(f"{trade.url}{BUYER}/orders/{order['order_id']}/refunds",
                                   headers=trade.auth("buyer"))).json()
    assert listed["refunds"][0]["out_refund_no"] == "MR-LATER"


async def _wait_for(pred: Any, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("settings_overrides", [{"pre_refund_timeout_seconds": 10.0}])
async def test_a_stalled_synchronous_call_loses_to_the_outbox_retry_once(trade: TradeWorld) -> None:
    """The synchronous call stalls past its lease: the dispatcher sends the callback and the refund moves with
    that answer; the stalled call's later answer changes nothing (one number, one notify, money moved once)."""
    gate = threading.Event()
    calls = {"n": 0}

    async def answer(rec: Received) -> Response:
        calls["n"] += 1
        if calls["n"] == 1:
            await asyncio.to_thread(gate.wait, 15)
            return ok({"out_refund_no": "SYNC-NO"})
        return ok({"out_refund_no": "OUTBOX-NO"})

    trade.merchant.answers["pre_create_refund"] = answer
    order = await trade.paid_order(quantity=2)
    pending = asyncio.create_task(apply(trade, order["order_id"]))
    try:
        await _wait_for(lambda: calls["n"] == 1)
        (pre,) = trade.merchant.of_type("pre_create_refund")
        rid = pre.msg["refund_id"]
        await trade.drive()  # the lease holds: the dispatcher leaves the row alone
        assert calls["n"] == 1 and (await trade.refund(rid)).stage == "PRE_REFUND"
        trade.clock.advance(lease_ms(10.0) // 1000 + 1)
        await trade.drive()  # the lease ran out: the dispatcher sends it, the refund moves with its answer
        assert calls["n"] == 2
        refund = await trade.refund(rid)
        assert refund.status == "SUCCESS" and refund.out_refund_no == "OUTBOX-NO"
    finally:
        gate.set()
    r = await pending
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["out_refund_no"] == "OUTBOX-NO" and body["out_refund_no_pending"] is False
    await trade.drive()
    refund = await trade.refund(rid)
    assert refund.status == "SUCCESS" and refund.out_refund_no == "OUTBOX-NO"
    assert len(trade.merchant.of_type("refund")) == 1
    assert [(i.refunded_amount, i.refunding_amount) for i in await trade.items(order["order_id"])] == [(1000, 0)] * 2
    row, tries = await callback_log(trade, rid)
    assert (row.status, row.attempts) == ("DONE", 1)
    assert len(tries) == 2 and "not counted" in (tries[-1].error or "")  # the stalled call, logged, not counted


async def test_the_synchronous_answer_wins_and_the_outbox_never_sends_it(trade: TradeWorld) -> None:
    order = await trade.paid_order()
    body = (await apply(trade, order["order_id"])).json()
    trade.clock.advance(lease_ms(3.0) // 1000 + 1)
    await trade.drive()
    assert len(trade.merchant.of_type("pre_create_refund")) == 1 and len(trade.merchant.of_type("refund")) == 1
    refund = await trade.refund(body["refund_id"])
    assert refund.status == "SUCCESS" and refund.out_refund_no == body["out_refund_no"] == "M" + body["refund_id"]
