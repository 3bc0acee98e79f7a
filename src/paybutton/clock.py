"""Time, injectable: expiry, audit deadlines and retry schedules are tested with a fake clock."""

from __future__ import annotations

import datetime as _dt
import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class FakeClock:
    """A clock that only moves when told to (tests)."""

    def __init__(self, start_ms: int = 1_767_225_600_000) -> None:
        self._now = start_ms

    def now_ms(self) -> int:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += int(seconds * 1000)

    def set(self, ms: int) -> None:
        self._now = ms


# Beijing time (UTC+8, no DST): the time zone of every day, hour and time the platform shows, reads or counts in
# (Douyin's and the channels' documents give their times in it). The one definition; everything imports it from here.
BEIJING_OFFSET_MS = 8 * 3600 * 1000
BEIJING = _dt.timezone(_dt.timedelta(milliseconds=BEIJING_OFFSET_MS), "Asia/Shanghai")


def beijing_day(ms: int) -> str:
    """The calendar day (YYYY-MM-DD) in Beijing time (UTC+8, no DST) of an epoch-ms instant."""
    return (_dt.datetime(1970, 1, 1) + _dt.timedelta(milliseconds=ms + BEIJING_OFFSET_MS)).strftime("%Y-%m-%d")
