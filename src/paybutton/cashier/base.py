"""The Cashier port: a channel charges an order and says how it ended. Services never branch on a channel."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Outcome(StrEnum):
    SUCCESS = "SUCCESS"
    FAIL = "FAIL"  # the channel refused: errNo 10000
    TIMEOUT = "TIMEOUT"  # the cashier timed out
    USER_CLOSED = "USER_CLOSED"  # the buyer closed the cashier
    CANCEL = "CANCEL"  # the buyer cancelled
    OPEN_FAILED = "OPEN_FAILED"  # the channel app could not be opened: errNo 10001
    APP_MISSING = "APP_MISSING"  # the channel app is not installed: errNo 10002


# tt.pay result codes (reference §5.3): 0 paid, 1 timeout, 2 failed, 3 closed, 4 cancelled
PAY_CODES = {
    Outcome.SUCCESS: 0,
    Outcome.TIMEOUT: 1,
    Outcome.FAIL: 2,
    Outcome.OPEN_FAILED: 2,
    Outcome.APP_MISSING: 2,
    Outcome.USER_CLOSED: 3,
    Outcome.CANCEL: 4,
}

# bind:error codes for the outcomes that are errors (seed: 10000-10002)
ERROR_NAMES = {
    Outcome.FAIL: "PAY_FAILED",
    Outcome.OPEN_FAILED: "CHANNEL_OPEN_FAILED",
    Outcome.APP_MISSING: "CHANNEL_NOT_INSTALLED",
}


@dataclass(frozen=True)
class ChargeResult:
    outcome: Outcome
    channel_pay_id: str | None = None
    message: str = ""


@dataclass(frozen=True)
class RefundResult:
    """How a refund through the channel ended: ok with the channel's refund id, or refused with a message."""

    ok: bool
    channel_refund_id: str | None = None
    message: str = ""


class Cashier(Protocol):
    """A payment channel set. `scenario` is a tester's choice in the sandbox; real channels ignore it."""

    name: str
    sandbox: bool

    async def charge(self, *, order_id: str, amount: int, channel: str, scenario: str | None) -> ChargeResult: ...

    async def refund(self, *, refund_id: str, order_id: str, amount: int, channel_pay_id: str | None) -> RefundResult:
        """Give `amount` fen of the order's payment back. `refund_id` is the idempotency key: asked twice for one
        refund, a channel answers the first outcome again."""
        ...
