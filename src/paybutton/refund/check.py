"""`paybutton check`: scan the database for broken money invariants. Each problem is one line naming the row.

Per unit: 0 ≤ refunded, 0 ≤ in flight, refunded + in flight ≤ price; refunded = the sum of its SUCCESS refunds,
in flight = the sum of its PROCESSING refunds; the status agrees with the money. Per refund: its total is the sum
of its units (late-payment refunds hold no units); SUCCESS has refund_at. Per paid order: the units' prices add
up to the payable and the refunds never exceed it. A late or duplicate payment (a payment attempt kept after the
order had ended or been paid by another attempt) is its own money: its refunds count against that payment, never
against the order's payable."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.order import states
from paybutton.order.states import ItemStatus, OrderStatus
from paybutton.refund.rules import RefundStatus, Source
from paybutton.tables import item_orders, orders, payments, refund_items, refunds


async def scan(conn: AsyncConnection) -> list[str]:
    problems: list[str] = []
    rs = {r.refund_id: r for r in (await conn.execute(select(refunds))).all()}
    by_refund: dict[str, int] = defaultdict(int)
    done: dict[str, int] = defaultdict(int)
    flying: dict[str, int] = defaultdict(int)
    for ri in (await conn.execute(select(refund_items))).all():
        r = rs.get(ri.refund_id)
        if r is None:
            problems.append(f"refund item {ri.refund_id}/{ri.item_order_id}: no such refund")
            continue
        by_refund[ri.refund_id] += ri.amount
        if r.status == RefundStatus.SUCCESS:
            done[ri.item_order_id] += ri.amount
        elif r.status == RefundStatus.PROCESSING:
            flying[ri.item_order_id] += ri.amount
    items_by_order: dict[str, list[Any]] = defaultdict(list)
    for i in (await conn.execute(select(item_orders))).all():
        items_by_order[i.order_id].append(i)
        where = f"item order {i.item_order_id} (order {i.order_id})"
        if i.refunded_amount < 0 or i.refunding_amount < 0 or i.refunded_amount + i.refunding_amount > i.price:
            problems.append(f"{where}: refunded {i.refunded_amount} + in flight {i.refunding_amount} "
                            f"outside 0..price {i.price}")
        if i.refunded_amount != done[i.item_order_id]:
            problems.append(f"{where}: refunded {i.refunded_amount} but its SUCCESS refunds say "
                            f"{done[i.item_order_id]}")
        if i.refunding_amount != flying[i.item_order_id]:
            problems.append(f"{where}: in flight {i.refunding_amount} but its PROCESSING refunds say "
                            f"{flying[i.item_order_id]}")
        if (i.status == ItemStatus.REFUNDING) != (i.refunding_amount > 0):
            problems.append(f"{where}: status {i.status} with {i.refunding_amount} in flight")
        if i.status == ItemStatus.REFUNDED and i.refunded_amount != i.price:
            problems.append(f"{where}: status refunded but only {i.refunded_amount} of {i.price} refunded")
        if i.status == ItemStatus.REDEEMED and not i.verify_id:
            problems.append(f"{where}: redeemed without a verification")
    for rid, r in rs.items():
        held = by_refund.get(rid, 0)
        if r.source != Source.LATE_PAYMENT and held != r.refund_total_amount:
            problems.append(f"refund {rid}: total {r.refund_total_amount} but its units hold {held}")
        if r.status == RefundStatus.SUCCESS and r.refund_at is None:
            problems.append(f"refund {rid}: SUCCESS without refund_at")
    late = {p.payment_id: p for p in (await conn.execute(
        select(payments).where(payments.c.late.is_(True), payments.c.outcome == "SUCCESS"))).all()}
    late_by_order: dict[str, int] = defaultdict(int)
    for p in late.values():
        late_by_order[p.order_id] += p.amount
    refunded_by_order: dict[str, int] = defaultdict(int)
    refunded_by_late: dict[str, int] = defaultdict(int)  # per late payment
    refunded_late_unnamed: dict[str, int] = defaultdict(int)  # late-payment refunds from before refunds.payment_id
    for r in rs.values():
        if r.status == RefundStatus.FAIL:
            continue
        if r.payment_id is not None and r.payment_id in late:
            refunded_by_late[r.payment_id] += r.refund_total_amount
        elif r.payment_id is None and r.source == Source.LATE_PAYMENT:
            refunded_late_unnamed[r.order_id] += r.refund_total_amount
        else:
            refunded_by_order[r.order_id] += r.refund_total_amount
    for pid, amount in refunded_by_late.items():
        if amount > late[pid].amount:
            problems.append(f"payment {pid} (order {late[pid].order_id}): refunds {amount} exceed the late "
                            f"payment {late[pid].amount}")
    for oid, amount in refunded_late_unnamed.items():
        if amount > late_by_order[oid]:
            problems.append(f"order {oid}: late-payment refunds {amount} exceed its late payments {late_by_order[oid]}")
    for o in (await conn.execute(select(orders))).all():
        payable = states.payable(o.total_amount, o.discount_amount)
        units = items_by_order.get(o.order_id, [])
        if units and sum(i.price for i in units) != payable:
            problems.append(f"order {o.order_id}: units add up to {sum(i.price for i in units)}, payable {payable}")
        if refunded_by_order[o.order_id] > payable:
            problems.append(f"order {o.order_id}: refunds {refunded_by_order[o.order_id]} exceed payable {payable}")
        if o.status != OrderStatus.SUCCESS and any(
                i.status in (ItemStatus.UNUSED, ItemStatus.REDEEMED) for i in units):
            problems.append(f"order {o.order_id}: {o.status} but has paid units")
    return problems
