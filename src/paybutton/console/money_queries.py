"""The console's money figures from the ledger (issue 21): the app's balances (held, settled, fees) and the
dashboard's series (orders placed, takings, refunds, settles) per hour over 24 h or per Beijing day over 7 or 30
days. Buckets are computed in SQL with integer division, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.clock import BEIJING, BEIJING_OFFSET_MS
from paybutton.context import Ctx
from paybutton.ledger import PAY, PLATFORM_FEES, REFUND, SETTLE, held
from paybutton.ledger.balances import app_balances
from paybutton.ledger.statement import Statement, beijing_days, statement
from paybutton.tables import ledger_entries as e
from paybutton.tables import ledger_txns as t
from paybutton.tables import orders

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
BEIJING_MS = BEIJING_OFFSET_MS
SPANS = ("24h", "7d", "30d")
SERIES = ("orders", "takings", "refunds", "settles")


@dataclass(frozen=True)
class Window:
    start: int
    size: int
    count: int

    @property
    def end(self) -> int:
        return self.start + self.size * self.count

    def label(self, i: int) -> str:
        moment = dt.datetime.fromtimestamp((self.start + i * self.size) / 1000, BEIJING)
        return moment.strftime("%H:00") if self.size == HOUR_MS else moment.strftime("%m-%d")


def window(now_ms: int, span: str) -> Window:
    """24h: the last 24 whole hours up to this one; 7d / 30d: the last 7 / 30 Beijing days up to today."""
    if span == "24h":
        return Window(now_ms // HOUR_MS * HOUR_MS - 23 * HOUR_MS, HOUR_MS, 24)
    days = 7 if span == "7d" else 30
    today = (now_ms + BEIJING_MS) // DAY_MS * DAY_MS - BEIJING_MS
    return Window(today - (days - 1) * DAY_MS, DAY_MS, days)


async def balances(ctx: Ctx, app_id: str) -> dict[str, int]:
    """held (buyers' money held), settled (to the merchant and receivers) and fees (the platform's rake)."""
    async with ctx.db.engine.connect() as conn:
        b = await app_balances(conn, app_id)
    settled = sum(v for a, v in b.items() if a.startswith(("merchant:", "receiver:")))
    return {"held": b.get(held(app_id), 0), "settled": settled, "fees": b.get(PLATFORM_FEES, 0)}


async def _orders(conn: AsyncConnection, app_id: str, w: Window) -> dict[int, int]:
    bucket = ((orders.c.created_at - w.start) // w.size).label("b")
    q = (select(bucket, func.count()).where(orders.c.app_id == app_id, orders.c.created_at >= w.start,
                                            orders.c.created_at < w.end).group_by(bucket))
    return {int(b): int(n) for b, n in (await conn.execute(q)).all()}


async def _money(conn: AsyncConnection, app_id: str, w: Window) -> dict[str, dict[int, int]]:
    bucket = ((t.c.created_at - w.start) // w.size).label("b")
    q = (select(bucket, t.c.kind, func.sum(e.c.amount)).select_from(e.join(t, t.c.txn_id == e.c.txn_id))
         .where(e.c.app_id == app_id, e.c.account == held(app_id), t.c.created_at >= w.start,
                t.c.created_at < w.end).group_by(bucket, t.c.kind))
    out: dict[str, dict[int, int]] = {"takings": {}, "refunds": {}, "settles": {}}
    names = {PAY: ("takings", -1), REFUND: ("refunds", 1), SETTLE: ("settles", 1)}
    for b, kind, s in (await conn.execute(q)).all():
        if kind in names:
            name, sign = names[kind]
            out[name][int(b)] = sign * int(s)
    return out


async def series(ctx: Ctx, app_id: str, span: str) -> tuple[Window, dict[str, list[int]]]:
    """Per series, one figure per bucket of the span's window: orders placed (count), takings (fen paid in),
    refunds (fen given back), settles (fen settled out of the held money, fees included)."""
    w = window(ctx.clock.now_ms(), span)
    async with ctx.db.engine.connect() as conn:
        by = {"orders": await _orders(conn, app_id, w), **await _money(conn, app_id, w)}
    return w, {name: [by[name].get(i, 0) for i in range(w.count)] for name in SERIES}


async def statement_of(ctx: Ctx, app_id: str, first: dt.date, last: dt.date) -> Statement:
    """The app's statement from `first` to `last` (Beijing days, both included)."""
    async with ctx.db.engine.connect() as conn:
        return await statement(conn, app_id, *beijing_days(first, last))
