"""Goods rules: every label rule (21511), every limits rule (21512), fields, sale states, label texts."""

from __future__ import annotations

from typing import Any

import pytest

from paybutton.errors import TradeError
from paybutton.goods import rules
from paybutton.goods.rules import goods_state, label_text, validate_goods, validate_labels, validate_limits
from paybutton.money import MAX_AMOUNT

EXCLUSIVE = [
    ("REFUND_ANYTIME", "REFUNDABLE_DAYS"),
    ("RESERVATION_FREE", "BOOK_IN_ADVANCE"),
    ("NON_REFUNDABLE", "REFUNDABLE_DAYS"),
    ("NON_REFUNDABLE", "REFUND_ANYTIME"),
]


def lab(kind: str) -> dict[str, Any]:
    return {"type": kind, "value": 3} if kind in rules.VALUE_LABELS else {"type": kind}


def fails(fn: Any, *args: Any) -> TradeError:
    with pytest.raises(TradeError) as info:
        fn(*args)
    return info.value


# ---------------------------------------------------------------- labels


@pytest.mark.parametrize(
    "labels",
    [
        None,
        [],
        [{"type": "EXPIRED_RETURNS"}, {"type": "REFUND_ANYTIME"}, {"type": "BOOK_IN_ADVANCE", "value": 2}],
        [{"type": "RESERVATION_FREE"}, {"type": "REFUNDABLE_DAYS", "value": 7}],
        [{"type": "NON_REFUNDABLE"}, {"type": "EXPIRED_RETURNS"}, {"type": "RESERVATION_FREE"}],
        [{"type": "REFUNDABLE_DAYS", "value": 99999}],
        [{"type": "EXPIRED_RETURNS", "value": None}],
        ({"type": "REFUND_ANYTIME"},),
    ],
)
def test_valid_labels(labels: Any) -> None:
    out = validate_labels(labels)
    assert len(out) == len(labels or [])
    assert all(set(lb) <= {"type", "value"} for lb in out)


def test_labels_are_normalised() -> None:
    assert validate_labels([{"type": "EXPIRED_RETURNS", "value": None}]) == [{"type": "EXPIRED_RETURNS"}]
    valued = [{"type": "BOOK_IN_ADVANCE", "value": 2}]
    assert validate_labels(valued) == valued


@pytest.mark.parametrize("kind", rules.LABEL_TYPES)
def test_each_type_alone_is_valid(kind: str) -> None:
    assert validate_labels([lab(kind)]) == [lab(kind)]


EXCLUSION_CASES = [(a, b) for a, b in EXCLUSIVE] + [(b, a) for a, b in EXCLUSIVE]

BAD_LABELS: list[tuple[str, Any, str]] = [
    *[(f"{a}+{b}", [lab(a), lab(b)], "mutually exclusive") for a, b in EXCLUSION_CASES],
    *[(f"{a}+{b} among 3", [lab(a), {"type": "EXPIRED_RETURNS"}, lab(b)], "mutually exclusive")
      for a, b in EXCLUSION_CASES],
    ("four labels", [lab("EXPIRED_RETURNS"), lab("REFUND_ANYTIME"), lab("RESERVATION_FREE"),
                     lab("BOOK_IN_ADVANCE")], "at most 3"),
    ("six labels", [lab(k) for k in rules.LABEL_TYPES], "at most 3"),
    ("REFUNDABLE_DAYS without value", [{"type": "REFUNDABLE_DAYS"}], "requires value"),
    ("BOOK_IN_ADVANCE without value", [{"type": "BOOK_IN_ADVANCE"}], "requires value"),
    ("BOOK_IN_ADVANCE value null", [{"type": "BOOK_IN_ADVANCE", "value": None}], "requires value"),
    ("value 0", [{"type": "REFUNDABLE_DAYS", "value": 0}], "integer in 1..99999"),
    ("value negative", [{"type": "BOOK_IN_ADVANCE", "value": -2}], "integer in 1..99999"),
    ("value too big", [{"type": "BOOK_IN_ADVANCE", "value": 100000}], "integer in 1..99999"),
    ("value string", [{"type": "REFUNDABLE_DAYS", "value": "7"}], "integer in 1..99999"),
    ("value float", [{"type": "REFUNDABLE_DAYS", "value": 7.0}], "integer in 1..99999"),
    ("value bool", [{"type": "REFUNDABLE_DAYS", "value": True}], "integer in 1..99999"),
    ("value on a plain label", [{"type": "REFUND_ANYTIME", "value": 3}], "takes no value"),
    ("unknown type", [{"type": "FREE_LUNCH"}], "is not one of"),
    ("lower-case type", [{"type": "refund_anytime"}], "is not one of"),
    ("type missing", [{"value": 3}], "is not one of"),
    ("type not a string", [{"type": 1}], "is not one of"),
    ("duplicate plain", [lab("EXPIRED_RETURNS"), lab("EXPIRED_RETURNS")], "duplicate"),
    ("duplicate valued", [{"type": "BOOK_IN_ADVANCE", "value": 1}, {"type": "BOOK_IN_ADVANCE", "value": 2}],
     "duplicate"),
    ("not a list", {"type": "EXPIRED_RETURNS"}, "must be a list"),
    ("a string", "EXPIRED_RETURNS", "must be a list"),
    ("item a string", ["EXPIRED_RETURNS"], "must be an object"),
    ("item null", [None], "must be an object"),
    ("unknown key", [{"type": "EXPIRED_RETURNS", "text": "过期退"}], "unknown keys"),
]


@pytest.mark.parametrize(("case", "labels", "rule"), BAD_LABELS, ids=[c[0] for c in BAD_LABELS])
def test_bad_labels(case: str, labels: Any, rule: str) -> None:
    err = fails(validate_labels, labels)
    assert err.name == "GOODS_LABELS_INVALID"
    assert err.spec.err_no == 21511
    assert rule in (err.message or "")


def test_exclusion_message_names_both_types() -> None:
    err = fails(validate_labels, [lab("REFUNDABLE_DAYS"), lab("NON_REFUNDABLE")])
    assert "NON_REFUNDABLE" in err.text("en") and "REFUNDABLE_DAYS" in err.text("en")


# ---------------------------------------------------------------- limits


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [
        (None, None, (1, 99999)),
        (1, 1, (1, 1)),
        (5, None, (5, 99999)),
        (None, 2, (1, 2)),
        (99999, 99999, (99999, 99999)),
        (1, 99999, (1, 99999)),
    ],
)
def test_valid_limits(lo: Any, hi: Any, expected: tuple[int, int]) -> None:
    assert validate_limits(lo, hi) == expected


BAD_LIMITS: list[tuple[Any, Any, str]] = [
    (0, None, "min_limits must be in 1..99999"),
    (-1, 5, "min_limits must be in 1..99999"),
    (100000, None, "min_limits must be in 1..99999"),
    (None, 0, "max_limits must be in 1..99999"),
    (1, 100000, "max_limits must be in 1..99999"),
    ("1", None, "min_limits must be an integer"),
    (None, "99", "max_limits must be an integer"),
    (1.0, None, "min_limits must be an integer"),
    (None, 2.5, "max_limits must be an integer"),
    (True, None, "min_limits must be an integer"),
    (None, False, "max_limits must be an integer"),
    ([1], None, "min_limits must be an integer"),
    (3, 2, "must not exceed max_limits"),
]


@pytest.mark.parametrize(("lo", "hi", "rule"), BAD_LIMITS)
def test_bad_limits(lo: Any, hi: Any, rule: str) -> None:
    err = fails(validate_limits, lo, hi)
    assert err.name == "GOODS_LIMITS_INVALID"
    assert err.spec.err_no == 21512
    assert rule in (err.message or "")


def test_min_above_default_max_is_fine_but_above_given_max_is_not() -> None:
    assert validate_limits(100, None) == (100, 99999)
    assert fails(validate_limits, 100, 99).spec.err_no == 21512


# ---------------------------------------------------------------- label texts


@pytest.mark.parametrize(
    ("label", "zh", "en"),
    [
        ({"type": "EXPIRED_RETURNS"}, "过期退", "Refund on expiry"),
        ({"type": "REFUND_ANYTIME"}, "随时退", "Refund anytime"),
        ({"type": "RESERVATION_FREE"}, "免预约", "No reservation needed"),
        ({"type": "REFUNDABLE_DAYS", "value": 7}, "7日内可退", "Refundable within 7 days"),
        ({"type": "BOOK_IN_ADVANCE", "value": 2}, "提前2日预约", "Book 2 days in advance"),
        ({"type": "BOOK_IN_ADVANCE", "value": 1}, "提前1日预约", "Book 1 day in advance"),
        ({"type": "REFUNDABLE_DAYS", "value": 1}, "1日内可退", "Refundable within 1 day"),
        ({"type": "NON_REFUNDABLE"}, "不可退", "Non-refundable"),
    ],
)
def test_label_text(label: dict[str, Any], zh: str, en: str) -> None:
    assert label_text(label) == zh
    assert label_text(label, "zh-CN") == zh
    assert label_text(label, "en") == en
    assert label_text(label, "en-US") == en


# ---------------------------------------------------------------- sale state

T0 = 1_767_225_600_000


def good(**kw: Any) -> dict[str, Any]:
    return {"on_shelf": True, "stock": 5, "sale_start": T0, "sale_end": T0 + 1000, **kw}


@pytest.mark.parametrize(
    ("goods", "now", "state"),
    [
        (good(), T0 - 1, "upcoming"),
        (good(), T0, "on_sale"),
        (good(), T0 + 999, "on_sale"),
        (good(), T0 + 1000, "ended"),
        (good(), T0 + 10**9, "ended"),
        (good(stock=0), T0 - 1, "upcoming"),
        (good(stock=0), T0, "sold_out"),
        (good(stock=0), T0 + 999, "sold_out"),
        (good(stock=0), T0 + 1000, "ended"),
        (good(on_shelf=False), T0, "off_shelf"),
        (good(on_shelf=False, stock=0), T0 - 1, "off_shelf"),
        (good(sale_start=None, sale_end=None), 0, "on_sale"),
        (good(sale_start=None, sale_end=None, stock=0), 0, "sold_out"),
        (good(sale_start=None), T0 - 10**9, "on_sale"),
        (good(sale_end=None), T0 + 10**12, "on_sale"),
    ],
)
def test_goods_state(goods: dict[str, Any], now: int, state: str) -> None:
    assert goods_state(goods, now) == state
    assert state in rules.STATES


def test_goods_state_reads_objects_with_attributes() -> None:
    class Row:
        on_shelf = True
        stock = 0
        sale_start = None
        sale_end = None

    assert goods_state(Row(), T0) == "sold_out"


# ---------------------------------------------------------------- other fields


def record(**kw: Any) -> dict[str, Any]:
    return {"goods_id": "spu_1.a-B", "name": "烤肉套餐", "price": 9900, "stock": 10, **kw}


def test_record_defaults() -> None:
    out = validate_goods(record())
    assert out == {
        "goods_id": "spu_1.a-B", "name": "烤肉套餐", "photo_url": "", "price": 9900, "stock": 10,
        "sale_start": None, "sale_end": None, "labels": [], "min_limits": 1, "max_limits": 99999,
        "date_rule": "周一至周日可用", "phone_required": False, "biz_line": 1, "on_shelf": True,
        "valid_days": None,
    }


@pytest.mark.parametrize(
    "kw",
    [
        {"goods_id": "x" * 64},
        {"price": 1, "stock": 0},
        {"photo_url": "https://p11.douyinpic.com/a.jpeg?from=1"},
        {"photo_url": "http://127.0.0.1:8000/p.png"},
        {"sale_start": 1, "sale_end": 2},
        {"date_rule": "周一至周五可用"},
        {"date_rule": "x" * 256},
        {"biz_line": 2, "valid_days": 3650, "phone_required": True, "on_shelf": False},
        {"name": "n" * 256},
    ],
)
def test_valid_records(kw: dict[str, Any]) -> None:
    validate_goods(record(**kw))


BAD_FIELDS: list[tuple[dict[str, Any], str]] = [
    ({"goods_id": ""}, "goods_id"),
    ({"goods_id": "x" * 65}, "goods_id"),
    ({"goods_id": "商品1"}, "goods_id"),
    ({"goods_id": "a b"}, "goods_id"),
    ({"goods_id": "a/b"}, "goods_id"),
    ({"goods_id": "ab\n"}, "goods_id"),
    ({"goods_id": 12}, "goods_id"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "n" * 257}, "name"),
    ({"name": None}, "name"),
    ({"price": -1}, "price"),
    ({"price": 0}, "price"),  # issue 18 item 7: the floor is 1 fen
    ({"price": "9900"}, "price"),
    ({"price": 99.0}, "price"),
    ({"price": True}, "price"),
    ({"stock": -1}, "stock"),
    ({"stock": None}, "stock"),
    ({"photo_url": "ftp://x/y.png"}, "photo_url"),
    ({"photo_url": "javascript:alert(1)"}, "photo_url"),
    ({"photo_url": "https://"}, "photo_url"),
    ({"sale_start": 2, "sale_end": 2}, "sale_start"),
    ({"sale_start": 3, "sale_end": 2}, "sale_start"),
    ({"sale_start": -1}, "sale_start"),
    ({"sale_end": "2026-01-01"}, "sale_end"),
    ({"date_rule": "x" * 257}, "date_rule"),
    ({"date_rule": 5}, "date_rule"),
    ({"biz_line": 3}, "biz_line"),
    ({"biz_line": "1"}, "biz_line"),
    ({"valid_days": 0}, "valid_days"),
    ({"valid_days": 3651}, "valid_days"),
    ({"phone_required": "yes"}, "phone_required"),
    ({"on_shelf": 1}, "on_shelf"),
    ({"colour": "red"}, "unknown goods fields"),
]


@pytest.mark.parametrize("url", ["/static/demo/hotpot.svg", "/p.png?v=2#x", "/", "https://cdn.example/a%20b.png",
                                 "http://127.0.0.1:8000/static/demo/hotpot.svg"])
def test_photo_url_accepts_http_urls_and_root_relative_paths(url: str) -> None:
    """The demo's seeded goods use /static/demo/…: a path on the trade server, where the pages show it."""
    assert validate_goods(record(photo_url=url))["photo_url"] == url


@pytest.mark.parametrize("url", ["//evil.example/p.png", "///evil.example/p.png", "/\\evil.example/p.png",
                                 "static/demo/hotpot.svg", "./p.png", "../p.png", "/a b.png", "/a\tb.png",
                                 "/a\x00b", "data:image/svg+xml,<svg/>", "javascript:alert(1)", "ftp://x/y.png",
                                 "https://", "/" + "x" * 2048])
def test_photo_url_refuses_other_hosts_relative_paths_and_junk(url: str) -> None:
    err = fails(validate_goods, record(photo_url=url))
    assert err.name == "INVALID_PARAMETER" and "photo_url" in err.text("en")


@pytest.mark.parametrize(("kw", "field"), BAD_FIELDS)
def test_bad_fields(kw: dict[str, Any], field: str) -> None:
    err = fails(validate_goods, record(**kw))
    assert err.name == "INVALID_PARAMETER"
    assert (err.message or "").startswith(field)


@pytest.mark.parametrize("price", [MAX_AMOUNT + 1, 2**53, 2**63, 10**30])
def test_a_price_over_the_money_ceiling_has_its_own_error(price: int) -> None:
    """Issue 19 defect 3: one ceiling for every good (money.MAX_AMOUNT), refused as AMOUNT_TOO_LARGE."""
    err = fails(validate_goods, record(price=price))
    assert (err.name, err.detail) == ("AMOUNT_TOO_LARGE", {"field": "price"}) and str(MAX_AMOUNT) in (err.message or "")
    assert validate_goods(record(price=MAX_AMOUNT))["price"] == MAX_AMOUNT


def test_record_routes_labels_and_limits_to_their_codes() -> None:
    both = [lab("REFUND_ANYTIME"), lab("REFUNDABLE_DAYS")]
    assert fails(validate_goods, record(labels=both)).spec.err_no == 21511
    assert fails(validate_goods, record(min_limits=3, max_limits=2)).spec.err_no == 21512


# ---------------------------------------------------------------- every problem at once, in either language

FOUR_CLASHING = [{"type": "REFUND_ANYTIME"}, {"type": "REFUNDABLE_DAYS", "value": 3}, {"type": "EXPIRED_RETURNS"},
                 {"type": "RESERVATION_FREE"}]


def test_label_problems_are_all_collected_and_the_first_answers() -> None:
    _, found = rules.label_problems(FOUR_CLASHING)
    assert [p.rule for p in found] == ["labels_too_many", "labels_exclusive"]
    e = fails(validate_labels, FOUR_CLASHING)
    assert (e.name, e.message) == ("GOODS_LABELS_INVALID", "at most 3 labels are allowed (got 4)")
    assert [p.rule for p in getattr(e, "problems", [])] == ["labels_too_many", "labels_exclusive"]


@pytest.mark.parametrize(("labels", "zh", "en"), [
    (FOUR_CLASHING, "最多 3 个标签(现有 4 个)", "at most 3 labels are allowed (got 4)"),
    ([{"type": "REFUND_ANYTIME"}, {"type": "REFUNDABLE_DAYS", "value": 3}],
     "REFUND_ANYTIME 与 REFUNDABLE_DAYS 互斥,不能同时选择",
     "REFUND_ANYTIME and REFUNDABLE_DAYS are mutually exclusive"),
    ([{"type": "BOOK_IN_ADVANCE", "value": "x"}], "BOOK_IN_ADVANCE 的天数须为 1–99999 的整数,当前为 'x'",
     "BOOK_IN_ADVANCE value must be an integer in 1..99999, got 'x'"),
    ([{"type": "REFUNDABLE_DAYS"}], "REFUNDABLE_DAYS 须填写天数", "REFUNDABLE_DAYS requires value (a number of days)"),
    ([{"type": "NOPE"}], "labels[0].type 'NOPE' 不是以下之一:" + ", ".join(rules.LABEL_TYPES),
     "labels[0].type 'NOPE' is not one of " + ", ".join(rules.LABEL_TYPES)),
])
def test_label_problems_speak_one_language(labels: Any, zh: str, en: str) -> None:
    first = rules.label_problems(labels)[1][0]
    assert (first.text("zh-CN"), first.text("en")) == (zh, en)
    assert fails(validate_labels, labels).message == en  # the API's message is the English text, unchanged


def test_limit_problems_in_both_languages() -> None:
    _, found = rules.limits_problems(0, "x")
    assert [(p.field, p.text("zh-CN")) for p in found] == [
        ("min_limits", "起购份数须在 1–99999 之间,当前为 0"), ("max_limits", "限购份数须为整数,当前为 'x'")]
    assert [p.text("en") for p in found] == ["min_limits must be in 1..99999, got 0",
                                             "max_limits must be an integer, got 'x'"]
    _, order = rules.limits_problems(5, 2)
    assert order[0].text("zh-CN") == "起购份数 (5) 不能大于限购份数 (2)"
    assert fails(validate_limits, 5, 2).message == "min_limits (5) must not exceed max_limits (2)"


def test_goods_problems_collects_every_field_and_raises_the_first() -> None:
    record = {"goods_id": "ok-1", "name": "", "price": -1, "stock": 1, "labels": FOUR_CLASHING, "min_limits": 0,
              "valid_days": 0}
    _, found = rules.goods_problems(record)
    assert [(p.error, p.field) for p in found] == [
        ("INVALID_PARAMETER", "name"), ("INVALID_PARAMETER", "price"), ("GOODS_LABELS_INVALID", "labels"),
        ("GOODS_LABELS_INVALID", "labels"), ("GOODS_LIMITS_INVALID", "min_limits"),
        ("INVALID_PARAMETER", "valid_days")]
    assert found[1].text("zh-CN") == "价格须至少 ¥0.01(1 分),不能为 0 或负数,当前为 -1 分"
    assert found[5].text("en") == "valid_days must be an integer in 1..3650 days, got 0"
    e = fails(validate_goods, record)
    assert (e.name, e.message, e.detail) == ("INVALID_PARAMETER", "name must be 1-256 characters", {"field": "name"})
    assert len(getattr(e, "problems", [])) == 6
    assert all(p.text("zh-CN") and not any("一" <= ch <= "鿿" for ch in p.text("en")) for p in found)


@pytest.mark.parametrize(("info", "required"), [
    ({}, False), ({"validation": {}}, False), ({"validation": {"phoneNumber": {}}}, False),
    ({"validation": {"phoneNumber": {"required": True}, "reservationType": 1}}, True),
])
def test_phone_required_reads_the_documented_validation(info: dict[str, Any], required: bool) -> None:
    assert rules.phone_required(info) is required


@pytest.mark.parametrize("info", [
    {"validation": None}, {"validation": 422}, {"validation": []}, {"validation": {"phoneNumber": "yes"}},
    {"validation": {"phoneNumber": {"required": 1}}}, {"validation": {"phoneNumber": {"required": None}}},
])
def test_phone_required_refuses_other_types(info: dict[str, Any]) -> None:
    with pytest.raises(TradeError) as e:
        rules.phone_required(info)
    assert e.value.name == "GOODS_INFO_TYPE_INVALID"
