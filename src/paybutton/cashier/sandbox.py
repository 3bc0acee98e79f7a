"""The sandbox cashier: every channel, and the tester picks how the payment ends."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Literal, TypeVar

from paybutton.cashier.base import (
    ChargeRequest,
    ChargeResult,
    NotifyAnswer,
    NotifyEvent,
    NotifyRejected,
    Outcome,
    QueryResult,
    RefundResult,
    TradeState,
)
from paybutton.errors import TradeError

# The outcomes a tester can pick; PENDING and UNKNOWN are a real channel's, not a sandbox scenario.
SCENARIOS = {o.value.lower(): o for o in Outcome if o not in (Outcome.PENDING, Outcome.UNKNOWN)}
# One more: "late", the buyer completes the payment after the order's deadline. The charge answers SUCCESS only
# LATE_MARGIN_S after the deadline (the expiry sweep ends the order meanwhile), so the payment arrives for an
# order that has ended: it is kept as a late payment and refunded automatically (order/paying.py). For an order
# due at most LATE_WAIT_MAX_S from now; while it waits, a query says the trade waits for the buyer.
LATE = "late"
LATE_MARGIN_S = 2.0
LATE_WAIT_MAX_S = 60.0


REFUND_SCENARIOS = ("success", "fail")

T = TypeVar("T")


def _remember(memory: OrderedDict[str, T], key: str, value: T, limit: int) -> None:
    memory[key] = value
    if len(memory) > limit:
        memory.popitem(last=False)


class SandboxCashier:
    """`refund_scenario` ("success" or "fail") is how the next refunds end; a tester sets it.

    A charge or a refund asked twice with the same key gets the same answer, as a real channel's idempotent
    call would; the sandbox remembers the last REMEMBER of each in this process."""

    REMEMBER = 10_000

    name = "sandbox"
    sandbox = True

    def __init__(self) -> None:
        self.refund_scenario = "success"
        self._refunds: OrderedDict[str, RefundResult] = OrderedDict()
        self._charges: OrderedDict[str, ChargeResult] = OrderedDict()
        self._waiting: set[str] = set()  # charges of scenario "late" waiting for the order's deadline


    async def charge(self, req: ChargeRequest) -> ChargeResult:
        done = self._charges.get(req.out_trade_no)
        if done is not None:
            return done
        key = (req.scenario or "success").lower()
        if key == LATE:
            await self._after_deadline(req)
            key = "success"
        if key not in SCENARIOS:
            raise TradeError("INVALID_PARAMETER", f"scenario must be one of {sorted([*SCENARIOS, LATE])}")
        outcome = SCENARIOS[key]
        pay_id = f"sbx{req.channel[:2]}{secrets.token_hex(10)}" if outcome is Outcome.SUCCESS else None
        result = ChargeResult(outcome, pay_id, "" if outcome is Outcome.SUCCESS else f"sandbox: {key}")
        _remember(self._charges, req.out_trade_no, result, self.REMEMBER)
        return result

    async def _after_deadline(self, req: ChargeRequest) -> None:
        """Scenario "late": wait until LATE_MARGIN_S after the order's deadline (the trade waits for the buyer)."""
        wait = req.expire_at_ms / 1000 + LATE_MARGIN_S - time.time()
        if wait > LATE_WAIT_MAX_S:
            raise TradeError("INVALID_PARAMETER", f"scenario late pays after the order's deadline, which must be at "
                                                  f"most {LATE_WAIT_MAX_S:.0f} s away; it is {wait:.0f} s away")
        self._waiting.add(req.out_trade_no)
        try:
            await asyncio.sleep(max(0.0, wait))
        finally:
            self._waiting.discard(req.out_trade_no)

    async def query(self, out_trade_no: str) -> QueryResult:
        if out_trade_no in self._waiting:
            return QueryResult(TradeState.WAITING, message="sandbox: the buyer pays late")
        done = self._charges.get(out_trade_no)
        if done is None:
            return QueryResult(TradeState.CLOSED, message="sandbox: no such charge in this process")
        if done.outcome is Outcome.SUCCESS:
            return QueryResult(TradeState.PAID, done.channel_pay_id)
        return QueryResult(TradeState.CLOSED, message=done.message)

    async def close(self, out_trade_no: str) -> None:
        return None

    async def refund(self, *, refund_id: str, order_id: str, amount: int, channel_pay_id: str | None,
                     out_trade_no: str | None = None, total: int | None = None) -> RefundResult:
        done = self._refunds.get(refund_id)
        if done is not None:
            return done
        if self.refund_scenario not in REFUND_SCENARIOS:
            raise TradeError("INVALID_PARAMETER", f"refund scenario must be one of {REFUND_SCENARIOS}")
        if self.refund_scenario == "fail":
            result = RefundResult(False, None, "sandbox: the channel refused the refund")
        else:
            result = RefundResult(True, f"sbxrf{secrets.token_hex(10)}", "")
        _remember(self._refunds, refund_id, result, self.REMEMBER)
        return result

    def parse_notify(self, kind: Literal["payment", "refund"], headers: Mapping[str, str],
                     body: bytes) -> NotifyEvent:
        raise NotifyRejected("the sandbox sends no notifies")

    def notify_answer(self, ok: bool) -> NotifyAnswer:
        return NotifyAnswer(200 if ok else 400, b"", "text/plain")
