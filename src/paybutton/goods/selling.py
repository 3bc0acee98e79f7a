"""The sell condition, defined once (pure): when a library good can be sold now, for a quantity and a buyer.

Each clause is written twice side by side, as SQL over the goods row (the guarded stock UPDATE of an order
taken alone, `TAKE` in order/store.py, and the benchmark's bench/pgbench/order_path.sql) and as Python over a
goods row (the state a page shows, goods/rules.goods_state, the refusal a buyer gets, `refusal`, and the plan of
a batch, order/batch.plan: the batch statements do not repeat the condition, they write what the plan decided
on the goods row it read, guarded by that row's version on PostgreSQL and by the write lock on SQLite).
tests/unit/test_goods_selling.py runs both spellings on the same rows and checks that they agree.

The SQL names its parameters `:now` (epoch ms), `:q` (the quantity) and `:has_phone` (the buyer gave a phone
number); order/writer_pg.py and order/writer_sqlite.py render them for each driver."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from paybutton.errors import TradeError
from paybutton.money import MAX_AMOUNT

# The states of a good as pages show it (goods/rules re-exports them).
OFF_SHELF = "off_shelf"
UPCOMING = "upcoming"
ON_SALE = "on_sale"
ENDED = "ended"
SOLD_OUT = "sold_out"


def field(goods: Any, key: str) -> Any:
    """A column of a goods row, a mapping or an object."""
    if type(goods) is dict:  # the order path's plans: skip the ABC check below
        return goods.get(key)
    if isinstance(goods, Mapping):
        return goods.get(key)
    mapping = getattr(goods, "_mapping", None)
    if mapping is not None:
        return mapping.get(key)
    return getattr(goods, key, None)


def _limits(g: Any, q: int) -> TradeError:
    lo, hi = field(g, "min_limits"), field(g, "max_limits")
    return TradeError("QUANTITY_OUT_OF_LIMITS", f"quantity {q} is outside [{lo}, {hi}]")


def _over_ceiling(g: Any, q: int) -> TradeError:
    return TradeError("AMOUNT_TOO_LARGE", f"{q} x {field(g, 'price')} fen is over the ceiling {MAX_AMOUNT}",
                      ceiling=MAX_AMOUNT)


def _sold_out(g: Any, q: int) -> TradeError:
    stock = field(g, "stock") or 0
    return TradeError("GOODS_SOLD_OUT") if stock <= 0 else TradeError("GOODS_SOLD_OUT", f"only {stock} left")


@dataclass(frozen=True)
class Clause:
    sql: str
    holds: Callable[[Any, int, int, bool], bool]  # (goods, now, q, has_phone)
    refuse: Callable[[Any, int], TradeError]  # (goods, q): the buyer's refusal when it does not hold
    state: str | None  # the goods state when it does not hold for one unit (None: order-only, not a state)


# In the order a buyer can act on: the first clause that fails is the refusal.
SELL: tuple[Clause, ...] = (
    Clause("on_shelf", lambda g, now, q, p: bool(field(g, "on_shelf")),
           lambda g, q: TradeError("GOODS_OFF_SHELF"), OFF_SHELF),
    Clause("(sale_start IS NULL OR sale_start <= :now)",
           lambda g, now, q, p: field(g, "sale_start") is None or field(g, "sale_start") <= now,
           lambda g, q: TradeError("GOODS_NOT_STARTED"), UPCOMING),
    Clause("(sale_end IS NULL OR sale_end > :now)",
           lambda g, now, q, p: field(g, "sale_end") is None or field(g, "sale_end") > now,
           lambda g, q: TradeError("GOODS_SALE_ENDED"), ENDED),
    Clause("min_limits <= :q AND max_limits >= :q",
           lambda g, now, q, p: field(g, "min_limits") <= q <= field(g, "max_limits"), _limits, None),
    # quantity x price within money.MAX_AMOUNT, written as a division so that SQL never multiplies past BIGINT
    Clause(f"price <= {MAX_AMOUNT} / :q", lambda g, now, q, p: field(g, "price") <= MAX_AMOUNT // q,
           _over_ceiling, None),
    Clause("stock >= :q", lambda g, now, q, p: (field(g, "stock") or 0) >= q, _sold_out, SOLD_OUT),
    Clause("(NOT phone_required OR :has_phone)", lambda g, now, q, p: p or not field(g, "phone_required"),
           lambda g, q: TradeError("PHONE_REQUIRED"), None),
)

SELL_SQL = "\n   AND ".join(c.sql for c in SELL)


def refusal(goods: Any | None, goods_id: str, now: int, q: int, has_phone: bool) -> TradeError:
    """Why the guarded stock statement took nothing, in the order a buyer can act on (`goods` as read after)."""
    if goods is None:
        return TradeError("GOODS_NOT_FOUND", goods_id)
    for c in SELL:
        if not c.holds(goods, now, q, has_phone):
            return c.refuse(goods, q)
    return TradeError("ORDER_STATUS_CONFLICT", "the goods changed meanwhile; try again")


def state(goods: Any, now: int) -> str:
    """off_shelf | upcoming | on_sale | ended | sold_out: the first state clause that fails for one unit."""
    for c in SELL:
        if c.state is not None and not c.holds(goods, now, 1, True):
            return c.state
    return ON_SALE
