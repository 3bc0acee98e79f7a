"""A payment attempt's states (payments.state), pure: the enum the code uses and the live states' SQL that the
partial unique index uq_payments_live_order is defined with (tables.py)."""

from __future__ import annotations

from enum import StrEnum


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
