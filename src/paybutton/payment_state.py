"""A payment attempt's states (payments.state), pure: the enum the code uses and the live states' SQL that the
partial unique index uq_payments_live_order is defined with (tables.py); and its row as read (`Payment`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Self

from sqlalchemy.engine import Row


class PaymentState(StrEnum):
    """A payment attempt's state (payments.state): PROCESSING is written before the channel is called, UNKNOWN
    when its answer was lost (the reconciler settles it); SUCCESS and CLOSED are final."""

    PROCESSING = "PROCESSING"
    UNKNOWN = "UNKNOWN"
    SUCCESS = "SUCCESS"
    CLOSED = "CLOSED"


# The live states: at most one live attempt per order (uq_payments_live_order; migration 0007 spells the same
# condition in a literal, tests/unit/test_payment_states.py checks that it is this one).
LIVE_PAYMENT_STATES = (PaymentState.PROCESSING, PaymentState.UNKNOWN)
LIVE_PAYMENT_SQL = "state IN (" + ", ".join(f"'{s.value}'" for s in LIVE_PAYMENT_STATES) + ")"


@dataclass(frozen=True)
class Payment:
    """A row of `payments`: one payment attempt (order/paying.py), as read (order/store.attempt_row, live_attempt;
    the ledger's pay posting, ledger/trade.py, which is why it is here, below both). tests/unit/test_typed_rows.py
    checks it has every column of the table."""

    payment_id: str  # the channel's out_trade_no
    order_id: str
    app_id: str
    channel: str
    pay_channel: int
    amount: int  # fen
    outcome: str  # cashier.base.Outcome
    channel_pay_id: str | None
    late: bool  # it paid an order that had ended: kept, refunded automatically
    created_at: int
    state: str  # PaymentState
    provider: str
    action: str | None  # JSON PayAction while pending
    message: str | None
    updated_at: int | None
    next_check_at: int | None
    checks: int

    @classmethod
    def from_row(cls, row: Row[Any]) -> Self:
        return cls(**row._mapping)
