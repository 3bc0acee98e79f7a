"""Fen arithmetic: all money is integer fen; a payable is split over units with no fen lost."""

from __future__ import annotations

from typing import Final

from paybutton.errors import TradeError

# THE money ceiling (fen), for every amount: a unit price (library or merchant good), quantity x price, an order's
# total and payable after marketing. With the largest quantity (99999) a price at the ceiling still multiplies
# inside a BIGINT column (and in SQL: the sell condition compares price <= MAX_AMOUNT / quantity), and every
# amount stays an exact JavaScript number (below 2**53) for the pay-button. 92 233 720 368 547 fen.
MAX_AMOUNT: Final = (2**63 - 1) // 100_000


def over_ceiling(fen: object) -> bool:
    """An integer amount above MAX_AMOUNT (anything else is another rule's business)."""
    return isinstance(fen, int) and not isinstance(fen, bool) and fen > MAX_AMOUNT


def check_amount(fen: int, what: str) -> int:
    """`fen`, or AMOUNT_TOO_LARGE naming what it is (e.g. "the order total")."""
    if over_ceiling(fen):
        raise TradeError("AMOUNT_TOO_LARGE", f"{what} {fen} fen is over the ceiling {MAX_AMOUNT}",
                         ceiling=MAX_AMOUNT)
    return fen


def split_exact(total: int, parts: int) -> list[int]:
    """Split `total` fen over `parts` units so that the parts sum to `total` exactly.

    The first `total % parts` units carry one fen more than the others; no part differs from another
    by more than one fen.
    """
    if parts <= 0:
        raise ValueError("parts must be positive")
    if total < 0:
        raise ValueError("total must not be negative")
    base, extra = divmod(total, parts)
    return [base + 1 if i < extra else base for i in range(parts)]


def yuan(fen: int) -> str:
    """1234 -> '12.34' (for display only)."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"
