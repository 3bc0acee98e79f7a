"""The postings of the trade: a payment paid and a refund succeeded. Each reads its row on the caller's
connection and posts only when the row is final (SUCCESS), so the caller calls it right after the update that
makes it so, in the same transaction; a second call (a retry, a second notify) posts nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.ledger.accounts import PAY, REFUND, channel, held
from paybutton.ledger.posting import Line, post
from paybutton.payment_state import Payment
from paybutton.tables import orders, payments, refund_items, refunds

SUCCESS = "SUCCESS"  # payments.state and refunds.status share the word


async def record_payment(conn: AsyncConnection, app_id: str, payment_id: str, at_ms: int) -> bool:
    """Post `pay` for a SUCCESS payment attempt: channel:<provider> +amount, held:<app> -amount (its order)."""
    row = (await conn.execute(select(payments).where(payments.c.app_id == app_id,
                                                     payments.c.payment_id == payment_id))).first()
    if row is None:
        return False
    p = Payment.from_row(row)
    if p.state != SUCCESS:
        return False
    lines = [Line(channel(p.provider), p.amount, order_id=p.order_id),
             Line(held(p.app_id), -p.amount, order_id=p.order_id)]
    return await post(conn, app_id=p.app_id, kind=PAY, ref_id=p.payment_id, lines=lines, at_ms=at_ms)


async def refund_provider(conn: AsyncConnection, r: Row[Any]) -> str:
    """The channel a refund gives money back through: its payment's, else the payment that paid its order."""
    pid = r.payment_id
    if pid is None:
        pid = (await conn.execute(select(orders.c.payment_id).where(orders.c.app_id == r.app_id,
                                                                    orders.c.order_id == r.order_id))
               ).scalar_one_or_none()
    provider = None
    if pid is not None:
        provider = (await conn.execute(select(payments.c.provider).where(payments.c.app_id == r.app_id,
                                                                         payments.c.payment_id == pid))
                    ).scalar_one_or_none()
    return str(provider or "sandbox")


async def record_refund(conn: AsyncConnection, app_id: str, refund_id: str, at_ms: int) -> bool:
    """Post `refund` for a SUCCESS refund: held:<app> +amount per unit (the whole total on the order for a
    late payment's refund, which holds no units), channel:<provider> -total."""
    r = (await conn.execute(select(refunds).where(refunds.c.app_id == app_id,
                                                  refunds.c.refund_id == refund_id))).first()
    if r is None or r.status != SUCCESS:
        return False
    units = (await conn.execute(select(refund_items.c.item_order_id, refund_items.c.amount)
                                .where(refund_items.c.app_id == app_id, refund_items.c.refund_id == refund_id)
                                .order_by(refund_items.c.item_order_id))).all()
    lines = [Line(held(r.app_id), a, order_id=r.order_id, item_order_id=i) for i, a in units]
    rest = r.refund_total_amount - sum(a for _, a in units)
    if rest:
        lines.append(Line(held(r.app_id), rest, order_id=r.order_id))
    lines.append(Line(channel(await refund_provider(conn, r)), -r.refund_total_amount, order_id=r.order_id))
    return await post(conn, app_id=r.app_id, kind=REFUND, ref_id=refund_id, lines=lines, at_ms=at_ms)
