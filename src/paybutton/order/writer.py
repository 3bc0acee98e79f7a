"""Writing a new order, the one way every order path does it: take the stock (guarded by the sell condition of
goods/selling.py), write the order and its item orders, and later record the merchant's acceptance, each as ONE
round trip to the database.

Why one round trip: under load an `await` between statements hands the event loop to other requests, and a
transaction that holds the hot goods row (PostgreSQL) or the write lock (SQLite) across several awaits makes every
other buyer wait for those scheduling gaps. PostgreSQL gets one statement per step (CTEs, autocommit, prepared by
asyncpg: order/writer_pg.py); SQLite gets a writer thread that owns its connection and runs a whole transaction
per hop (order/writer_sqlite.py). Both render the statements below; bench/pgbench/order_path.sql is the
PostgreSQL one for the benchmark (tests/unit/test_order_sql.py checks that it matches).

This file says what a writer does; the statements are in the order SQL's homes: order/store.py (both databases:
TAKE, ACCEPT), order/store_pg.py and order/store_sqlite.py. A writer belongs to a Database:
order/writer_registry.py finds it (`writer_of(ctx)`) and closes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from paybutton.order import soldout
from paybutton.order.batch import Batcher
from paybutton.order.rows import Goods, NewOrder
from paybutton.order.store import ATTEMPT_COLUMNS


@dataclass(frozen=True)
class Acceptance:
    """The merchant accepted a pending order: its number, deadline and entry, and the call's attempt row."""

    order_id: str
    out_order_no: str
    expire_at: int
    schema: str | None
    now: int
    attempt: dict[str, Any] | None
    app_id: str


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


def accept_params(a: Acceptance) -> dict[str, Any]:
    params: dict[str, Any] = {"app_id": a.app_id, "order_id": a.order_id, "out_order_no": a.out_order_no,
                              "expire_at": a.expire_at, "schema": a.schema, "now": a.now}
    params.update({f"a_{c}": (a.attempt or {}).get(c) for c in ATTEMPT_COLUMNS})
    return params


