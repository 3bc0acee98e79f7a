"""Refund rules, table-driven: what a unit can give back and what each kind of refund request means."""

from __future__ import annotations

import pytest

from paybutton.errors import TradeError
from paybutton.refund.rules import (
    DAY_MS,
    AuditStatus,
    Entry,
    Position,
    PreRefundAnswer,
    Source,
    Stage,
    Start,
    Unit,
    after_merchant_number,
    audit_deadline,
    audited,
    channel_message,
    dumps,
    expired,
    expiry_entries,
    item_after_success,
    parse_pre_refund,
    plan,
    refund_type,
    refundable,
    start,
    untouched,
    valid_out_refund_no,
    voucher_state,
)

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


def test_untouched_is_a_whole_unused_unit() -> None:
    assert untouched(Unit("a", 1000, U))
    assert not untouched(Unit("a", 1000, U, 100))
    assert not untouched(Unit("a", 1000, F, 0, 100))
    assert not untouched(Unit("a", 1000, R))
    assert not untouched(Unit("a", 0, U))


@pytest.mark.parametrize(("paid_at", "valid_days", "now", "over"), [
    (0, 1, DAY_MS, True), (0, 1, DAY_MS - 1, False), (None, 1, DAY_MS, False), (0, None, 10 * DAY_MS, False)])
def test_expired_after_valid_days(paid_at: int | None, valid_days: int | None, now: int, over: bool) -> None:
    assert expired(paid_at, valid_days, now) is over


def test_expiry_refunds_every_unused_unit_with_money_left() -> None:
    us = units((1000, U, 0, 0), (1000, U, 400, 0), (1000, R, 0, 0), (1000, F, 0, 1000), (1000, U, 1000, 0))
    assert expiry_entries(us) == [Entry("i0"), Entry("i1")]


@pytest.mark.parametrize(("source", "app_audits", "url", "need_audit", "asks", "stage", "audit"), [
    (Source.USER, True, "https://shop/r", True, True, Stage.PRE_REFUND, AuditStatus.INIT),
    (Source.USER, True, None, True, False, Stage.AUDIT, AuditStatus.TOAUDIT),
    (Source.USER, False, None, False, False, Stage.READY, AuditStatus.INIT),
    (Source.EXPIRY, True, "https://shop/r", False, True, Stage.PRE_REFUND, AuditStatus.INIT),
    (Source.EXPIRY, True, None, False, False, Stage.READY, AuditStatus.INIT),
    (Source.MERCHANT, True, "https://shop/r", False, False, Stage.READY, AuditStatus.INIT),
])
def test_where_a_refund_starts(source: Source, app_audits: bool, url: str | None, need_audit: bool, asks: bool,
                               stage: Stage, audit: AuditStatus) -> None:
    assert start(source, app_audits=app_audits, refund_url=url) == Start(need_audit, asks, Position(stage, audit))


def test_the_merchant_number_leads_to_the_audit_or_the_cashier() -> None:
    assert after_merchant_number(True) == Position(Stage.AUDIT, AuditStatus.TOAUDIT)
    assert after_merchant_number(False) == Position(Stage.READY, AuditStatus.INIT)


def test_audit_deadline_only_with_an_audit() -> None:
    assert audit_deadline(1000, True, 60) == 61_000
    assert audit_deadline(1000, False, 60) is None


def test_audit_agree_goes_to_the_cashier_deny_stays_to_fail() -> None:
    assert audited(True) == Position(Stage.READY, AuditStatus.AGREE)
    assert audited(False) == Position(Stage.AUDIT, AuditStatus.DENY)


@pytest.mark.parametrize(("no", "ok"), [("R-1", True), ("x" * 64, True), ("x" * 65, False), ("", False),
                                        (None, False), (12, False)])
def test_out_refund_no_is_1_to_64_characters(no: object, ok: bool) -> None:
    assert valid_out_refund_no(no) is ok


@pytest.mark.parametrize(("answer", "parsed"), [
    ('{"out_refund_no":"R-1"}', PreRefundAnswer("R-1")),
    ('{"out_refund_no":"R-1","notify_url":"https://shop/n","order_entry_schema":{"path":"p/a","params":"{}"}}',
     PreRefundAnswer("R-1", "https://shop/n", '{"path":"p/a","params":"{}"}')),
    ('{"out_refund_no":"R-1","notify_url":""}', PreRefundAnswer("R-1")),
    ('{"out_refund_no":""}', None), ('{"out_refund_no":5}', None), ("[]", None), ("not json", None), (None, None),
    ("", None),
])
def test_pre_refund_answer(answer: str | None, parsed: PreRefundAnswer | None) -> None:
    assert parse_pre_refund(answer) == parsed


def test_dumps_is_compact_and_keeps_chinese() -> None:
    assert dumps(["过期退", "a b"]) == '["过期退","a b"]'


def test_channel_message_says_what_happened_without_the_channel_words() -> None:
    assert channel_message(True, None) == "refunded"
    assert channel_message(False, "") == "the channel refused"
    assert channel_message(False, "card closed") == "card closed"


def test_refund_type_is_2_only_for_the_merchant() -> None:
    assert [refund_type(s) for s in (Source.USER, Source.MERCHANT, Source.EXPIRY, Source.LATE_PAYMENT)] == [1, 2, 1, 1]
