"""Queries and guarded updates for refunds and the money they hold on item orders. Every change of a
unit's money is one guarded UPDATE, so refunded + in flight never passes the unit's price, on SQLite
and PostgreSQL, whoever races."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from sqlalchemy import BigInteger, and_, bindparam, case, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from paybutton.order.states import ItemStatus
from paybutton.order.store import ONE_UNIT, UNSETTLED
from paybutton.refund.rules import REFUNDABLE_STATUSES, AuditStatus, RefundStatus, Stage
from paybutton.tables import item_orders, refund_items, refunds

AMT = bindparam("amt", type_=BigInteger)


@dataclass(frozen=True)
class Refund:
    """A row of `refunds` (tables.py), as every refund module reads it."""

    refund_id: str
    app_id: str
    order_id: str
    status: str  # RefundStatus
    stage: str  # Stage
    refund_total_amount: int
    source: int  # Source
    audit_status: str  # AuditStatus
    need_refund_audit: int  # 1 required, 2 not required
    created_at: int
    updated_at: int
    out_refund_no: str | None = None
    refund_audit_deadline: int | None = None
    deny_message: str | None = None
    reason: str | None = None  # JSON list of strings
    description: str | None = None
    cp_extra: str | None = None
    notify_url: str | None = None
    order_entry_schema: str | None = None  # JSON
    pre_refund_outbox_id: int | None = None
    locked_until: int | None = None
    channel_refund_id: str | None = None
    message: str | None = None
    refund_at: int | None = None
    payment_id: str | None = None  # the late payment it gives back; None: the attempt that paid the order

    @classmethod
    def from_row(cls, row: Row[Any]) -> Self:
        return cls(**row._mapping)


@dataclass(frozen=True)
class RefundItem:
    """A row of `refund_items`: the money one refund holds (or took) on one unit."""

    refund_id: str
    item_order_id: str
    amount: int
    app_id: str  # 0017: the refund's app, in every key of the row (paybutton/distribution.py)

    @classmethod
    def from_row(cls, row: Row[Any]) -> Self:
        return cls(**row._mapping)


# Every statement of one refund or unit names its app (`:app`): on Citus it is routed to the app's node.
# Hold `amt` fen of a unit for a refund in flight: only an unused (or already refunding) unit with room left.
RESERVE = (
    update(item_orders)
    .where(
        ONE_UNIT,
        item_orders.c.status.in_(REFUNDABLE_STATUSES),
        item_orders.c.locked == 0,  # a locked certificate does not refund until unlocked
        UNSETTLED,
        item_orders.c.refunded_amount + item_orders.c.refunding_amount + AMT <= item_orders.c.price,
    )
    .values(
        refunding_amount=item_orders.c.refunding_amount + AMT,
        status=int(ItemStatus.REFUNDING),
        updated_at=bindparam("now"),
    )
)

# Money leaving flight (SETTLE, RELEASE): only from a unit that holds it; a unit with money still in flight for
# another refund stays REFUNDING (refund/rules.item_after_success states the same rule in Python, unit-tested).
_HOLDS_IT = and_(item_orders.c.app_id == bindparam("app"), item_orders.c.item_order_id == bindparam("iid"),
                 item_orders.c.refunding_amount >= AMT)
_STILL_IN_FLIGHT = (item_orders.c.refunding_amount - AMT > 0, int(ItemStatus.REFUNDING))

# The refund succeeded: the held money becomes refunded.
SETTLE = (
    update(item_orders)
    .where(_HOLDS_IT)
    .values(
        refunded_amount=item_orders.c.refunded_amount + AMT,
        refunding_amount=item_orders.c.refunding_amount - AMT,
        status=case(
            (item_orders.c.refunded_amount + AMT >= item_orders.c.price, int(ItemStatus.REFUNDED)),
            _STILL_IN_FLIGHT,
            else_=int(ItemStatus.UNUSED),
        ),
        updated_at=bindparam("now"),
    )
)

# The refund failed or was denied: the held money is free again.
RELEASE = (
    update(item_orders)
    .where(_HOLDS_IT)
    .values(
        refunding_amount=item_orders.c.refunding_amount - AMT,
        status=case(_STILL_IN_FLIGHT, else_=int(ItemStatus.UNUSED)),
        updated_at=bindparam("now"),
    )
)

# One refund of the app, by its id.
_THIS_REFUND = and_(refunds.c.app_id == bindparam("app"), refunds.c.refund_id == bindparam("rid"))
# A refund waiting for the merchant's audit (what the audit and its deadline may move on from).
_AWAITING_AUDIT = and_(refunds.c.stage == Stage.AUDIT.value, refunds.c.audit_status == AuditStatus.TOAUDIT.value)



def for_the_cashier(now: Any) -> ColumnElement[bool]:
    """A refund the cashier step may take at `now`: READY, or at the CASHIER with its lease run out (the instance
    that held it stopped). The worker's sweep and CLAIM_CASHIER's guard both ask this."""
    return or_(refunds.c.stage == Stage.READY.value,
               and_(refunds.c.stage == Stage.CASHIER.value, refunds.c.locked_until <= now))


SET_OUT_REFUND_NO = (
    update(refunds)
    .where(_THIS_REFUND, refunds.c.stage == Stage.PRE_REFUND.value,
           refunds.c.status == RefundStatus.PROCESSING.value)
    .values(
        out_refund_no=bindparam("orn"),
        notify_url=bindparam("notify_url"),
        order_entry_schema=bindparam("schema"),
        stage=bindparam("stage"),
        audit_status=bindparam("audit"),
        updated_at=bindparam("now"),
    )
)

OVERTIME = (
    update(refunds)
    .where(
        _THIS_REFUND,
        _AWAITING_AUDIT,
        refunds.c.refund_audit_deadline <= bindparam("now"),
    )
    .values(audit_status=AuditStatus.OVERTIME.value, stage=Stage.READY.value, updated_at=bindparam("now"))
)

AUDIT = (
    update(refunds)
    .where(
        refunds.c.app_id == bindparam("app"),
        refunds.c.out_refund_no == bindparam("orn"),
        _AWAITING_AUDIT,
    )
    .values(audit_status=bindparam("audit"), deny_message=bindparam("deny"), stage=bindparam("stage"),
            updated_at=bindparam("now"))
    .returning(refunds.c.refund_id)
)

CLAIM_CASHIER = (
    update(refunds)
    .where(
        _THIS_REFUND,
        refunds.c.status == RefundStatus.PROCESSING.value,
        for_the_cashier(bindparam("now")),
    )
    .values(stage=Stage.CASHIER.value, locked_until=bindparam("until"), updated_at=bindparam("now"))
)

FINISH = (
    update(refunds)
    .where(
        _THIS_REFUND,
        refunds.c.status == RefundStatus.PROCESSING.value,
        refunds.c.stage == bindparam("from_stage"),
    )
    .values(
        status=bindparam("to_status"), stage=Stage.DONE.value, message=bindparam("message"),
        channel_refund_id=bindparam("channel_refund_id"), refund_at=bindparam("refund_at"),
        locked_until=None, updated_at=bindparam("now"),
    )
)


async def refund_row(conn: AsyncConnection, app_id: str, refund_id: str) -> Refund | None:
    row = (await conn.execute(select(refunds).where(refunds.c.app_id == app_id,
                                                    refunds.c.refund_id == refund_id))).first()
    return None if row is None else Refund.from_row(row)


async def items_of(conn: AsyncConnection, app_id: str, refund_id: str) -> list[RefundItem]:
    q = (select(refund_items).where(refund_items.c.app_id == app_id, refund_items.c.refund_id == refund_id)
         .order_by(refund_items.c.item_order_id))
    return [RefundItem.from_row(row) for row in (await conn.execute(q)).all()]


async def find(
    conn: AsyncConnection, app_id: str, *, refund_id: str | None = None, out_refund_no: str | None = None,
    order_id: str | None = None,
) -> list[Refund]:
    """The app's refunds by one key (never another app's), oldest first."""
    q = select(refunds).where(refunds.c.app_id == app_id)
    if refund_id:
        q = q.where(refunds.c.refund_id == refund_id)
    elif out_refund_no:
        q = q.where(refunds.c.out_refund_no == out_refund_no)
    elif order_id:
        q = q.where(refunds.c.order_id == order_id)
    else:
        return []
    rows = (await conn.execute(q.order_by(refunds.c.created_at, refunds.c.refund_id))).all()
    return [Refund.from_row(row) for row in rows]
