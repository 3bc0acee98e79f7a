"""`paybutton check`: scan the database for broken money invariants. Each problem is one line naming the row.

Per unit: 0 ≤ refunded, 0 ≤ in flight, refunded + in flight ≤ price; refunded = the sum of its SUCCESS refunds,
in flight = the sum of its PROCESSING refunds; the status agrees with the money. Per refund: its total is the sum
of its units (late-payment refunds hold no units); SUCCESS has refund_at. Per paid order: the units' prices add
up to the payable and the refunds never exceed it. A late or duplicate payment (a payment attempt kept after the
order had ended or been paid by another attempt) is its own money: its refunds count against that payment, never
against the order's payable. The ledger's own invariants are ledger/check.py's."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.cashier.base import Outcome
from paybutton.ledger import check as ledger_check
from paybutton.order.rows import ItemOrder, Order
from paybutton.order.states import ItemStatus, OrderStatus
from paybutton.payment_state import Payment
from paybutton.refund.rules import RefundStatus, Source
from paybutton.refund.store import Refund, RefundItem
from paybutton.tables import item_orders, orders, payments, refund_items, refunds


@dataclass
class _Held:
    """What the refund_items rows say: fen per refund, and per unit refunded (SUCCESS) and in flight."""

    by_refund: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    done: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    flying: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass
class _Refunded:
    """The refunds' totals (FAIL excluded) by what they give back: the order's payable, a late payment, or a
    late payment not named (refunds from before refunds.payment_id)."""

    by_order: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    by_late: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    late_unnamed: dict[str, int] = field(default_factory=lambda: defaultdict(int))


async def scan(conn: AsyncConnection) -> list[str]:
    problems: list[str] = []
    rs = {r.refund_id: r for r in map(Refund.from_row, (await conn.execute(select(refunds))).all())}
    held = _held(rs, list(map(RefundItem.from_row, (await conn.execute(select(refund_items))).all())), problems)
    items_by_order: dict[str, list[ItemOrder]] = defaultdict(list)
    for i in map(ItemOrder.from_row, (await conn.execute(select(item_orders))).all()):
        items_by_order[i.order_id].append(i)
        problems += _unit_problems(i, held)
    problems += _refund_problems(rs, held)
    late = {p.payment_id: p for p in map(Payment.from_row, (await conn.execute(
        select(payments).where(payments.c.late.is_(True), payments.c.outcome == Outcome.SUCCESS.value))).all())}
    refunded = _refunded(rs, late)
    problems += _late_payment_problems(late, refunded)
    for o in map(Order.from_row, (await conn.execute(select(orders))).all()):
        problems += _order_problems(o, items_by_order.get(o.order_id, []), refunded.by_order[o.order_id])
    return problems + await ledger_check.scan(conn)


def _held(rs: dict[str, Refund], refund_item_rows: Sequence[RefundItem], problems: list[str]) -> _Held:
    held = _Held()
    for ri in refund_item_rows:
        r = rs.get(ri.refund_id)
        if r is None:
            problems.append(f"refund item {ri.refund_id}/{ri.item_order_id}: no such refund")
            continue
        held.by_refund[ri.refund_id] += ri.amount
        if r.status == RefundStatus.SUCCESS:
            held.done[ri.item_order_id] += ri.amount
        elif r.status == RefundStatus.PROCESSING:
            held.flying[ri.item_order_id] += ri.amount
    return held


def _unit_problems(i: ItemOrder, held: _Held) -> list[str]:
    problems = []
    where = f"item order {i.item_order_id} (order {i.order_id})"
    if i.refunded_amount < 0 or i.refunding_amount < 0 or i.refunded_amount + i.refunding_amount > i.price:
        problems.append(f"{where}: refunded {i.refunded_amount} + in flight {i.refunding_amount} "
                        f"outside 0..price {i.price}")
    if i.refunded_amount != held.done[i.item_order_id]:
        problems.append(f"{where}: refunded {i.refunded_amount} but its SUCCESS refunds say "
                        f"{held.done[i.item_order_id]}")
    if i.refunding_amount != held.flying[i.item_order_id]:
        problems.append(f"{where}: in flight {i.refunding_amount} but its PROCESSING refunds say "
                        f"{held.flying[i.item_order_id]}")
    if (i.status == ItemStatus.REFUNDING) != (i.refunding_amount > 0):
        problems.append(f"{where}: status {i.status} with {i.refunding_amount} in flight")
    if i.status == ItemStatus.REFUNDED and i.refunded_amount != i.price:
        problems.append(f"{where}: status refunded but only {i.refunded_amount} of {i.price} refunded")
    if i.status == ItemStatus.REDEEMED and not i.verify_id:
        problems.append(f"{where}: redeemed without a verification")
    return problems


def _refund_problems(rs: dict[str, Refund], held: _Held) -> list[str]:
    problems = []
    for rid, r in rs.items():
        units_hold = held.by_refund.get(rid, 0)
        if r.source != Source.LATE_PAYMENT and units_hold != r.refund_total_amount:
            problems.append(f"refund {rid}: total {r.refund_total_amount} but its units hold {units_hold}")
        if r.status == RefundStatus.SUCCESS and r.refund_at is None:
            problems.append(f"refund {rid}: SUCCESS without refund_at")
    return problems


def _refunded(rs: dict[str, Refund], late: dict[str, Payment]) -> _Refunded:
    refunded = _Refunded()
    for r in rs.values():
        if r.status == RefundStatus.FAIL:
            continue
        if r.payment_id is not None and r.payment_id in late:
            refunded.by_late[r.payment_id] += r.refund_total_amount
        elif r.payment_id is None and r.source == Source.LATE_PAYMENT:
            refunded.late_unnamed[r.order_id] += r.refund_total_amount
        else:
            refunded.by_order[r.order_id] += r.refund_total_amount
    return refunded


def _late_payment_problems(late: dict[str, Payment], refunded: _Refunded) -> list[str]:
    problems = []
    late_by_order: dict[str, int] = defaultdict(int)
    for p in late.values():
        late_by_order[p.order_id] += p.amount
    for pid, amount in refunded.by_late.items():
        if amount > late[pid].amount:
            problems.append(f"payment {pid} (order {late[pid].order_id}): refunds {amount} exceed the late "
                            f"payment {late[pid].amount}")
    for oid, amount in refunded.late_unnamed.items():
        if amount > late_by_order[oid]:
            problems.append(f"order {oid}: late-payment refunds {amount} exceed its late payments {late_by_order[oid]}")
    return problems


def _order_problems(o: Order, units: list[ItemOrder], refunded: int) -> list[str]:
    problems = []
    due = o.payable
    if units and sum(i.price for i in units) != due:
        problems.append(f"order {o.order_id}: units add up to {sum(i.price for i in units)}, payable {due}")
    if refunded > due:
        problems.append(f"order {o.order_id}: refunds {refunded} exceed payable {due}")
    if o.status != OrderStatus.SUCCESS and any(i.status in (ItemStatus.UNUSED, ItemStatus.REDEEMED) for i in units):
        problems.append(f"order {o.order_id}: {o.status} but has paid units")
    return problems
