"""The "this good may sell again" signal: sent in the same transaction as anything that raises a good's stock
or changes its row (a restock, a returned unit, a goods update), so that every server process forgets that
the good was sold out (paybutton.order.soldout listens).

On PostgreSQL it is a NOTIFY on CHANNEL, delivered to every listening process when (and only when) the
transaction commits. On SQLite nothing is sent: each process polls the goods rows it holds as sold out
(`PRAGMA data_version` tells it when another connection committed), so there is nothing to call.

It lives in goods (not order) so that the goods service can send it: order imports goods, never the reverse."""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

CHANNEL = "paybutton_goods_reopened"
_NOTIFY = text(f"SELECT pg_notify('{CHANNEL}', :p)")


def payload(app_id: str, goods_id: str) -> str:
    """The NOTIFY payload: a JSON pair, whatever characters the ids hold."""
    return json.dumps([app_id, goods_id], separators=(",", ":"))


def parse(data: str) -> tuple[str, str] | None:
    """(app_id, goods_id) from a payload; None for anything else (it is then treated as "reopen all")."""
    try:
        pair = json.loads(data)
    except ValueError:
        return None
    if isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair):
        return pair[0], pair[1]
    return None


async def notify_reopen(conn: AsyncConnection, app_id: str, goods_id: str) -> None:
    """Tell every process that this good may sell again, when `conn`'s transaction commits (PostgreSQL);
    nothing on SQLite (the processes' polls see the committed row)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(_NOTIFY, {"p": payload(app_id, goods_id)})
