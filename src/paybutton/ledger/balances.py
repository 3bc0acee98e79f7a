"""Balances read from the ledger: per account, per app, per order and per unit. A credit-side account's balance
is minus the sum of its entries (accounts.sign), so money held for an app, settled to a merchant or kept as fees
reads positive, and so does the cash at a channel."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.ledger.accounts import PAY, REFUND, SETTLE, held, sign
from paybutton.tables import ledger_entries as e
from paybutton.tables import ledger_txns as t


async def balance(conn: AsyncConnection, account: str, *, before_ms: int | None = None) -> int:
    """The account's balance, of every txn (or of those before `before_ms`)."""
    q = select(func.coalesce(func.sum(e.c.amount), 0)).where(e.c.account == account)
    if before_ms is not None:
        q = q.select_from(e.join(t, t.c.txn_id == e.c.txn_id)).where(t.c.created_at < before_ms)
    return sign(account) * int((await conn.execute(q)).scalar_one())


async def app_balances(conn: AsyncConnection, app_id: str, *, before_ms: int | None = None) -> dict[str, int]:
    """Every account the app's txns touched -> its balance from those txns (before `before_ms` if given)."""
    q = select(e.c.account, func.sum(e.c.amount)).where(e.c.app_id == app_id).group_by(e.c.account)
    if before_ms is not None:
        q = q.select_from(e.join(t, t.c.txn_id == e.c.txn_id)).where(t.c.created_at < before_ms)
    return {a: sign(a) * int(s) for a, s in (await conn.execute(q)).all()}


@dataclass(frozen=True)
class OrderMoney:
    """An order's money as the ledger has it: paid in, refunded, settled (all positive fen) and still held."""

    paid: int = 0
    refunded: int = 0
    settled: int = 0

    @property
    def held(self) -> int:
        return self.paid - self.refunded - self.settled


def _money(by_kind: dict[str, int]) -> OrderMoney:
    # Held entries: pay credits (negative), refund and settle debit (positive).
    return OrderMoney(paid=-by_kind.get(PAY, 0), refunded=by_kind.get(REFUND, 0), settled=by_kind.get(SETTLE, 0))


async def order_money(conn: AsyncConnection, app_id: str, order_id: str) -> OrderMoney:
    """paid / refunded / settled / held of one order, from its entries on held:<app_id>."""
    q = (select(t.c.kind, func.sum(e.c.amount)).select_from(e.join(t, t.c.txn_id == e.c.txn_id))
         .where(e.c.account == held(app_id), e.c.order_id == order_id).group_by(t.c.kind))
    return _money({k: int(s) for k, s in (await conn.execute(q)).all()})


async def orders_money(conn: AsyncConnection, app_id: str | None = None) -> dict[tuple[str, str], OrderMoney]:
    """(app_id, order_id) -> OrderMoney for every order with held entries (of one app, or of all)."""
    q = (select(e.c.app_id, e.c.order_id, t.c.kind, func.sum(e.c.amount))
         .select_from(e.join(t, t.c.txn_id == e.c.txn_id))
         .where(e.c.account.like("held:%"), e.c.order_id.is_not(None))
         .group_by(e.c.app_id, e.c.order_id, t.c.kind))
    if app_id is not None:
        q = q.where(e.c.app_id == app_id)
    sums: dict[tuple[str, str], dict[str, int]] = {}
    for a, o, kind, s in (await conn.execute(q)).all():
        sums.setdefault((a, o), {})[kind] = int(s)
    return {key: _money(by_kind) for key, by_kind in sums.items()}


async def unit_settled(conn: AsyncConnection, app_id: str, order_id: str) -> dict[str | None, int]:
    """item_order_id (None: the settles of the whole order) -> fen settled, from the settle txns' held lines."""
    q = (select(e.c.item_order_id, func.sum(e.c.amount)).select_from(e.join(t, t.c.txn_id == e.c.txn_id))
         .where(e.c.account == held(app_id), e.c.order_id == order_id, t.c.kind == SETTLE)
         .group_by(e.c.item_order_id))
    return {i: int(s) for i, s in (await conn.execute(q)).all()}
