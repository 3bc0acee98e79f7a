"""Retry schedules of the durable callbacks (reference §15) as data, and the delay before the next attempt."""

from __future__ import annotations

HOUR = 3600

# Seconds to wait before retry 1, 2, 3, ... The first attempt is immediate; an exhausted schedule is DEAD.
SCHEDULES: dict[str, tuple[int, ...]] = {
    # 2.0 payment notify: 2s, 4s, 8s, ... 8192s, then 5h x7 (20 retries).
    "payment": tuple(2**n for n in range(1, 14)) + (5 * HOUR,) * 7,
    # Refund result notify: 10s/10s/30s/1m/2m/3m/4m/5m/6m/7m/8m.
    "refund": (10, 10, 30, 60, 120, 180, 240, 300, 360, 420, 480),
    # Refund extension point: every 3s x10, then hourly for 3 days (the refund waits for out_refund_no).
    "pre_create_refund": (3,) * 10 + (HOUR,) * 72,
    # Settle notify (reference §14.6: retried up to 20 times): the payment notify's schedule.
    "settle": tuple(2**n for n in range(1, 14)) + (5 * HOUR,) * 7,
    # The console's test callback: one attempt, no retries.
    "test": (),
}

# Callback types without a schedule of their own are retried like the payment notify.
DEFAULT_SCHEDULE = "payment"


def schedule_for(kind: str) -> str:
    """The schedule a callback type uses unless told otherwise."""
    return kind if kind in SCHEDULES else DEFAULT_SCHEDULE


def check_schedule(schedule: str) -> str:
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown retry schedule {schedule!r}")
    return schedule


def max_attempts(schedule: str) -> int:
    """The first attempt plus every retry."""
    return 1 + len(SCHEDULES[check_schedule(schedule)])


def next_delay(schedule: str, attempts_done: int) -> int | None:
    """Seconds to wait after `attempts_done` failed attempts; 0 before the first; None once exhausted."""
    steps = SCHEDULES[check_schedule(schedule)]
    if attempts_done <= 0:
        return 0
    if attempts_done > len(steps):
        return None
    return steps[attempts_done - 1]
