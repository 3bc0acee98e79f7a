"""The exact split: any payable over any number of units, no fen lost, no unit off by more than one fen."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paybutton.money import split_exact, yuan


@given(total=st.integers(min_value=0, max_value=10**13), parts=st.integers(min_value=1, max_value=2000))
def test_split_is_exact_and_fair(total: int, parts: int) -> None:
    shares = split_exact(total, parts)
    assert len(shares) == parts
    assert sum(shares) == total
    assert max(shares) - min(shares) <= 1
    assert all(isinstance(s, int) and s >= 0 for s in shares)
    assert shares == sorted(shares, reverse=True)


def test_split_examples() -> None:
    assert split_exact(1000, 3) == [334, 333, 333]
    assert split_exact(2, 3) == [1, 1, 0]
    assert split_exact(0, 2) == [0, 0]


@pytest.mark.parametrize(("total", "parts"), [(-1, 1), (1, 0), (1, -2)])
def test_split_refuses_nonsense(total: int, parts: int) -> None:
    with pytest.raises(ValueError):
        split_exact(total, parts)


def test_yuan() -> None:
    assert yuan(16800) == "168.00"
    assert yuan(5) == "0.05"
    assert yuan(-105) == "-1.05"
