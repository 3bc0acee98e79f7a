"""Refund rules, table-driven: what a unit can give back and what each kind of refund request means."""

from __future__ import annotations

import pytest

from paybutton.errors import TradeError
from paybutton.refund.rules import Entry, Unit, item_after_success, plan, refundable, voucher_state

U = 2  # unused
R = 3  # redeemed
F = 101  # refunding
D = 102  # refunded


def units(*specs: tuple[int, int, int, int]) -> list[Unit]:
    return [Unit(f"i{n}", price, status, refunded, refunding) for n, (price, status, refunded, refunding)
            in enumerate(specs)]


@pytest.mark.parametrize(("unit", "left"), [
    (Unit("a", 1000, U), 1000),
    (Unit("a", 1000, U, 300), 700),
    (Unit("a", 1000, F, 300, 200), 500),
    (Unit("a", 1000, F, 0, 1000), 0),
    (Unit("a", 1000, R), 0),
    (Unit("a", 1000, D, 1000), 0),
    (Unit("a", 1000, 4), 0),
    (Unit("a", 1000, 1), 0),
])
def test_refundable_is_price_minus_refunded_minus_in_flight(unit: Unit, left: int) -> None:
    assert refundable(unit) == left


def test_whole_order_takes_the_rest_of_every_unit() -> None:
    us = units((1000, U, 0, 0), (1000, R, 0, 0), (1000, U, 400, 0), (1000, F, 0, 1000))
    assert plan(us) == {"i0": 1000, "i2": 600}


def test_chosen_units_are_untouched_units_in_order() -> None:
    us = units((1000, U, 100, 0), (1000, U, 0, 0), (1000, U, 0, 0), (1000, U, 0, 0))
    assert plan(us, quantity=2) == {"i1": 1000, "i2": 1000}
    with pytest.raises(TradeError) as e:
        plan(us, quantity=4)
    assert e.value.name == "REFUND_AMOUNT_INVALID"


@pytest.mark.parametrize(("entries", "result", "error"), [
    ([Entry("i0", 300)], {"i0": 300}, None),
    ([Entry("i0")], {"i0": 1000}, None),
    ([Entry("i0", 300), Entry("i1")], {"i0": 300, "i1": 1000}, None),
    ([], None, "REFUND_AMOUNT_INVALID"),
    ([Entry("i0", 1001)], None, "REFUND_AMOUNT_INVALID"),
    ([Entry("i0", 0)], None, "REFUND_AMOUNT_INVALID"),
    ([Entry("i0", -5)], None, "REFUND_AMOUNT_INVALID"),
    ([Entry("i0"), Entry("i0")], None, "REFUND_AMOUNT_INVALID"),
    ([Entry("nope")], None, "ITEM_ORDER_NOT_IN_ORDER"),
    ([Entry("i2")], None, "ITEM_NOT_REFUNDABLE"),
])
def test_item_order_list(entries: list[Entry], result: dict[str, int] | None, error: str | None) -> None:
    us = units((1000, U, 0, 0), (1000, U, 0, 0), (1000, R, 0, 0))
    if error:
        with pytest.raises(TradeError) as e:
            plan(us, entries=entries)
        assert e.value.name == error
    else:
        assert plan(us, entries=entries) == result


def test_legacy_needs_the_amount_and_spreads_it() -> None:
    us = units((1000, U, 0, 0), (1000, U, 0, 0))
    with pytest.raises(TradeError) as e:
        plan(us, legacy=True)
    assert e.value.name == "LEGACY_REFUND_AMOUNT_MISSING" and e.value.spec.err_no == 21524
    assert plan(us, legacy=True, refund_total_amount=1500) == {"i0": 1000, "i1": 500}
    for bad in (0, 2001):
        with pytest.raises(TradeError) as e:
            plan(us, legacy=True, refund_total_amount=bad)
        assert e.value.name == "REFUND_AMOUNT_INVALID"


def test_nothing_left_is_21531() -> None:
    us = units((1000, R, 0, 0), (1000, D, 1000, 0), (1000, F, 0, 1000))
    for kw in ({}, {"quantity": 1}, {"entries": [Entry("i0")]}, {"legacy": True}):
        with pytest.raises(TradeError) as e:
            plan(us, **kw)  # type: ignore[arg-type]
        assert e.value.name == "NOTHING_REFUNDABLE" and e.value.spec.err_no == 21531


def test_total_must_match_the_items_when_given() -> None:
    us = units((1000, U, 0, 0))
    assert plan(us, refund_total_amount=1000) == {"i0": 1000}
    with pytest.raises(TradeError):
        plan(us, refund_total_amount=999)


@pytest.mark.parametrize(("price", "refunded", "refunding", "amount", "status"), [
    (1000, 0, 1000, 1000, D), (1000, 0, 600, 300, F), (1000, 0, 300, 300, U), (1000, 700, 300, 300, D)])
def test_status_after_success(price: int, refunded: int, refunding: int, amount: int, status: int) -> None:
    assert item_after_success(price, refunded, refunding, amount) == status


@pytest.mark.parametrize(("status", "refunding", "state"), [
    (U, 0, "待使用"), (R, 0, "已核销"), (F, 500, "退款中"), (D, 0, "已退款")])
def test_voucher_states(status: int, refunding: int, state: str) -> None:
    assert voucher_state(status, refunding) == state
