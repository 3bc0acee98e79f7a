"""Typed rows on the money path have exactly their table's columns: a column added to the schema must be added to
its row type (order/store builds each from the row's mapping, so a missing field would fail at run time)."""

from __future__ import annotations

import dataclasses
from typing import get_type_hints

import pytest
from sqlalchemy import Table

from paybutton.order.rows import ItemOrder, Order
from paybutton.order.store import AttemptChange
from paybutton.payment_state import Payment
from paybutton.refund.store import Refund, RefundItem
from paybutton.tables import item_orders, orders, payments, refund_items, refunds


@pytest.mark.parametrize(("row_type", "table"), [(Order, orders), (Payment, payments), (ItemOrder, item_orders),
                                                  (Refund, refunds), (RefundItem, refund_items)])
def test_row_type_has_every_column(row_type: type, table: Table) -> None:
    assert {f.name for f in dataclasses.fields(row_type)} == {c.name for c in table.columns}


def test_attempt_change_is_payment_columns() -> None:
    """set_attempt's values are columns of Payment, typed as Payment types them."""
    declared, change = get_type_hints(Payment), get_type_hints(AttemptChange)
    assert {k: declared.get(k) for k in change} == change
