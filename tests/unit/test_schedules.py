"""Retry schedules of reference §15, read like the spec: the delay after each failed attempt."""

from __future__ import annotations

import pytest

from paybutton.callbacks.schedules import max_attempts, next_delay, schedule_for

H = 3600


def delays(schedule: str) -> list[int]:
    out: list[int] = []
    n = 1
    while (d := next_delay(schedule, n)) is not None:
        out.append(d)
        n += 1
    return out


def test_payment_doubles_to_8192s_then_five_hours_seven_times() -> None:
    doubling = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192]
    assert delays("payment") == doubling + [5 * H] * 7
    assert len(delays("payment")) == 20
    assert max_attempts("payment") == 21


def test_refund_notify_steps() -> None:
    assert delays("refund") == [10, 10, 30, 60, 120, 180, 240, 300, 360, 420, 480]


def test_pre_create_refund_every_3s_then_hourly_for_three_days() -> None:
    steps = delays("pre_create_refund")
    assert steps[:10] == [3] * 10
    assert steps[10:] == [H] * 72
    assert sum(steps[10:]) == 3 * 24 * H


def test_test_callback_is_never_retried() -> None:
    assert next_delay("test", 1) is None
    assert max_attempts("test") == 1


@pytest.mark.parametrize(
    ("schedule", "done", "expected"),
    [
        ("payment", 0, 0),
        ("payment", 1, 2),
        ("payment", 13, 8192),
        ("payment", 14, 5 * H),
        ("payment", 20, 5 * H),
        ("payment", 21, None),
        ("refund", 11, 480),
        ("refund", 12, None),
        ("pre_create_refund", 82, H),
        ("pre_create_refund", 83, None),
    ],
)
def test_next_delay_edges(schedule: str, done: int, expected: int | None) -> None:
    assert next_delay(schedule, done) == expected


def test_schedule_for_kind() -> None:
    assert schedule_for("payment") == "payment"
    assert schedule_for("refund") == "refund"
    assert schedule_for("pre_create_refund") == "pre_create_refund"
    assert schedule_for("settle") == "settle"


def test_unknown_schedule_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown retry schedule"):
        next_delay("weekly", 1)
