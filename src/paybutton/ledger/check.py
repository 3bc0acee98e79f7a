"""The ledger's part of `paybutton check` (issue 21): every txn balances (its entries sum to 0); every paid
payment attempt has its `pay` txn and every succeeded refund its `refund` txn; per order, the money held for the
app equals paid - refunded - settled (paid and refunded from the payments and refunds rows, settled from the
ledger's settle txns) and is never below 0. One line per problem, naming the row."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.ledger.accounts import PAY, REFUND
from paybutton.ledger.balances import OrderMoney, orders_money
from paybutton.tables import ledger_entries, ledger_txns, payments, refunds

SUCCESS = "SUCCESS"


async def scan(conn: AsyncConnection) -> list[str]:
    problems = await _unbalanced(conn)
    posted = {(a, k, r) for a, k, r in (await conn.execute(
        select(ledger_txns.c.app_id, ledger_txns.c.kind, ledger_txns.c.ref_id))).all()}
    rows: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])  # (app, order) -> [paid, refunded]
    # A paid attempt has its pay txn, a succeeded refund its refund txn, each named by the row's id.
    for side, kind, table, id_col, amount_col, state_col, noun, done in (
        (0, PAY, payments, payments.c.payment_id, payments.c.amount, payments.c.state, "payment", "paid"),
        (1, REFUND, refunds, refunds.c.refund_id, refunds.c.refund_total_amount, refunds.c.status, "refund",
         "succeeded with"),
    ):
        q = select(id_col, table.c.app_id, table.c.order_id, amount_col).where(state_col == SUCCESS)
        for ref, app_id, order_id, amount in (await conn.execute(q)).all():
            rows[(app_id, order_id)][side] += amount
            if (app_id, kind, ref) not in posted:
                problems.append(f"ledger: {noun} {ref} (order {order_id}) {done} {amount} "
                                f"but has no {kind} txn")
    money = await orders_money(conn)
    for key in sorted(set(rows) | set(money)):
        problems += _order_problems(key, rows.get(key, [0, 0]), money.get(key, OrderMoney()))
    return problems


async def _unbalanced(conn: AsyncConnection) -> list[str]:
    q = (select(ledger_txns.c.txn_id, ledger_txns.c.kind, ledger_txns.c.ref_id, func.sum(ledger_entries.c.amount))
         .select_from(ledger_txns.join(ledger_entries, ledger_entries.c.txn_id == ledger_txns.c.txn_id))
         .group_by(ledger_txns.c.txn_id, ledger_txns.c.kind, ledger_txns.c.ref_id)
         .having(func.sum(ledger_entries.c.amount) != 0))
    return [f"ledger: txn {t} ({kind} {ref}) does not balance: its entries sum to {s}, not 0"
            for t, kind, ref, s in (await conn.execute(q)).all()]


def _order_problems(key: tuple[str, str], rows: list[int], money: OrderMoney) -> list[str]:
    app_id, order_id = key
    paid, refunded = rows
    problems = []
    if money.held != paid - refunded - money.settled:
        problems.append(f"ledger: order {order_id} (app {app_id}): held {money.held} but paid {paid} - refunded "
                        f"{refunded} - settled {money.settled} = {paid - refunded - money.settled}")
    if money.held < 0:
        problems.append(f"ledger: order {order_id} (app {app_id}): held {money.held} is below 0")
    return problems
