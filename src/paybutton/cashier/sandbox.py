"""The sandbox cashier: every channel, and the tester picks how the payment ends."""

from __future__ import annotations

import secrets
from collections import OrderedDict

from paybutton.cashier.base import ChargeResult, Outcome, RefundResult
from paybutton.errors import TradeError

SCENARIOS = {o.value.lower(): o for o in Outcome}


REFUND_SCENARIOS = ("success", "fail")


class SandboxCashier:
    """`refund_scenario` ("success" or "fail") is how the next refunds end; a tester sets it.

    A refund asked twice gets the same answer, as a real channel's idempotent refund would; the sandbox
    remembers the last REMEMBER refunds of this process (a retried refund comes back within minutes)."""

    REMEMBER = 10_000

    name = "sandbox"
    sandbox = True

    def __init__(self) -> None:
        self.refund_scenario = "success"
        self._refunds: OrderedDict[str, RefundResult] = OrderedDict()

    async def charge(self, *, order_id: str, amount: int, channel: str, scenario: str | None) -> ChargeResult:
        key = (scenario or "success").lower()
        if key not in SCENARIOS:
            raise TradeError("INVALID_PARAMETER", f"scenario must be one of {sorted(SCENARIOS)}")
        outcome = SCENARIOS[key]
        pay_id = f"sbx{channel[:2]}{secrets.token_hex(10)}" if outcome is Outcome.SUCCESS else None
        return ChargeResult(outcome, pay_id, "" if outcome is Outcome.SUCCESS else f"sandbox: {key}")

    async def refund(self, *, refund_id: str, order_id: str, amount: int, channel_pay_id: str | None) -> RefundResult:
        done = self._refunds.get(refund_id)
        if done is not None:
            return done
        if self.refund_scenario not in REFUND_SCENARIOS:
            raise TradeError("INVALID_PARAMETER", f"refund scenario must be one of {REFUND_SCENARIOS}")
        if self.refund_scenario == "fail":
            result = RefundResult(False, None, "sandbox: the channel refused the refund")
        else:
            result = RefundResult(True, f"sbxrf{secrets.token_hex(10)}", "")
        self._refunds[refund_id] = result
        if len(self._refunds) > self.REMEMBER:
            self._refunds.popitem(last=False)
        return result
