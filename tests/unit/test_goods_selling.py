"""The sell condition (goods/selling.py): its SQL and its Python say the same thing on the same rows, and the
refusal and the goods state follow its clauses in order."""

from __future__ import annotations

import itertools
import sqlite3
from typing import Any

import pytest

from paybutton.errors import TradeError
from paybutton.goods import rules as goods_rules
from paybutton.goods.selling import SELL, SELL_SQL, refusal, state
from paybutton.money import MAX_AMOUNT

NOW = 1_000_000
ROWS: list[dict[str, Any]] = [
    {"on_shelf": on, "sale_start": start, "sale_end": end, "min_limits": lo, "max_limits": hi, "stock": stock,
     "phone_required": phone, "price": price}
    for on, start, end, (lo, hi), stock, phone, price in itertools.product(
        (True, False), (None, NOW - 1, NOW, NOW + 1), (None, NOW, NOW + 1), ((1, 99999), (2, 3)), (0, 1, 2, 5),
        (False, True), (100, MAX_AMOUNT // 2, MAX_AMOUNT // 2 + 1, 2**62))
]


def _table() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE goods (id INTEGER, on_shelf BOOLEAN, sale_start BIGINT, sale_end BIGINT, "
               "min_limits INTEGER, max_limits INTEGER, stock INTEGER, phone_required BOOLEAN, price BIGINT)")
    db.executemany("INSERT INTO goods VALUES (:id, :on_shelf, :sale_start, :sale_end, :min_limits, :max_limits, "
                   ":stock, :phone_required, :price)", [{"id": i, **r} for i, r in enumerate(ROWS)])
    return db


@pytest.mark.parametrize(("q", "has_phone"), [(1, False), (2, True), (3, False), (5, True)])
def test_sql_and_python_agree_clause_by_clause(q: int, has_phone: bool) -> None:
    db = _table()
    params = {"now": NOW, "q": q, "has_phone": has_phone}
    for clause in SELL:
        by_sql = {i for (i,) in db.execute(f"SELECT id FROM goods WHERE {clause.sql}", params)}
        by_python = {i for i, r in enumerate(ROWS) if clause.holds(r, NOW, q, has_phone)}
        assert by_sql == by_python, clause.sql
    sellable = {i for (i,) in db.execute(f"SELECT id FROM goods WHERE {SELL_SQL}", params)}
    assert sellable == {i for i, r in enumerate(ROWS) if all(c.holds(r, NOW, q, has_phone) for c in SELL)}
    assert sellable  # the rows cover both answers


def test_refusal_names_the_first_failing_clause() -> None:
    row = ROWS[0] | {"stock": 3, "phone_required": True}
    assert refusal(None, "g1", NOW, 1, False).name == "GOODS_NOT_FOUND"
    assert refusal(row | {"on_shelf": False, "stock": 0}, "g", NOW, 1, False).name == "GOODS_OFF_SHELF"
    assert refusal(row | {"sale_start": NOW + 1}, "g", NOW, 1, False).name == "GOODS_NOT_STARTED"
    assert refusal(row | {"sale_end": NOW}, "g", NOW, 1, False).name == "GOODS_SALE_ENDED"
    limits = refusal(row | {"min_limits": 2, "max_limits": 3}, "g", NOW, 5, False)
    assert (limits.name, limits.message) == ("QUANTITY_OUT_OF_LIMITS", "quantity 5 is outside [2, 3]")
    assert (refusal(row | {"stock": 0}, "g", NOW, 1, True).message, refusal(row, "g", NOW, 4, True).message) == (
        None, "only 3 left")
    assert refusal(row, "g", NOW, 1, False).name == "PHONE_REQUIRED"
    dear = refusal(row | {"price": MAX_AMOUNT // 2 + 1}, "g", NOW, 2, True)  # one unit sells, two are over
    assert dear.name == "AMOUNT_TOO_LARGE" and refusal(row | {"price": MAX_AMOUNT}, "g", NOW, 1, True).name != (
        "AMOUNT_TOO_LARGE")
    late = refusal(row, "g", NOW, 1, True)
    assert isinstance(late, TradeError) and late.name == "ORDER_STATUS_CONFLICT"


def test_goods_state_is_the_first_state_clause_for_one_unit() -> None:
    row = ROWS[0] | {"stock": 3, "min_limits": 5, "phone_required": True}  # order-only clauses are no state
    assert state(row, NOW) == goods_rules.goods_state(row, NOW) == goods_rules.ON_SALE
    assert state(row | {"on_shelf": False, "sale_start": NOW + 1}, NOW) == goods_rules.OFF_SHELF
    assert state(row | {"sale_start": NOW + 1, "stock": 0}, NOW) == goods_rules.UPCOMING
    assert state(row | {"sale_end": NOW, "stock": 0}, NOW) == goods_rules.ENDED
    assert state(row | {"stock": 0}, NOW) == goods_rules.SOLD_OUT
