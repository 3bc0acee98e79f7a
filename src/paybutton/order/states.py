"""Order and item-order states with their wire values, and the derived pay-button status (pure)."""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Any

from paybutton.payment_state import LIVE_PAYMENT_STATES, PaymentState

__all__ = ["LIVE_PAYMENT_STATES", "PaymentState"]  # payments.state's values, defined with the table


class OrderStatus(StrEnum):
    INIT = "INIT"  # created, merchant accepted (or being asked); cashier not opened yet
    PROCESS = "PROCESS"  # cashier opened
    SUCCESS = "SUCCESS"  # paid
    FAIL = "FAIL"  # pre-order refused or failed, or closed unpaid
    TIMEOUT = "TIMEOUT"  # the buyer did not pay before pay_expire_at


UNPAID = (OrderStatus.INIT.value, OrderStatus.PROCESS.value)


class PreOrder(StrEnum):
    PENDING = "PENDING"
    OK = "OK"
    FAILED = "FAILED"


class ItemStatus(IntEnum):
    UNPAID = 1  # 待支付
    UNUSED = 2  # 待使用
    REDEEMED = 3  # 已核销
    CLOSED = 4  # 订单关闭
    REFUNDING = 101  # ours: 退款中
    REFUNDED = 102  # ours: 已退款


class BookStatus(IntEnum):
    """item_orders.book_status: the unit's booking (book/create_book, issue 22)."""

    NONE = 0  # not booked: redeemable any day
    PENDING = 1  # booked, awaiting the merchant's book_result_callback: not redeemable
    CONFIRMED = 2  # confirmed for item_orders.book_date: redeemable on that date (Beijing time) only


# Redeemable: a unit that can still be verified (核销) or returned when its validity ends: unused, with no refund
# in flight, not locked (toolkit/change_lock_status). Written once, as column -> value, for the SQL
# (order/store.REDEEMABLE) and for Python (redeemable). Verification adds the booking's day: REDEEMABLE_ON (SQL,
# order/store.REDEEMABLE_TODAY) and redeemable(unit, today) say the same thing.
REDEEMABLE_UNIT = (("status", int(ItemStatus.UNUSED)), ("refunding_amount", 0), ("locked", 0))


def redeemable(unit: Any, today: str | None = None) -> bool:
    """An item order row (or any object with its columns) is redeemable; with `today` (YYYY-MM-DD, Beijing), also
    on that day: not awaiting a booking's confirmation, and a confirmed booking only on its date."""
    if not all(getattr(unit, column) == value for column, value in REDEEMABLE_UNIT):
        return False
    return today is None or bookable_day_ok(getattr(unit, "book_status", 0), getattr(unit, "book_date", None), today)


def bookable_day_ok(book_status: int, book_date: str | None, today: str) -> bool:
    """The booking part of the rule: no booking, or a confirmed one for today."""
    return book_status == BookStatus.NONE or (book_status == BookStatus.CONFIRMED and book_date == today)


class GoodsType(IntEnum):
    LIBRARY = 1  # 商品库
    MERCHANT = 2  # 非商品库 (described by the page's getgoodsinfo, priced by pre_create_order)


# pay_channel on the wire (reference §17)
PAY_CHANNELS = {"wechat": 1, "alipay": 2, "bankcard": 3, "douyin": 10}


def payable(total_amount: int, discount_amount: int) -> int:
    return total_amount - discount_amount


# The pay-button's order-status on the refunds list, from the newest refund's status (its wire value; refunds
# live in a higher domain, so the values are spelled here): 1 apply (no refund yet), 2 refunding, 3 refunded,
# 4 failed.
_BUTTON_STATUS = {None: 1, "PROCESSING": 2, "SUCCESS": 3, "FAIL": 4}


def button_status(latest_refund_status: str | None) -> int:
    """The pay-button's derived order-status: 1 apply, 2 refunding, 3 refunded, 4 failed."""
    return _BUTTON_STATUS[latest_refund_status]
