"""The order writer on PostgreSQL: asyncpg directly, each step one prepared statement in its own (implicit)
transaction. The order row's values are order/rows.order_row's; only the four columns that depend on the goods
row (rows.GOODS_COLUMNS) are computed in the statement, from the row the stock UPDATE returns."""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from paybutton.db import PG_SESSION_SETTINGS
from paybutton.order import rows
from paybutton.order.rows import ITEM_COLUMNS, ORDER_COLUMNS, Goods, NewOrder
from paybutton.order.states import ItemStatus
from paybutton.order.writer import (
    ACCEPT,
    ATTEMPT_COLUMNS,
    GOODS_RETURNING,
    TAKE,
    Acceptance,
    DuplicateOutOrderNo,
    accept_params,
    positional,
)

_SNAPSHOT = " || ',' || ".join(
    f"'\"{k}\":' || " + ("s.labels" if k == "labels" else f"to_json(s.{k})::text") for k in rows.SNAPSHOT_KEYS)
GOODS_SQL = {  # rows.GOODS_COLUMNS, as order_row computes them
    "unit_price": "s.price",
    "total_amount": "s.price * :q",
    "goods_snapshot": "'{' || " + _SNAPSHOT + " || '}'",
    "biz_line": "s.biz_line",
}
assert set(GOODS_SQL) == set(rows.GOODS_COLUMNS)


def _items(order_id: str, unit_price: str) -> str:
    """The item orders, one per id in :item_ids, priced by :item_prices (NULL: the unit price); rows.item_rows."""
    values = {"item_order_id": "t.id", "order_id": order_id, "app_id": ":app_id", "seq": "(t.n - 1)::int",
              "goods_id": ":goods_id", "price": f"COALESCE(t.price, {unit_price})",
              "status": str(int(ItemStatus.UNPAID)), "refunded_amount": "0", "created_at": ":now",
              "updated_at": ":now"}
    return (f"INSERT INTO item_orders ({', '.join(ITEM_COLUMNS)})\n"
            f"SELECT {', '.join(values[c] for c in ITEM_COLUMNS)}\n"
            "  FROM unnest(CAST(:item_ids AS text[]), CAST(:item_prices AS bigint[]))"
            " WITH ORDINALITY AS t(id, price, n)")


_ORDER_INSERT = f"INSERT INTO orders ({', '.join(ORDER_COLUMNS)})"

TAKE_ORDER = f"""WITH s AS (
{TAKE}
), o AS (
{_ORDER_INSERT}
SELECT {', '.join(GOODS_SQL.get(c, ':' + c) for c in ORDER_COLUMNS)} FROM s
RETURNING order_id, unit_price
), i AS (
{_items('o.order_id', 'o.unit_price').replace('  FROM unnest', '  FROM o, unnest')}
)
SELECT {GOODS_RETURNING} FROM s"""

INSERT_ORDER = f"""WITH o AS (
{_ORDER_INSERT}
VALUES ({', '.join(':' + c for c in ORDER_COLUMNS)})
)
{_items(':order_id', 'NULL')}"""

ACCEPT_ORDER = f"""WITH u AS (
{ACCEPT}
RETURNING order_id
), a AS (
INSERT INTO callback_attempts ({', '.join(ATTEMPT_COLUMNS)})
SELECT {', '.join('u.order_id' if c == 'order_id' else ':a_' + c for c in ATTEMPT_COLUMNS)}
  FROM u WHERE CAST(:a_app_id AS varchar) IS NOT NULL
)
SELECT count(*) FROM u"""

_TAKE_SQL, _TAKE_NAMES = positional(TAKE_ORDER)
_INSERT_SQL, _INSERT_NAMES = positional(INSERT_ORDER)
_ACCEPT_SQL, _ACCEPT_NAMES = positional(ACCEPT_ORDER)
_NO_GOODS = Goods(name="", photo_url="", price=0, labels="[]", date_rule="", biz_line=0)


def take_params(o: NewOrder) -> dict[str, Any]:
    """The take statement's parameters: the order row without its goods columns, and the guard's values."""
    params: dict[str, Any] = dict(rows.order_row(o, _NO_GOODS))
    params.update(q=o.quantity, now=o.now, has_phone=o.phone_num is not None, price=o.price,
                  item_ids=o.item_ids, item_prices=None if o.price is None else rows.item_prices(o, o.price))
    return params


async def _keep_session(conn: asyncpg.Connection) -> None:
    """No reset query on release: these statements leave no session state (no SET, LISTEN, advisory lock or
    open transaction), and asyncpg's default reset costs a round trip to the server per statement."""


class PostgresWriter:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, database_url: str, size: int) -> PostgresWriter:
        u = make_url(database_url)
        dsn = u.set(drivername="postgresql").render_as_string(hide_password=False)
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=size, reset=_keep_session,
                                         server_settings=PG_SESSION_SETTINGS)
        return cls(pool)

    async def take(self, o: NewOrder) -> Goods | None:
        p = take_params(o)
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(_TAKE_SQL, *[p[n] for n in _TAKE_NAMES])
        return None if row is None else Goods(*row)

    async def insert(self, o: NewOrder, g: Goods) -> None:
        p: dict[str, Any] = {**rows.order_row(o, g), "now": o.now, "item_ids": o.item_ids,
                             "item_prices": rows.item_prices(o, g.price)}
        async with self.pool.acquire() as conn:
            await conn.execute(_INSERT_SQL, *[p[n] for n in _INSERT_NAMES])

    async def accept(self, a: Acceptance) -> bool:
        p = accept_params(a)
        try:
            async with self.pool.acquire() as conn:
                n = await conn.fetchval(_ACCEPT_SQL, *[p[n] for n in _ACCEPT_NAMES])
        except asyncpg.UniqueViolationError as e:
            raise DuplicateOutOrderNo(a.out_order_no) from e
        return bool(n)

    async def close(self) -> None:
        await self.pool.close()
