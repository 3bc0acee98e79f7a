"""Fen arithmetic: all money is integer fen; a payable is split over units with no fen lost."""

from __future__ import annotations


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
