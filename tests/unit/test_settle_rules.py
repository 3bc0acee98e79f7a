"""settle/rules.py, pure: settle_params, the rake, the split, which units settle, and D+N in Beijing days."""

from __future__ import annotations

import datetime as dt

import pytest

from paybutton.errors import TradeError
from paybutton.settle import rules
from paybutton.settle.rules import Share, Unit

BJ = dt.timezone(dt.timedelta(hours=8))


def ms(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=BJ).timestamp() * 1000)


@pytest.mark.parametrize("raw", ["x", "{}", "[1]", '[{"merchant_uid":""}]', '[{"merchant_uid":"a","amount":true}]',
                                 '[{"merchant_uid":"a","amount":"1"}]', '[{"merchant_uid":"a","amount":0}]',
                                 '[{"merchant_uid":"a","amount":1},{"merchant_uid":"a","amount":2}]',
                                 '[{"merchant_uid":"a","amount":1,"x":1}]'])
def test_bad_settle_params(raw: str) -> None:
    with pytest.raises(TradeError) as e:
        rules.parse_params(raw)
    assert e.value.name == "SETTLE_PARAMS_INVALID"


def test_settle_params_and_split() -> None:
    assert rules.parse_params(None) == [] and rules.parse_params(" ") == []
    shares = rules.parse_params('[{"merchant_uid":"a","amount":300}]')
    assert shares == [Share("a", 300)] and rules.dump_params(shares) == '[{"merchant_uid":"a","amount":300}]'
    sp = rules.split(2000, 500, shares)
    assert (sp.total, sp.rake, sp.commission, sp.seller) == (2000, 100, 0, 1600)
    assert rules.rake(1, 5000) == 1 and rules.rake(1, 4999) == 0  # half up, to the fen
    with pytest.raises(TradeError) as e:
        rules.split(2000, 500, [Share("a", 1901)])
    assert e.value.name == "SETTLE_OVER_LEFT"


def test_pick() -> None:
    redeemed, unused = Unit("i1", 1000, 3, 0, 0, None, 1), Unit("i2", 1000, 2, 0, 0, None)
    assert rules.pick([redeemed, unused], "i1", after_redeem=True, unit_settled=False) == {"i1": 1000}
    assert rules.pick([redeemed, unused], None, after_redeem=False, unit_settled=False) == {"i1": 1000, "i2": 1000}
    for args, name in (((None, True, False), "SETTLE_NOT_FINISHED"), (("i2", True, False), "SETTLE_NOT_FINISHED"),
                       (("i9", True, False), "SETTLE_ITEM_NOT_IN_ORDER"),
                       ((None, False, True), "SETTLE_WHOLE_AFTER_UNIT")):
        iid, after, unit_settled = args
        with pytest.raises(TradeError) as e:
            rules.pick([redeemed, unused], iid, after_redeem=after, unit_settled=unit_settled)
        assert e.value.name == name, args
    refunded = Unit("i3", 1000, 102, 1000, 0, None)
    with pytest.raises(TradeError) as e:
        rules.pick([refunded], None, after_redeem=True, unit_settled=False)
    assert e.value.name == "SETTLE_NOTHING_LEFT"


def test_d_plus_n_in_beijing_calendar_days() -> None:
    late = ms(2026, 12, 7, 23, 59)
    assert rules.due_at(late, 0) == ms(2026, 12, 7) and rules.due_at(late, 1) == ms(2026, 12, 8)
    units = [Unit("i1", 1000, 3, 0, 0, None, verified_at=late)]
    assert rules.auto_due("verify", 1, late, units, ms(2026, 12, 8)) is True
    assert rules.auto_due("verify", 1, late, units, ms(2026, 12, 7, 23, 59, 59)) is False
    assert rules.auto_due("verify", 0, late, [*units, Unit("i2", 1000, 2, 0, 0, None)], late) is False  # one unused
    assert rules.auto_due("pay", 2, late, [Unit("i2", 1000, 2, 0, 0, None)], ms(2026, 12, 9)) is True
    assert rules.auto_due("manual", 0, late, units, late) is False
