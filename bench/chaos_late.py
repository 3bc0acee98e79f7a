"""The late payer of the crash drill: a buyer who pays after the order's deadline. It places an order and pays
with the sandbox's scenario "late" (cashier/sandbox.py): the sandbox completes the payment only after the order's
deadline, by which time the expiry sweep has timed the order out, so the payment arrives for an order that has
ended. paybutton must keep it as a late payment (the pay answers `late`: true) and refund it automatically, once
(refund source 6), with the ledger balanced: chaos_report.late_payments counts and checks them.

A pay cut by a kill is left as it is: the restarted server's reconciler asks the sandbox, which no longer knows
the charge, and closes the attempt (nothing was paid)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

from bench.chaos_clients import CHANNELS, Api, Unknown, error_name
from paybutton.merchant import mint_buyer_token

# The pay waits for the order's deadline (the app's pay_expire_seconds) plus the sandbox's margin.
PAY_TIMEOUT = 90.0


class LatePayer:
    def __init__(self, n: int, api: Api, goods_id: str, rng: random.Random, stop: asyncio.Event) -> None:
        self.api = api
        self.goods_id = goods_id
        self.rng = rng
        self.stop = stop
        self.seen: Counter[str] = Counter()  # tried, answered_late, unknown, and what else came back
        self.headers = {"Authorization": "Bearer " + mint_buyer_token(api.app_id, api.secret, f"chaos-late-{n:03d}")}

    @property
    def late(self) -> int:
        return self.seen["answered_late"]

    async def run(self) -> None:
        while not self.stop.is_set():
            try:
                await self.one()
            except Exception as e:  # count it and go on, as the other buyers do
                self.seen[f"EXC_{type(e).__name__}"] += 1
                await asyncio.sleep(0.5)

    async def one(self) -> None:
        try:
            status, data = await self.api.call("POST", "/api/buyer/v1/orders", {
                "goods_id": self.goods_id, "goods_type": 1, "quantity": 1}, self.headers, "place (late payer)")
        except Unknown:
            await asyncio.sleep(0.5)  # the server is down: try again once it is back
            return
        if status != 200 or not isinstance(data, dict) or not data.get("order_id"):
            self.seen["place:" + error_name(status, data)] += 1
            await asyncio.sleep(0.5)
            return
        self.seen["tried"] += 1
        try:
            status, data = await self.api.call(
                "POST", f"/api/buyer/v1/orders/{data['order_id']}/pay",
                {"channel": self.rng.choice(CHANNELS), "scenario": "late"}, self.headers, "pay (late)", PAY_TIMEOUT)
        except Unknown:
            self.seen["unknown"] += 1  # killed while the payment waited: the attempt is closed, nothing paid
            return
        if status == 200 and isinstance(data, dict) and data.get("late"):
            self.seen["answered_late"] += 1
            self.api.tally.late += 1
        else:
            self.seen["pay:" + (str(data.get("outcome")) if status == 200 and isinstance(data, dict)
                                else error_name(status, data))] += 1
