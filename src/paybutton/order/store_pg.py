"""The order SQL that only PostgreSQL runs: the PostgreSQL writer's statements (order/writer_pg.py runs them).
Each is rendered from the named statements of order/store.py and the columns of order/rows.py, with `:name`
parameters turned into asyncpg's `$n` by `positional`; bench/pgbench/order_path.sql is generated from TAKE_ORDER
and ACCEPT_ORDER.

- TAKE_ORDER: one order's stock, order and item orders in one statement (the sell condition in SQL);
  TAKE_ALONE is the same, returning the goods row as it leaves it, with its version (`xmin`).
- TAKE_MANY: a planned batch (order/batch.py) of one or several goods, each good's sum guarded by the version
  its plan read; a good whose version moved writes nothing.
- ACCEPT_ORDER / ACCEPT_BATCH: the merchant's acceptance(s) and the call's attempt row(s).
- INSERT_ORDER: a merchant good's order (no stock)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Integer, String, Table

from paybutton.order import rows
from paybutton.order.batch import PLAN_COLUMNS
from paybutton.order.rows import ITEM_COLUMNS, ORDER_COLUMNS
from paybutton.order.states import ItemStatus
from paybutton.order.store import ACCEPT, ACCEPTABLE, ACCEPTED, ATTEMPT_COLUMNS, GOODS_RETURNING, TAKE, positional
from paybutton.tables import callback_attempts, item_orders, orders

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

def _array(column: Column[Any]) -> str:
    """The PostgreSQL array type a column's values travel in."""
    for kind, name in ((BigInteger, "int8[]"), (Integer, "int4[]"), (Boolean, "bool[]"), (String, "text[]")):
        if isinstance(column.type, kind):
            return name
    raise TypeError(f"no array type for {column}")


def _unnest(table: Table, columns: tuple[str, ...], prefix: str) -> str:
    """`unnest(...) AS t(columns)` over one array parameter per column, named prefix + column."""
    arrays = ", ".join(f"CAST(:{prefix}{c} AS {_array(table.c[c])})" for c in columns)
    return f"unnest({arrays}) AS t({', '.join(columns)})"


_PLAN = ", ".join(PLAN_COLUMNS)
READ_GOODS = f"SELECT {_PLAN}, xmin::text AS version FROM goods WHERE app_id = :app_id AND goods_id = :goods_id"
# A batch's statements are of one app (order/writer_pg.py batches per app): `:app_id` routes them on Citus.
READ_MANY = (f"SELECT {', '.join('goods.' + c for c in PLAN_COLUMNS)}, goods.xmin::text AS version FROM goods"
             " WHERE goods.app_id = :app_id AND goods.goods_id = ANY(CAST(:goods_ids AS text[]))")

# The merchant's acceptances that arrive together: one statement (order/store.py's ACCEPT for many). In this one
# and in TAKE_MANY the batch's keys also bound the table by the key array (`= ANY(...)`, which the primary key
# answers), so that no plan reads every row of the app: with only `app_id = :app_id` and the join, a shop of 200
# goods got a nested loop over its whole catalogue (tests/integration/test_order_plans.py).
ACCEPT_BATCH = f"""WITH v AS (
SELECT * FROM unnest(CAST(:order_id AS text[]), CAST(:out_order_no AS text[]), CAST(:expire_at AS int8[]),
                     CAST(:schema AS text[]), CAST(:now AS int8[])) AS v(order_id, out_order_no, expire_at, sch, now)
), u AS (
UPDATE orders SET out_order_no = v.out_order_no, {ACCEPTED},
       pay_expire_at = v.expire_at, order_entry_schema = v.sch, updated_at = v.now
  FROM v WHERE orders.app_id = :app_id AND orders.order_id = ANY(CAST(:order_id AS text[]))
   AND orders.order_id = v.order_id AND {ACCEPTABLE}
RETURNING orders.order_id
), a AS (
INSERT INTO callback_attempts ({', '.join(ATTEMPT_COLUMNS)})
SELECT t.* FROM {_unnest(callback_attempts, ATTEMPT_COLUMNS, 'a_')}
 WHERE t.order_id IN (SELECT order_id FROM u)
)
SELECT order_id FROM u"""

# An order that finds its good idle goes alone: TAKE_ORDER (the sell condition in SQL, no plan needed), returning
# the row as it leaves it, with its version, for the next batch's plan.
TAKE_ALONE = TAKE_ORDER.replace(f"RETURNING {GOODS_RETURNING}\n)", f"RETURNING {_PLAN}, xmin::text AS version\n)", 1)
TAKE_ALONE = TAKE_ALONE.replace(f"SELECT {GOODS_RETURNING} FROM s", "SELECT * FROM s")
assert TAKE_ALONE.count("xmin") == 1 and TAKE_ALONE.endswith("SELECT * FROM s")

# A batch of one or several goods in one statement: each good's sum guarded by its own version; a good whose
# version moved takes nothing and writes none of its orders (the joins on s).
_ON_S = "JOIN s ON s.app_id = t.app_id AND s.goods_id = t.goods_id"
TAKE_MANY = f"""WITH v AS (
SELECT * FROM unnest(CAST(:g_app_id AS text[]), CAST(:g_goods_id AS text[]), CAST(:g_total AS int8[]),
                     CAST(:g_version AS text[]), CAST(:g_now AS int8[])) AS v(app_id, goods_id, total, version, now)
), s AS (
UPDATE goods SET stock = stock - v.total, sold = sold + v.total, updated_at = v.now
  FROM v WHERE goods.app_id = :app_id AND goods.goods_id = ANY(CAST(:g_goods_id AS text[]))
   AND goods.goods_id = v.goods_id AND goods.xmin::text = v.version
RETURNING {', '.join('goods.' + c for c in PLAN_COLUMNS)}, goods.xmin::text AS version
), o AS (
{_ORDER_INSERT}
SELECT t.* FROM {_unnest(orders, ORDER_COLUMNS, 'o_')} {_ON_S}
), i AS (
INSERT INTO item_orders ({', '.join(ITEM_COLUMNS)})
SELECT t.* FROM {_unnest(item_orders, ITEM_COLUMNS, 'i_')} {_ON_S}
)
SELECT * FROM s"""

TAKE_SQL, TAKE_NAMES = positional(TAKE_ORDER)
MANY_SQL, MANY_NAMES = positional(TAKE_MANY)
ALONE_SQL, ALONE_NAMES = positional(TAKE_ALONE)
ACCEPTS_SQL, ACCEPTS_NAMES = positional(ACCEPT_BATCH)
READ_SQL, _ = positional(READ_GOODS)  # $1 app_id, $2 goods_id
LOCK_SQL = READ_SQL + " FOR UPDATE"
READ_MANY_SQL, _ = positional(READ_MANY)  # $1 app_id, $2 goods_ids
INSERT_SQL, INSERT_NAMES = positional(INSERT_ORDER)
ACCEPT_SQL, ACCEPT_NAMES = positional(ACCEPT_ORDER)
