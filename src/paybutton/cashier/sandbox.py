"""The sandbox cashier: every channel, and the tester picks how the payment ends."""

from __future__ import annotations

import secrets

from paybutton.cashier.base import ChargeResult, Outcome
from paybutton.errors import TradeError

SCENARIOS = {o.value.lower(): o for o in Outcome}


class SandboxCashier:
    name = "sandbox"
    sandbox = True

    async def charge(self, *, order_id: str, amount: int, channel: str, scenario: str | None) -> ChargeResult:
        key = (scenario or "success").lower()
        if key not in SCENARIOS:
            raise TradeError("INVALID_PARAMETER", f"scenario must be one of {sorted(SCENARIOS)}")
        outcome = SCENARIOS[key]
        pay_id = f"sbx{channel[:2]}{secrets.token_hex(10)}" if outcome is Outcome.SUCCESS else None
        return ChargeResult(outcome, pay_id, "" if outcome is Outcome.SUCCESS else f"sandbox: {key}")
