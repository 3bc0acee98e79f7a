"""The booking rules, pure: which days a unit may be booked for (the BOOK_IN_ADVANCE label's days and the goods'
date rule), the booking's states, and whether a cancel policy still lets the buyer cancel.

Douyin 创建预约单 (https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/trade-system/
self-operated-trading/book/create-book-order, ItemBookInfo): book_start_time / book_end_time are 13-digit ms with
now < book_start_time < book_end_time, and book_end_time within 180 days. 查询预约单信息 (…/book/query-book)
shows the state BOOKING. The other states, the date rule's grammar and the cancel policy's numbers are ours where
the documents are silent (docs/openapi.md, "Reservations")."""

from __future__ import annotations

import datetime as dt
import re
from enum import IntEnum, StrEnum
from typing import Final

from paybutton.clock import beijing_day
from paybutton.errors import TradeError

DAY_MS: Final = 24 * 3600 * 1000
MAX_AHEAD_MS: Final = 180 * DAY_MS  # book_end_time must be within 180 days (create-book-order, ItemBookInfo)
DEFAULT_CANCEL_ADVANCE_HOUR: Final = 24


class BookState(StrEnum):
    BOOKING = "BOOKING"  # 预约中: waiting for the merchant's book_result_callback (query-book's example)
    SUCCESS = "SUCCESS"  # 预约成功: the merchant confirmed it
    FAIL = "FAIL"  # 预约失败: the merchant refused it
    CANCEL = "CANCEL"  # 已取消: cancelled by the merchant or the buyer


LIVE: Final = (BookState.BOOKING.value, BookState.SUCCESS.value)


class CancelPolicy(IntEnum):
    """create_order's goods_book_info.cancel_policy (reference §order/create_order); numbers ours."""

    NO_CANCEL = 1  # once confirmed, the buyer cannot cancel
    ANYTIME = 2  # the buyer may cancel until the booking starts
    HOURS_BEFORE = 3  # the buyer may cancel until cancel_advance_hour hours before it starts (the default, 24 h)


_WEEKDAYS: Final = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_DAY = "[一二三四五六日天七]"
_RANGE = re.compile(rf"(?:周|星期)({_DAY})\s*(?:至|到|-|~|～|—)\s*(?:周|星期)?({_DAY})")
_ONE = re.compile(rf"(?:周|星期)({_DAY})")


def weekdays_of(date_rule: str) -> frozenset[int]:
    """The weekdays (Monday 0 .. Sunday 6) a date rule such as 周一至周日可用, 周一至周五可用, 周六、周日可用, 周末可用
    or 工作日可用 allows. Text naming no weekday allows every day."""
    days: set[int] = set()
    text = date_rule or ""
    for a, b in _RANGE.findall(text):
        lo, hi = _WEEKDAYS[a], _WEEKDAYS[b]
        days.update(range(lo, hi + 1) if lo <= hi else [*range(lo, 7), *range(0, hi + 1)])
    rest = _RANGE.sub("", text)
    days.update(_WEEKDAYS[d] for d in _ONE.findall(rest))
    if "周末" in text:
        days.update((5, 6))
    if "工作日" in text:
        days.update(range(5))
    return frozenset(days) if days else frozenset(range(7))


def days_in_advance(labels: list[dict[str, object]]) -> int | None:
    """The BOOK_IN_ADVANCE label's days, or None when the goods take no booking."""
    for label in labels:
        if label.get("type") == "BOOK_IN_ADVANCE":
            value = label.get("value", 0)
            return int(value) if isinstance(value, int) else 0
    return None


def check_times(start: int, end: int, now: int, advance_days: int, date_rule: str) -> str:
    """The booking's day (YYYY-MM-DD, Beijing) when start..end may be booked now, else BOOK_DATE_NOT_ALLOWED
    saying why."""
    if not now < start < end:
        raise TradeError("BOOK_DATE_NOT_ALLOWED", "book_start_time must be after now and before book_end_time")
    if end > now + MAX_AHEAD_MS:
        raise TradeError("BOOK_DATE_NOT_ALLOWED", "book_end_time must be within 180 days")
    day = beijing_day(start)
    first = beijing_day(now + advance_days * DAY_MS)
    if day < first:
        raise TradeError("BOOK_DATE_NOT_ALLOWED",
                         f"this goods must be booked {advance_days} day(s) in advance: the first day is {first}")
    weekday = dt.date.fromisoformat(day).weekday()
    if weekday not in weekdays_of(date_rule):
        raise TradeError("BOOK_DATE_NOT_ALLOWED", f"{day} is not allowed by the date rule {date_rule!r}")
    return day


def user_may_cancel(state: str, policy: int, advance_hour: int, start: int, now: int) -> bool:
    """user_cancel_book: a booking not yet confirmed may be cancelled until it starts; a confirmed one as its
    cancel policy says (用户取消预约: 开平会根据下单时指定的取消政策决定是否允许取消)."""
    if state not in LIVE or now >= start:
        return False
    if state == BookState.BOOKING:
        return True
    if policy == CancelPolicy.NO_CANCEL:
        return False
    if policy == CancelPolicy.ANYTIME:
        return True
    return now <= start - advance_hour * 3600 * 1000
