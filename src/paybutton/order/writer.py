"""Writing a new order, the one way every order path does it: take the stock (guarded by the sell condition of
goods/selling.py), write the order and its item orders, and later record the merchant's acceptance, each as ONE
round trip to the database.

Why one round trip: under load an `await` between statements hands the event loop to other requests, and a
transaction that holds the hot goods row (PostgreSQL) or the write lock (SQLite) across several awaits makes every
other buyer wait for those scheduling gaps. PostgreSQL gets one statement per step (CTEs, autocommit, prepared by
asyncpg: order/writer_pg.py); SQLite gets a writer thread that owns its connection and runs a whole transaction
per hop (order/writer_sqlite.py). Both render the statements below; bench/pgbench/order_path.sql is the
PostgreSQL one for the benchmark (tests/unit/test_order_sql.py checks that it matches).

A writer belongs to a Database: order/writing.py finds it (`writer_of(ctx)`) and closes it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from paybutton.goods.selling import SELL_SQL
from paybutton.order import soldout
from paybutton.order.batch import Batcher
from paybutton.order.rows import Goods, NewOrder
from paybutton.order.states import OrderStatus, PreOrder


@dataclass(frozen=True)
class Acceptance:
    """The merchant accepted a pending order: its number, deadline and entry, and the call's attempt row."""

    order_id: str
    out_order_no: str
    expire_at: int
    schema: str | None
    now: int
    attempt: dict[str, Any] | None


class DuplicateOutOrderNo(Exception):
    pass


class OrderPathCounters(soldout.OrderPathCounters):
    """What `GET /healthz` shows under "order_path" (this process only): the sold-out memory's counters, and
    how many statements took how many orders and acceptances (orders per batch = taken / take_batches)."""

    take_batches: int
    taken_in_batches: int
    accept_batches: int
    accepted_in_batches: int


def counters(sold: soldout.SoldOut, takes: Batcher[Any, Any, Any],
             accepts: Batcher[Any, Any, Any]) -> OrderPathCounters:
    return {**sold.counters(), "take_batches": takes.batches, "taken_in_batches": takes.items,
            "accept_batches": accepts.batches, "accepted_in_batches": accepts.items}


class OrderWriter(Protocol):
    async def take(self, o: NewOrder) -> Goods:
        """Take a library good's stock (guarded), insert the order and one item order per unit; the goods as
        taken. Raises the refusal (TradeError: the sell condition's, goods/selling.refusal) when the goods refuse;
        GOODS_SOLD_OUT may come from this process's sold-out memory (order/soldout.py) without a query."""

    async def insert(self, o: NewOrder, g: Goods) -> None:
        """Insert a merchant good's order and its item orders (no stock to take)."""

    async def accept(self, a: Acceptance) -> bool:
        """Record the merchant's out_order_no (guarded on PENDING) and the attempt. Raises DuplicateOutOrderNo."""

    def order_path_counters(self) -> OrderPathCounters:
        """The sold-out memory's and the batches' counters (GET /healthz)."""

    async def close(self) -> None: ...


# ---------------------------------------------------------------------------------- the statements (named)

GOODS_RETURNING = "name, photo_url, price, labels, date_rule, biz_line"

# The guarded stock statement: the sell condition, plus the price the merchant priced when there is one.
TAKE = f"""UPDATE goods SET stock = stock - :q, sold = sold + :q, updated_at = :now
 WHERE app_id = :app_id AND goods_id = :goods_id
   AND {SELL_SQL}
   AND (price = :price OR CAST(:price AS BIGINT) IS NULL)
RETURNING {GOODS_RETURNING}"""

# The merchant's acceptance lands only on an order still waiting for it (not ended meanwhile).
ACCEPTABLE = f"status = '{OrderStatus.INIT.value}' AND pre_order_status = '{PreOrder.PENDING.value}'"
ACCEPTED = f"pre_order_status = '{PreOrder.OK.value}'"
ACCEPT = f"""UPDATE orders SET out_order_no = :out_order_no, {ACCEPTED},
       pay_expire_at = :expire_at, order_entry_schema = :schema, updated_at = :now
 WHERE order_id = :order_id AND {ACCEPTABLE}"""

ATTEMPT_COLUMNS = ("app_id", "type", "order_id", "attempt", "url", "logid", "started_at", "duration_ms",
                   "http_status", "ok", "answer_head", "error")

_NAME = re.compile(r"'(?:[^']|'')*'|(?<![:\w]):([a-z_]+)")  # a quoted string (left as it is) or a :name


def positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """`:name` parameters as asyncpg's `$n` (the same name, the same number), and the names in number order."""
    names: list[str] = []

    def number(m: re.Match[str]) -> str:
        if m.group(1) is None:
            return m.group(0)
        if m.group(1) not in names:
            names.append(m.group(1))
        return f"${names.index(m.group(1)) + 1}"

    return _NAME.sub(number, sql), tuple(names)


def accept_params(a: Acceptance) -> dict[str, Any]:
    params: dict[str, Any] = {"order_id": a.order_id, "out_order_no": a.out_order_no, "expire_at": a.expire_at,
                              "schema": a.schema, "now": a.now}
    params.update({f"a_{c}": (a.attempt or {}).get(c) for c in ATTEMPT_COLUMNS})
    return params


