"""Why a voucher cannot be redeemed, said to the person at the counter: already redeemed (when), refunded (when),
being refunded, or its order closed or unpaid. VOUCHER_NOT_VERIFIABLE (21001) keeps its code and registry text;
the reason follows it, in the reader's language, with times in Beijing time."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.clock import BEIJING, beijing_day
from paybutton.errors import TradeError
from paybutton.order.rows import ItemOrder
from paybutton.order.states import BookStatus, ItemStatus, bookable_day_ok
from paybutton.tables import item_orders, refund_items, refunds

# why -> (zh-CN, en); {code} the voucher code, {at} a Beijing time
REASONS: Final[dict[str, tuple[str, str]]] = {
    "redeemed": ("券码 {code} 已于 {at}(北京时间)核销过,不能再次核销",
                 "code {code} was already redeemed on {at} (Beijing time)"),
    "refunded": ("券码 {code} 已于 {at}(北京时间)退款,不能核销", "code {code} was refunded on {at} (Beijing time)"),
    "refunding": ("券码 {code} 正在退款中,不能核销", "code {code} is being refunded"),
    "closed": ("券码 {code} 所在的订单已关闭,不能核销", "the order of code {code} is closed"),
    "unpaid": ("券码 {code} 所在的订单尚未支付,不能核销", "the order of code {code} is not paid"),
    "locked": ("券码 {code} 已被锁定,解锁后才能核销", "code {code} is locked; unlock it before redeeming it"),
    "booking": ("券码 {code} 的预约尚待商家确认,不能核销",
                "the booking of code {code} awaits the merchant's confirmation"),
    "other_day": ("券码 {code} 已预约 {day}(北京时间),只能在当天核销",
                  "code {code} is booked for {day} (Beijing time) and can only be redeemed on that day"),
}


def beijing(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, BEIJING).strftime("%Y-%m-%d %H:%M:%S")


class NotRedeemable(TradeError):
    """VOUCHER_NOT_VERIFIABLE saying why (`why`: a REASONS key) and when (`at`, epoch ms, for redeemed and
    refunded). Its text is in the language asked for; the API's message (and detail) are the English ones."""

    def __init__(self, code: str, why: str, at: int | None = None, day: str | None = None) -> None:
        self.code, self.why, self.at, self.day = code, why, at, day
        super().__init__("VOUCHER_NOT_VERIFIABLE", self.reason("en"), why=why, at=at)

    def reason(self, lang: str = "zh-CN") -> str:
        zh, en = REASONS[self.why]
        at = beijing(self.at) if self.at else "?"
        return (en if lang.startswith("en") else zh).format(code=self.code, at=at, day=self.day or "?")

    def text(self, lang: str = "zh-CN") -> str:
        base = self.spec.en if lang.startswith("en") else self.spec.zh
        return f"{base}: {self.reason(lang)}" if lang.startswith("en") else f"{base}:{self.reason(lang)}"


async def why_not(conn: AsyncConnection, app_id: str, item_order_id: str, code: str, now: int) -> NotRedeemable:
    """Why this unit (of the app) is not redeemable now (read after its guarded UPDATE matched nothing)."""
    item = ItemOrder.from_row((await conn.execute(select(item_orders).where(
        item_orders.c.app_id == app_id, item_orders.c.item_order_id == item_order_id))).one())
    if item.status == ItemStatus.UNUSED and item.refunding_amount == 0:
        if item.locked:
            return NotRedeemable(code, "locked")
        if item.book_status == BookStatus.PENDING:
            return NotRedeemable(code, "booking")
        if not bookable_day_ok(item.book_status, item.book_date, beijing_day(now)):
            return NotRedeemable(code, "other_day", day=item.book_date)
    if item.refunding_amount > 0 or item.status == ItemStatus.REFUNDING:
        return NotRedeemable(code, "refunding")
    if item.status == ItemStatus.REDEEMED:
        return NotRedeemable(code, "redeemed", item.verified_at or item.updated_at)
    if item.status == ItemStatus.REFUNDED:
        return NotRedeemable(code, "refunded", await _refunded_at(conn, item) or item.updated_at)
    return NotRedeemable(code, "unpaid" if item.status == ItemStatus.UNPAID else "closed")


async def _refunded_at(conn: AsyncConnection, item: ItemOrder) -> int | None:
    """When the last successful refund of this unit finished."""
    at = (await conn.execute(
        select(func.max(refunds.c.refund_at)).select_from(refund_items.join(refunds, and_(
            refunds.c.app_id == refund_items.c.app_id, refunds.c.refund_id == refund_items.c.refund_id)))
        .where(refund_items.c.app_id == item.app_id, refund_items.c.item_order_id == item.item_order_id,
               refunds.c.status == "SUCCESS")
    )).scalar()
    return None if at is None else int(at)
