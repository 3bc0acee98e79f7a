"""Reservations, the stories: create_book (units held for a day, BOOKING), book_result_callback (the merchant
confirms: SUCCESS, or refuses: FAIL and the units are free again), merchant_cancel_book / user_cancel_book
(CANCEL, the units free again; the buyer only as the cancel policy allows) and query_book. Every change is guarded
on the state it leaves and runs in the caller's transaction: a refusal raises before anything is written, or
rolls back what was.

Douyin: 创建预约单 / 预约接单结果回调 / 商家取消预约 / 用户取消预约 / 查询预约单信息,
https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/trade-system/self-operated-trading/book/
(create-book-order, book-result-callback, merchant-cancel-book, user-cancel-book, query-book)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton import ids
from paybutton.booking import rules
from paybutton.booking.rules import BookState
from paybutton.clock import Clock
from paybutton.errors import TradeError
from paybutton.order import store as order_store
from paybutton.order.rows import ItemOrder
from paybutton.order.states import BookStatus, ItemStatus, OrderStatus, redeemable
from paybutton.tables import bookings, item_orders

# Hold a free unit for a booking: redeemable (unused, nothing in flight, not locked) and not booked. Every statement
# of a booking's units names their app (`:app`): on Citus it is routed to the app's node (distribution.py).
HOLD = (
    update(item_orders)
    .where(item_orders.c.app_id == bindparam("app"), item_orders.c.item_order_id == bindparam("iid"),
           item_orders.c.order_id == bindparam("oid"), order_store.REDEEMABLE,
           item_orders.c.book_status == int(BookStatus.NONE))
    .values(book_status=int(BookStatus.PENDING), book_date=bindparam("day"), updated_at=bindparam("now"))
)
CONFIRM_UNITS = (
    update(item_orders)
    .where(item_orders.c.app_id == bindparam("app"),
           item_orders.c.item_order_id.in_(bindparam("iids", expanding=True)),
           item_orders.c.book_status == int(BookStatus.PENDING))
    .values(book_status=int(BookStatus.CONFIRMED), updated_at=bindparam("now"))
)
# A refused or cancelled booking frees its units (a redeemed unit keeps its day: it was used on it).
FREE_UNITS = (
    update(item_orders)
    .where(item_orders.c.app_id == bindparam("app"),
           item_orders.c.item_order_id.in_(bindparam("iids", expanding=True)),
           item_orders.c.book_status != int(BookStatus.NONE), item_orders.c.status != int(ItemStatus.REDEEMED))
    .values(book_status=int(BookStatus.NONE), book_date=None, updated_at=bindparam("now"))
)


@dataclass(frozen=True)
class BookItem:
    """One ItemBookInfo of create_book."""

    goods_id: str
    book_start_time: int
    book_end_time: int
    poi_id: str = ""
    shop_name: str = ""
    ext_shop_id: str = ""
    item_order_id: str | None = None
    user_info_list: list[dict[str, Any]] = field(default_factory=list)


async def create(conn: AsyncConnection, clock: Clock, app_id: str, *, order_id: str, out_book_no: str,
                 open_id: str, items: list[BookItem]) -> dict[str, Any]:
    """create_book: hold one unit per ItemBookInfo for the day of its start, BOOKING."""
    order = await order_store.find_order(conn, app_id, order_id=order_id)
    if order is None or order.open_id != open_id:
        raise TradeError("ORDER_NOT_FOUND", order_id)
    same = (await conn.execute(select(bookings).where(bookings.c.app_id == app_id,
                                                      bookings.c.out_book_no == out_book_no))).first()
    if same is not None:
        if same.order_id != order_id:
            raise TradeError("OUT_BOOK_NO_DUPLICATE", out_book_no)
        return {"book_id": same.book_id, "out_book_no": out_book_no, "status": same.status}
    if order.status != OrderStatus.SUCCESS:
        raise TradeError("ORDER_STATUS_CONFLICT", f"the order is {order.status}")
    snap = json.loads(order.goods_snapshot)
    advance = rules.days_in_advance(snap.get("labels") or [])
    if advance is None:
        raise TradeError("BOOK_NOT_SUPPORTED", order.goods_id)
    now = clock.now_ms()
    first = items[0]
    if any(i.goods_id != order.goods_id for i in items):
        raise TradeError("BOOK_UNIT_UNAVAILABLE", "goods_id must be the order's goods")
    if any((i.book_start_time, i.book_end_time) != (first.book_start_time, first.book_end_time) for i in items):
        raise TradeError("BOOK_DATE_NOT_ALLOWED", "every ItemBookInfo of one booking has the same times")
    day = rules.check_times(first.book_start_time, first.book_end_time, now, advance,
                            str(snap.get("date_rule") or ""))
    chosen = _choose_units(await order_store.items_of(conn, order.app_id, order.order_id), items)
    for iid in chosen:
        res = await conn.execute(HOLD, {"app": order.app_id, "iid": iid, "oid": order.order_id, "day": day, "now": now})
        if res.rowcount != 1:
            raise TradeError("BOOK_UNIT_UNAVAILABLE", iid)
    policy, hours = _policy(snap)
    book_id = ids.book_id()
    await conn.execute(bookings.insert().values(
        book_id=book_id, app_id=app_id, order_id=order.order_id, out_book_no=out_book_no, open_id=open_id,
        status=BookState.BOOKING.value, book_date=day, book_start_time=first.book_start_time,
        book_end_time=first.book_end_time, cancel_policy=policy, cancel_advance_hour=hours, created_at=now,
        updated_at=now, items=json.dumps([_item_json(i, iid) for i, iid in zip(items, chosen, strict=True)],
                                         ensure_ascii=False)))
    return {"book_id": book_id, "out_book_no": out_book_no, "status": BookState.BOOKING.value}


def _choose_units(units: list[ItemOrder], items: list[BookItem]) -> list[str]:
    """The item order of each ItemBookInfo: the one named, else the next free unit (Douyin: 如果不指定的话,
    会自动分配)."""
    by_id = {u.item_order_id: u for u in units}
    named = [i.item_order_id for i in items if i.item_order_id]
    if len(set(named)) != len(named):
        raise TradeError("BOOK_UNIT_UNAVAILABLE", "an item_order_id is listed twice")
    for iid in named:
        if iid not in by_id:
            raise TradeError("ITEM_ORDER_NOT_IN_ORDER", iid)
    free = [u.item_order_id for u in units if u.item_order_id not in named and redeemable(u)
            and u.book_status == BookStatus.NONE]
    chosen = []
    for i in items:
        if i.item_order_id:
            chosen.append(i.item_order_id)
        elif free:
            chosen.append(free.pop(0))
        else:
            raise TradeError("BOOK_UNIT_UNAVAILABLE", "no unit of this order is left to book")
    return chosen


def _policy(snap: dict[str, Any]) -> tuple[int, int]:
    """The cancel policy the order carries (create_order's goods_book_info), else 3 with 24 hours."""
    info = snap.get("goods_book_info") or {}
    policy = info.get("cancel_policy") if isinstance(info, dict) else None
    hours = info.get("cancel_advance_hour") if isinstance(info, dict) else None
    known = {int(p) for p in rules.CancelPolicy}
    return (policy if isinstance(policy, int) and policy in known else int(rules.CancelPolicy.HOURS_BEFORE),
            int(hours) if isinstance(hours, int) and hours >= 0 else rules.DEFAULT_CANCEL_ADVANCE_HOUR)


def _item_json(i: BookItem, iid: str) -> dict[str, Any]:
    return {"item_order_id": iid, "goods_id": i.goods_id, "poi_id": i.poi_id, "shop_name": i.shop_name,
            "ext_shop_id": i.ext_shop_id, "user_info_list": i.user_info_list}


async def _book(conn: AsyncConnection, app_id: str, book_id: str) -> Any:
    row = (await conn.execute(select(bookings).where(bookings.c.book_id == book_id,
                                                     bookings.c.app_id == app_id))).first()
    if row is None:
        raise TradeError("BOOK_NOT_FOUND", book_id)
    return row


def _unit_ids(book: Any) -> list[str]:
    return [str(i["item_order_id"]) for i in json.loads(book.items)]


async def _move(conn: AsyncConnection, book: Any, frm: tuple[str, ...], to: BookState, now: int, **values: Any) -> None:
    res = await conn.execute(update(bookings).where(
        and_(bookings.c.app_id == book.app_id, bookings.c.book_id == book.book_id, bookings.c.status.in_(frm))).values(
        status=to.value, updated_at=now, **values))
    if res.rowcount != 1:
        raise TradeError("BOOK_STATUS_CONFLICT", f"the booking is {book.status}")


async def result(conn: AsyncConnection, clock: Clock, app_id: str, *, book_id: str, success: bool,
                 reason: str) -> dict[str, Any]:
    """book_result_callback: the merchant confirms (SUCCESS) or refuses (FAIL, units free) a BOOKING."""
    book = await _book(conn, app_id, book_id)
    now = clock.now_ms()
    if success:
        await _move(conn, book, (BookState.BOOKING.value,), BookState.SUCCESS, now)
        await conn.execute(CONFIRM_UNITS, {"app": book.app_id, "iids": _unit_ids(book), "now": now})
    else:
        await _move(conn, book, (BookState.BOOKING.value,), BookState.FAIL, now, reason=reason)
        await conn.execute(FREE_UNITS, {"app": book.app_id, "iids": _unit_ids(book), "now": now})
    return {"book_id": book_id, "status": (BookState.SUCCESS if success else BookState.FAIL).value}


async def cancel(conn: AsyncConnection, clock: Clock, app_id: str, *, book_id: str, by: str, reason: str,
                 open_id: str | None = None) -> dict[str, Any]:
    """merchant_cancel_book (any live booking none of whose units was redeemed) and user_cancel_book (the
    buyer's own, as the cancel policy allows)."""
    book = await _book(conn, app_id, book_id)
    now = clock.now_ms()
    if open_id is not None and book.open_id != open_id:
        raise TradeError("BOOK_NOT_FOUND", book_id)
    if book.status not in rules.LIVE:
        raise TradeError("BOOK_STATUS_CONFLICT", f"the booking is {book.status}")
    units = [u for u in await order_store.items_of(conn, book.app_id, book.order_id)
             if u.item_order_id in _unit_ids(book)]
    if any(u.status == ItemStatus.REDEEMED for u in units):
        raise TradeError("BOOK_STATUS_CONFLICT", "a unit of this booking was redeemed")
    if by == "user" and not rules.user_may_cancel(book.status, book.cancel_policy, book.cancel_advance_hour,
                                                  book.book_start_time, now):
        raise TradeError("BOOK_CANCEL_NOT_ALLOWED",
                         f"cancel policy {book.cancel_policy} ({book.cancel_advance_hour} h before the start)")
    await _move(conn, book, rules.LIVE, BookState.CANCEL, now, reason=reason, cancelled_by=by)
    await conn.execute(FREE_UNITS, {"app": book.app_id, "iids": _unit_ids(book), "now": now})
    return {"book_id": book_id, "status": BookState.CANCEL.value}


def book_view(b: Any) -> dict[str, Any]:
    """A booking as query_book answers it (book_info_list's entries)."""
    children = [{"item_order_id": i["item_order_id"], "goods_id": i["goods_id"], "poi_id": i["poi_id"],
                 "shop_name": i["shop_name"], "ext_shop_id": i["ext_shop_id"],
                 "book_start_time": b.book_start_time, "book_end_time": b.book_end_time,
                 "user_info_list": i["user_info_list"]} for i in json.loads(b.items)]
    return {"book_id": b.book_id, "order_id": b.order_id, "out_book_no": b.out_book_no, "open_id": b.open_id,
            "status": b.status, "book_date": b.book_date, "cancel_policy": b.cancel_policy,
            "cancel_advance_hour": b.cancel_advance_hour, "reason": b.reason or "",
            "cancelled_by": b.cancelled_by or "", "create_time": b.created_at, "update_time": b.updated_at,
            "book_child_info_list": children}


async def query(conn: AsyncConnection, app_id: str, *, book_id: str | None, order_id: str | None
                ) -> list[dict[str, Any]]:
    """query_book: by order_id (every booking of the order; it wins when both are given) or by book_id."""
    q = select(bookings).where(bookings.c.app_id == app_id)
    if order_id:
        if await order_store.find_order(conn, app_id, order_id=order_id) is None:
            raise TradeError("ORDER_NOT_FOUND", order_id)
        q = q.where(bookings.c.order_id == order_id)
    elif book_id:
        q = q.where(bookings.c.book_id == book_id)
    else:
        raise TradeError("BOOK_NOT_FOUND", "book_id or order_id is required")
    rows = (await conn.execute(q.order_by(bookings.c.created_at, bookings.c.book_id))).all()
    if book_id and not order_id and not rows:
        raise TradeError("BOOK_NOT_FOUND", book_id)
    return [book_view(b) for b in rows]


async def of_order(conn: AsyncConnection, app_id: str, order_id: str) -> list[dict[str, Any]]:
    """Every booking of an order, oldest first (the console's and the buyer's order pages)."""
    rows = (await conn.execute(select(bookings).where(bookings.c.app_id == app_id, bookings.c.order_id == order_id)
                               .order_by(bookings.c.created_at, bookings.c.book_id))).all()
    return [book_view(b) for b in rows]


async def buyer_bookings(conn: AsyncConnection, app_id: str, open_id: str, ref: str) -> dict[str, Any]:
    """The buyer's own order's bookings (the order-detail page), by order id or out_order_no."""
    order = await order_store.find_buyer_order(conn, app_id, open_id, ref)
    if order is None:
        raise TradeError("ORDER_ID_INVALID", ref)
    return {"order_id": order.order_id, "bookings": await of_order(conn, order.app_id, order.order_id)}


async def list_bookings(conn: AsyncConnection, app_id: str, *, order_id: str | None, limit: int
                        ) -> list[dict[str, Any]]:
    """The app's bookings, newest first (`paybutton bookings list`)."""
    q = select(bookings).where(bookings.c.app_id == app_id)
    if order_id:
        q = q.where(bookings.c.order_id == order_id)
    rows = (await conn.execute(q.order_by(bookings.c.created_at.desc(), bookings.c.book_id).limit(limit))).all()
    return [book_view(b) for b in rows]
