"""Posting a ledger transaction: one txn row and its entries, in the caller's transaction (the same connection
that writes the row that caused it, so a crash keeps both or neither). Idempotent by (app_id, kind, ref_id):
the unique key makes a second posting of the same thing a no-op, also when two run at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton import ids
from paybutton.tables import ledger_entries, ledger_txns


class UnbalancedError(ValueError):
    """The lines of a posting do not sum to 0 (a bug in the caller: nothing is written)."""


@dataclass(frozen=True)
class Line:
    """One entry: signed fen on an account (debit positive), optionally for an order and one of its units."""

    account: str
    amount: int
    order_id: str | None = None
    item_order_id: str | None = None


async def post(conn: AsyncConnection, *, app_id: str, kind: str, ref_id: str, lines: Sequence[Line], at_ms: int,
               memo: str = "") -> bool:
    """Write the txn (app_id, kind, ref_id) with its lines. False (and nothing written) when it was already
    posted. Raises UnbalancedError when the lines do not sum to 0. Zero lines are dropped (a free order still
    gets its txn, with no entries)."""
    if sum(line.amount for line in lines) != 0:
        raise UnbalancedError(f"{kind} {ref_id}: lines sum to {sum(line.amount for line in lines)}, not 0")
    if any(not isinstance(line.amount, int) or isinstance(line.amount, bool) for line in lines):
        raise UnbalancedError(f"{kind} {ref_id}: amounts must be integer fen")
    txn_id = ids.ledger_txn_id()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(ledger_txns).values(
        txn_id=txn_id, app_id=app_id, kind=kind, ref_id=ref_id, created_at=at_ms, memo=memo
    ).on_conflict_do_nothing(index_elements=[ledger_txns.c.app_id, ledger_txns.c.kind, ledger_txns.c.ref_id])
    if (await conn.execute(stmt)).rowcount == 0:
        return False
    rows = [{"txn_id": txn_id, "app_id": app_id, "account": line.account, "order_id": line.order_id,
             "item_order_id": line.item_order_id, "amount": line.amount} for line in lines if line.amount]
    if rows:
        await conn.execute(insert(ledger_entries), rows)
    return True
