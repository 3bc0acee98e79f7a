"""The order SQL that runs on both databases: queries and guarded updates for orders, item orders and payments
(built once, at import, so a request only binds parameters; SQLAlchemy caches the compiled form), and, at the end,
the named statements of a new order that both order writers render (TAKE, ACCEPT). What only one database runs is
in order/store_pg.py (the PostgreSQL writer's statements) and order/store_sqlite.py (the SQLite writer's)."""

from __future__ import annotations

import re
from typing import Any, TypedDict

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.goods.selling import SELL_SQL
from paybutton.order.rows import ItemOrder, Order
from paybutton.order.states import (
    LIVE_PAYMENT_STATES,
    REDEEMABLE_UNIT,
    UNPAID,
    BookStatus,
    ItemStatus,
    OrderStatus,
    PreOrder,
)
from paybutton.payment_state import Payment
from paybutton.tables import goods, item_orders, orders, payments, settles

# Writing a new order (taking stock) and accepting the pre-order are run by the order writer (order/writer.py: one
# round trip each), with the statements at the end of this file.

RETURN_STOCK = (
    update(goods)
    .where(goods.c.app_id == bindparam("a"), goods.c.goods_id == bindparam("g"))
    .values(stock=goods.c.stock + bindparam("q"), sold=goods.c.sold - bindparam("q"), updated_at=bindparam("now"))
)


# states.REDEEMABLE_UNIT over item_orders.
REDEEMABLE = and_(*(item_orders.c[column] == value for column, value in REDEEMABLE_UNIT))
# ... and on the day bound as :today (states.bookable_day_ok): what a verification checks.
REDEEMABLE_TODAY = and_(REDEEMABLE, or_(
    item_orders.c.book_status == int(BookStatus.NONE),
    and_(item_orders.c.book_status == int(BookStatus.CONFIRMED), item_orders.c.book_date == bindparam("today"))))
# One unit of one order of the app (:app, :iid, :oid): the key of a guarded update of a unit's money.
ONE_UNIT = and_(item_orders.c.app_id == bindparam("app"), item_orders.c.item_order_id == bindparam("iid"),
                item_orders.c.order_id == bindparam("oid"))
# A unit not settled: a settled unit's money is the merchant's (issue 21), so no refund holds it, no second settle
# takes it and its verification is not cancelled.
UNSETTLED = item_orders.c.settle_id.is_(None)

# Every statement of one order names its app (`:app`): on Citus it is routed to the app's node (distribution.py).
CLOSE_ITEMS = (
    update(item_orders)
    .where(item_orders.c.app_id == bindparam("app"), item_orders.c.order_id == bindparam("oid"),
           item_orders.c.status == int(ItemStatus.UNPAID))
    .values(status=int(ItemStatus.CLOSED), updated_at=bindparam("now"))
)

# An order a payment may land on: unpaid, and accepted by the merchant (paying while it is before the deadline).
PAYABLE = and_(orders.c.status.in_(UNPAID), orders.c.pre_order_status == PreOrder.OK.value)

OPEN_CASHIER = (
    update(orders)
    .where(orders.c.app_id == bindparam("app"), orders.c.order_id == bindparam("oid"), PAYABLE,
           orders.c.pay_expire_at > bindparam("now"))
    .values(status=OrderStatus.PROCESS.value, updated_at=bindparam("now"))
)

MARK_PAID = (
    update(orders)
    .where(orders.c.app_id == bindparam("app"), orders.c.order_id == bindparam("oid"), PAYABLE)
    .values(
        status=OrderStatus.SUCCESS.value,
        paid_at=bindparam("now"),
        pay_channel=bindparam("pay_channel"),
        channel_pay_id=bindparam("channel_pay_id"),
        payment_id=bindparam("payment_id"),
        updated_at=bindparam("now"),
    )
)

ITEMS_PAID = (
    update(item_orders)
    .where(item_orders.c.app_id == bindparam("app"), item_orders.c.order_id == bindparam("oid"),
           item_orders.c.status == int(ItemStatus.UNPAID))
    .values(status=int(ItemStatus.UNUSED), updated_at=bindparam("now"))
)

INSERT_PAYMENT = payments.insert()


# What ending an order returns: what is needed to give its stock back and to tell the merchant (order/ending.py).
_ENDED = (orders.c.app_id, orders.c.goods_id, orders.c.goods_type, orders.c.quantity, orders.c.pre_order_status)


def end_unpaid(to_status: str) -> Any:
    """Guarded INIT|PROCESS -> TIMEOUT / FAIL, returning what is needed to give the stock back."""
    return (
        update(orders)
        .where(orders.c.app_id == bindparam("app"), orders.c.order_id == bindparam("oid"),
               orders.c.status.in_(UNPAID))
        .values(status=to_status, message=bindparam("message"), updated_at=bindparam("now"))
        .returning(*_ENDED)
    )


TIME_OUT = end_unpaid(OrderStatus.TIMEOUT.value).where(orders.c.pay_expire_at <= bindparam("now"))
CLOSE = end_unpaid(OrderStatus.FAIL.value)
# The merchant refused or failed the pre-order: FAIL, guarded on the order still waiting for that answer.
FAIL_PRE_ORDER = (
    update(orders)
    .where(
        orders.c.app_id == bindparam("app"),
        orders.c.order_id == bindparam("oid"),
        orders.c.status == OrderStatus.INIT.value,
        orders.c.pre_order_status == PreOrder.PENDING.value,
    )
    .values(
        status=OrderStatus.FAIL.value,
        pre_order_status=PreOrder.FAILED.value,
        message=bindparam("message"),
        updated_at=bindparam("now"),
    )
    .returning(*_ENDED)
)

# A sweep over every app (the expiry sweeper): multi-shard on Citus by nature; each order it finds is then ended
# by its app and id.
DUE_FOR_EXPIRY = (
    select(orders.c.app_id, orders.c.order_id)
    .where(orders.c.status.in_(UNPAID), orders.c.pay_expire_at <= bindparam("now"))
    .order_by(orders.c.pay_expire_at)
    .limit(bindparam("n"))
)


def _order(row: Row[Any] | None) -> Order | None:
    return None if row is None else Order.from_row(row)


def _payment(row: Row[Any] | None) -> Payment | None:
    return None if row is None else Payment.from_row(row)


async def order_row(conn: AsyncConnection, app_id: str, order_id: str) -> Order | None:
    q = select(orders).where(orders.c.app_id == app_id, orders.c.order_id == order_id)
    return _order((await conn.execute(q)).first())


async def find_order(
    conn: AsyncConnection, app_id: str, *, order_id: str | None = None, out_order_no: str | None = None
) -> Order | None:
    """An order of this app by platform id or merchant number (never another app's)."""
    cond = [orders.c.app_id == app_id]
    if order_id:
        cond.append(orders.c.order_id == order_id)
    if out_order_no:
        cond.append(orders.c.out_order_no == out_order_no)
    if len(cond) == 1:
        return None
    return _order((await conn.execute(select(orders).where(and_(*cond)))).first())


async def find_buyer_order(conn: AsyncConnection, app_id: str, open_id: str, ref: str) -> Order | None:
    """A buyer's own order by platform order id or merchant out_order_no; None for anyone else's."""
    row = await find_order(conn, app_id, order_id=ref) or await find_order(conn, app_id, out_order_no=ref)
    return row if row is not None and row.open_id == open_id else None


async def items_of(conn: AsyncConnection, app_id: str, order_id: str) -> list[ItemOrder]:
    q = (select(item_orders).where(item_orders.c.app_id == app_id, item_orders.c.order_id == order_id)
         .order_by(item_orders.c.seq))
    return [ItemOrder.from_row(r) for r in (await conn.execute(q)).all()]


async def settled_to_seller(conn: AsyncConnection, app_id: str, order_id: str) -> int:
    """What the order's settles gave the seller (query_order's settle_amount; issue 21)."""
    q = select(func.coalesce(func.sum(settles.c.settle_amount), 0)).where(settles.c.app_id == app_id,
                                                                          settles.c.order_id == order_id)
    return int((await conn.execute(q)).scalar_one())


async def refunded_total(conn: AsyncConnection, app_id: str, order_id: str) -> int:
    q = select(func.coalesce(func.sum(item_orders.c.refunded_amount), 0)).where(
        item_orders.c.app_id == app_id, item_orders.c.order_id == order_id)
    return int((await conn.execute(q)).scalar_one())


# ------------------------------------------------------------ payment attempts (order/paying.py, order/reconcile.py)


async def attempt_row(conn: AsyncConnection, app_id: str, payment_id: str) -> Payment | None:
    q = select(payments).where(payments.c.app_id == app_id, payments.c.payment_id == payment_id)
    return _payment((await conn.execute(q)).first())


async def live_attempt(conn: AsyncConnection, app_id: str, order_id: str) -> Payment | None:
    q = select(payments).where(payments.c.app_id == app_id, payments.c.order_id == order_id,
                               payments.c.state.in_(LIVE_PAYMENT_STATES))
    return _payment((await conn.execute(q)).first())


async def due_attempts(conn: AsyncConnection, now: int, limit: int) -> list[tuple[str, str, int]]:
    """(app_id, payment_id, next_check_at) of the live attempts the reconciler should ask the channel about now:
    a sweep over every app (multi-shard on Citus by nature); each attempt is then handled by its app and id."""
    q = (select(payments.c.app_id, payments.c.payment_id, payments.c.next_check_at)
         .where(payments.c.state.in_(LIVE_PAYMENT_STATES), payments.c.next_check_at <= now)
         .order_by(payments.c.next_check_at).limit(limit))
    return [(str(app), str(pid), int(seen)) for app, pid, seen in (await conn.execute(q)).all()]


class AttemptChange(TypedDict, total=False):
    """What `set_attempt` may change on an attempt: these columns of `payments`, typed as Payment declares them
    (tests/unit/test_typed_rows.py checks that they are Payment's)."""

    state: str
    outcome: str
    channel_pay_id: str | None
    late: bool
    action: str | None
    message: str | None
    updated_at: int | None
    next_check_at: int | None
    checks: int


async def set_attempt(conn: AsyncConnection, app_id: str, payment_id: str, values: AttemptChange, *,
                      states: tuple[str, ...] | None = None, next_check_at: int | None = None) -> int:
    """Set `values` on one attempt, guarded (when given) on its state being one of `states` and on its
    next_check_at (a reconciler's claim); how many rows changed (0 or 1)."""
    q = update(payments).where(payments.c.app_id == app_id, payments.c.payment_id == payment_id)
    if states is not None:
        q = q.where(payments.c.state.in_(states))
    if next_check_at is not None:
        q = q.where(payments.c.next_check_at == next_check_at)
    return int((await conn.execute(q.values(**values))).rowcount)


async def mark_late(conn: AsyncConnection, app_id: str, order_id: str, now: int) -> None:
    """The order has a late payment: the refund worker gives it back (refund/worker.refund_late_payment)."""
    await conn.execute(update(orders).where(orders.c.app_id == app_id, orders.c.order_id == order_id)
                       .values(auto_refund_pending=True, updated_at=now))


async def lock_if_payable(conn: AsyncConnection, app_id: str, order_id: str, at: int) -> bool:
    """The order is still payable at `at` (unpaid, accepted, before its deadline); its row stays locked by this
    transaction (a no-op update), so a settlement in flight finishes first."""
    res = await conn.execute(update(orders).where(orders.c.app_id == app_id, orders.c.order_id == order_id, PAYABLE,
                                                  orders.c.pay_expire_at > at)
                             .values(updated_at=orders.c.updated_at))
    return bool(res.rowcount == 1)


async def paid_by(conn: AsyncConnection, app_id: str, order_id: str) -> str | None:
    """The attempt that paid the order."""
    q = select(orders.c.payment_id).where(orders.c.app_id == app_id, orders.c.order_id == order_id)
    got = (await conn.execute(q)).scalar_one_or_none()
    return None if got is None else str(got)


async def units_without_voucher(conn: AsyncConnection, app_id: str, order_id: str) -> list[str]:
    """The order's paid units that have no voucher code yet."""
    return [str(i) for i in (await conn.execute(select(item_orders.c.item_order_id).where(
        item_orders.c.app_id == app_id, item_orders.c.order_id == order_id, item_orders.c.voucher_code.is_(None),
        item_orders.c.status == int(ItemStatus.UNUSED)).order_by(item_orders.c.item_order_id))).scalars().all()]


async def set_voucher(conn: AsyncConnection, app_id: str, item_order_id: str, code: str, certificate_id: str,
                      now: int) -> None:
    await conn.execute(update(item_orders).where(item_orders.c.app_id == app_id,
                                                 item_orders.c.item_order_id == item_order_id).values(
        voucher_code=code, certificate_id=certificate_id, updated_at=now))


# ----------------------------------------------- a new order's statements, rendered by both order writers (named)

GOODS_RETURNING = "name, photo_url, price, labels, date_rule, biz_line"

# The guarded stock statement: the sell condition, plus the price the merchant priced when there is one.
TAKE = f"""UPDATE goods SET stock = stock - :q, sold = sold + :q, updated_at = :now
 WHERE app_id = :app_id AND goods_id = :goods_id
   AND {SELL_SQL}
   AND (price = :price OR CAST(:price AS BIGINT) IS NULL)
RETURNING {GOODS_RETURNING}"""

# The merchant's acceptance lands only on an order still waiting for it (not ended meanwhile).
ACCEPTABLE = f"status = '{OrderStatus.INIT.value}' AND pre_order_status = '{PreOrder.PENDING.value}'"
ACCEPTED = f"pre_order_status = '{PreOrder.OK.value}'"
ACCEPT = f"""UPDATE orders SET out_order_no = :out_order_no, {ACCEPTED},
       pay_expire_at = :expire_at, order_entry_schema = :schema, updated_at = :now
 WHERE app_id = :app_id AND order_id = :order_id AND {ACCEPTABLE}"""

ATTEMPT_COLUMNS = ("app_id", "type", "order_id", "attempt", "url", "logid", "started_at", "duration_ms",
                   "http_status", "ok", "answer_head", "error")

_NAME = re.compile(r"'(?:[^']|'')*'|(?<![:\w]):([a-z_]+)")  # a quoted string (left as it is) or a :name


def positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """`:name` parameters as asyncpg's `$n` (the same name, the same number), and the names in number order."""
    names: list[str] = []

    def number(m: re.Match[str]) -> str:
        if m.group(1) is None:
            return m.group(0)
        if m.group(1) not in names:
            names.append(m.group(1))
        return f"${names.index(m.group(1)) + 1}"

    return _NAME.sub(number, sql), tuple(names)
