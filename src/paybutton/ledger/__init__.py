"""The double-entry ledger (issue 21): every payment paid, refund succeeded, settle and channel share posts a
balanced txn (entries sum to 0) in the same database transaction as the row that caused it; balances are read
from it. See accounts.py for the accounts and the sign, posting.py for `post`, balances.py for reading."""

from __future__ import annotations

from paybutton.ledger.accounts import (
    KINDS,
    PAY,
    PLATFORM_FEES,
    REFUND,
    SETTLE,
    SHARE,
    channel,
    held,
    merchant,
    receiver,
)
from paybutton.ledger.posting import Line, UnbalancedError, post

__all__ = ["KINDS", "PAY", "PLATFORM_FEES", "REFUND", "SETTLE", "SHARE", "Line", "UnbalancedError", "channel",
           "held", "merchant", "post", "receiver"]
