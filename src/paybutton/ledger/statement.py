"""An app's statement for a range of time (issue 21): opening balance, paid in, refunded, settled, fees, closing
balance, and every ledger line behind them; the same figures for the console's Statement page and
`paybutton statement`, and the CSV (one row per ledger line).

Figures, all positive fen for the app (`held:<app>` is its buyers' money held, settled is what its settles moved
to the merchant and the other receivers, fees the platform's rake taken in them):
  paid in = the held account's credits of `pay` txns; refunded = its debits of `refund` txns;
  settled = the merchant and receiver accounts' credits; fees = platform:fees' credits (both of the app's txns);
  closing held = opening held + paid in - refunded - settled - fees (when every settle moves held money only to
  the merchant, receivers and fees, which is how settles post); closing settled = opening settled + settled.
A range is [from, to) in epoch ms; `beijing_days` turns calendar dates in Beijing time into one."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.clock import BEIJING
from paybutton.ledger.accounts import PAY, PLATFORM_FEES, REFUND, SETTLE, account_class, held, sign
from paybutton.ledger.balances import app_balances
from paybutton.tables import ledger_entries as e
from paybutton.tables import ledger_txns as t
from paybutton.tables import orders

SETTLED_CLASSES = ("merchant", "receiver")


def beijing_days(first: dt.date, last: dt.date) -> tuple[int, int]:
    """[00:00 of `first`, 00:00 of the day after `last`) in Beijing time, as epoch ms."""
    start = dt.datetime.combine(first, dt.time(), BEIJING)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), BEIJING)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def beijing_time(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, BEIJING).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class StatementLine:
    """One ledger entry; `amount` is what it did to its account's balance (+ in, - out)."""

    at_ms: int
    kind: str
    txn_id: str
    ref_id: str
    order_id: str | None
    item_order_id: str | None
    goods_name: str
    account: str
    amount: int

    @property
    def refund_id(self) -> str:
        return self.ref_id if self.kind == REFUND else ""

    @property
    def settle_id(self) -> str:
        return self.ref_id if self.kind == SETTLE else ""

    @property
    def payment_id(self) -> str:
        return self.ref_id if self.kind == PAY else ""


@dataclass
class Statement:
    app_id: str
    from_ms: int
    to_ms: int
    opening_held: int = 0
    opening_settled: int = 0
    paid_in: int = 0
    refunded: int = 0
    settled: int = 0
    fees: int = 0
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def closing_held(self) -> int:
        return self.opening_held + self.paid_in - self.refunded - self.settled - self.fees

    @property
    def closing_settled(self) -> int:
        return self.opening_settled + self.settled

    def figures(self) -> dict[str, int]:
        return {"opening_held": self.opening_held, "opening_settled": self.opening_settled, "paid_in": self.paid_in,
                "refunded": self.refunded, "settled": self.settled, "fees": self.fees,
                "closing_held": self.closing_held, "closing_settled": self.closing_settled}


def _goods_name(snapshot: str | None) -> str:
    try:
        return str(json.loads(snapshot or "{}").get("name") or "")
    except (ValueError, AttributeError):
        return ""


async def statement(conn: AsyncConnection, app_id: str, from_ms: int, to_ms: int) -> Statement:
    """The statement of [from_ms, to_ms), lines in time order."""
    before = await app_balances(conn, app_id, before_ms=from_ms)
    st = Statement(app_id, from_ms, to_ms, opening_held=before.get(held(app_id), 0),
                   opening_settled=sum(v for a, v in before.items() if account_class(a) in SETTLED_CLASSES))
    q = (select(t.c.created_at, t.c.kind, t.c.txn_id, t.c.ref_id, e.c.order_id, e.c.item_order_id, e.c.account,
                e.c.amount, orders.c.goods_snapshot)
         .select_from(e.join(t, t.c.txn_id == e.c.txn_id).outerjoin(orders, orders.c.order_id == e.c.order_id))
         .where(t.c.app_id == app_id, t.c.created_at >= from_ms, t.c.created_at < to_ms)
         .order_by(t.c.created_at, e.c.entry_id))
    for r in (await conn.execute(q)).all():
        line = StatementLine(r.created_at, r.kind, r.txn_id, r.ref_id, r.order_id, r.item_order_id,
                             _goods_name(r.goods_snapshot), r.account, sign(r.account) * r.amount)
        st.lines.append(line)
        _count(st, line)
    return st


def _count(st: Statement, line: StatementLine) -> None:
    if line.account == held(st.app_id):
        if line.kind == PAY:
            st.paid_in += line.amount
        elif line.kind == REFUND:
            st.refunded -= line.amount
    elif account_class(line.account) in SETTLED_CLASSES:
        st.settled += line.amount
    elif line.account == PLATFORM_FEES:
        st.fees += line.amount


def line_row(line: StatementLine) -> dict[str, Any]:
    """A line as the CSV and the page show it."""
    return {"time": beijing_time(line.at_ms), "kind": line.kind, "order_id": line.order_id or "",
            "item_order_id": line.item_order_id or "", "refund_id": line.refund_id, "settle_id": line.settle_id,
            "payment_id": line.payment_id, "goods_name": line.goods_name, "account": line.account,
            "amount_fen": line.amount, "amount_yuan": yuan(line.amount), "txn_id": line.txn_id}


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals, exactly (no float): -1234 -> -12.34."""
    return f"{'-' if fen < 0 else ''}{abs(fen) // 100}.{abs(fen) % 100:02d}"
