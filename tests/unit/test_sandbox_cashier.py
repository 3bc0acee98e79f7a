"""The sandbox cashier's refunds: idempotent per refund id, and its memory of them is bounded."""

from __future__ import annotations

import asyncio

from paybutton.cashier.sandbox import SandboxCashier


def test_refund_is_idempotent_and_memory_bounded() -> None:
    async def run() -> None:
        c = SandboxCashier()
        c.REMEMBER = 3
        first = await c.refund(refund_id="r0", order_id="o", amount=1, channel_pay_id=None)
        assert first.ok and await c.refund(refund_id="r0", order_id="o", amount=1, channel_pay_id=None) == first
        c.refund_scenario = "fail"
        assert (await c.refund(refund_id="r0", order_id="o", amount=1, channel_pay_id=None)).ok  # remembered
        for i in range(1, 5):
            assert not (await c.refund(refund_id=f"r{i}", order_id="o", amount=1, channel_pay_id=None)).ok
        assert len(c._refunds) == 3 and "r0" not in c._refunds

    asyncio.run(run())
