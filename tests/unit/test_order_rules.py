"""Pure order rules (order/rules.py) and the rows of a new order (order/rows.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from paybutton.errors import TradeError
from paybutton.order import rows, rules
from paybutton.order.states import GoodsType, ItemStatus, OrderStatus, PreOrder, payable


def _raises(name: str, fn: Any, *args: Any) -> TradeError:
    with pytest.raises(TradeError) as e:
        fn(*args)
    assert e.value.name == name
    return e.value


def test_quantity_within_limits() -> None:
    rules.check_quantity(2, 2, 3)
    rules.check_quantity(3, 2, 3)
    assert _raises("QUANTITY_OUT_OF_LIMITS", rules.check_quantity, 4, 2, 3).message == "quantity 4 is outside [2, 3]"
    _raises("QUANTITY_OUT_OF_LIMITS", rules.check_quantity, 1, 2, 3)


def test_phone_numbers() -> None:
    assert rules.normalise_phone("+86 138-0013 8000", required=True) == "13800138000"
    assert rules.normalise_phone(None, required=False) is None
    assert rules.normalise_phone("  ", required=False) is None
    _raises("PHONE_REQUIRED", rules.normalise_phone, " ", True)
    _raises("PHONE_INVALID", rules.normalise_phone, "12800138000", False)
    _raises("PHONE_INVALID", rules.normalise_phone, "1380013800", False)


def test_pre_order_answer() -> None:
    assert rules.parse_pre_order_answer({"out_order_no": "B1", "extra": 1}) == {"out_order_no": "B1"}
    full = {"out_order_no": "B1", "pay_expire_seconds": 60, "order_entry_schema": {"path": "p", "params": "{}"}}
    assert rules.parse_pre_order_answer(full) == full
    for bad in ({}, {"out_order_no": ""}, {"out_order_no": "x" * 65}, {"out_order_no": "B", "pay_expire_seconds": 0},
                {"out_order_no": "B", "pay_expire_seconds": True}, {"out_order_no": "B", "order_entry_schema": []},
                {"out_order_no": "B", "pay_expire_seconds": rules.MAX_PAY_EXPIRE_SECONDS + 1}):
        _raises("PRE_ORDER_SERVER_ERROR", rules.parse_pre_order_answer, bad)


INFO = {"currentPrice": 990, "goodsName": "咖啡", "goodsPhoto": "https://img/x.png", "minLimits": 1,
        "maxLimits": 5, "goodsLabels": [{"type": "RESERVATION_FREE"}]}


def test_merchant_goods_from_getgoodsinfo() -> None:
    m = rules.merchant_goods(INFO)
    assert (m.goods.price, m.goods.name, m.min_limits, m.max_limits, m.phone_required) == (990, "咖啡", 1, 5, False)
    assert json.loads(m.goods.labels) == [{"type": "RESERVATION_FREE"}]
    assert (m.goods.date_rule, m.goods.biz_line) == ("周一至周日可用", rules.MERCHANT_BIZ_LINE)
    for bad in (None, INFO | {"currentPrice": True}, INFO | {"currentPrice": -1}, INFO | {"goodsName": ""},
                INFO | {"goodsPhoto": 1}, INFO | {"dateRule": 3}):
        _raises("GOODS_INFO_TYPE_INVALID", rules.merchant_goods, bad)


def _new(**kw: Any) -> rows.NewOrder:
    base: dict[str, Any] = dict(
        order_id="o1", app_id="a1", open_id="u1", goods_id="g1", goods_type=int(GoodsType.LIBRARY), quantity=3,
        phone_num=None, contact_name="张三", cp_extra="x", out_order_no=None,
        pre_order_status=PreOrder.PENDING.value, delivery_type=1, pay_expire_ms=300_000,
        item_ids=["i1", "i2", "i3"], now=1000)
    return rows.NewOrder(**(base | kw))


GOODS = rows.Goods(name='a "b"\n', photo_url="p", price=1000, labels='[{"type":"NON_REFUNDABLE"}]',
                   date_rule="周末", biz_line=2)


def test_order_row_and_items() -> None:
    o = rows.order_row(_new(discount=101, price=1000, price_detail="{}"), GOODS)
    assert tuple(o) == rows.ORDER_COLUMNS
    assert (o["unit_price"], o["total_amount"], o["discount_amount"], o["biz_line"]) == (1000, 3000, 101, 2)
    assert (o["status"], o["pay_expire_at"], o["created_at"], o["legacy"]) == (OrderStatus.INIT.value, 301_000, 1000,
                                                                                False)
    items = rows.item_rows(_new(discount=101), GOODS.price)
    assert [i["price"] for i in items] == [967, 966, 966]
    assert sum(i["price"] for i in items) == payable(o["total_amount"], o["discount_amount"])
    assert {i["status"] for i in items} == {int(ItemStatus.UNPAID)} and [i["seq"] for i in items] == [0, 1, 2]
    assert tuple(items[0]) == rows.ITEM_COLUMNS


def test_snapshot_is_compact_json_with_the_stored_labels() -> None:
    text = rows.snapshot_json(GOODS)
    assert text == rows.dumps({"name": GOODS.name, "photo_url": "p", "labels": [{"type": "NON_REFUNDABLE"}],
                               "date_rule": "周末"})
    assert json.loads(text) == rows.snapshot(GOODS)


def test_pre_order_msg() -> None:
    new = _new(discount=101, price_detail='{"k":1}', phone_num="13800138000")
    o = rows.Order.from_new(rows.order_row(new, GOODS))
    items = [rows.ItemOrder.from_new(i) for i in rows.item_rows(new, GOODS.price)]
    msg = rules.pre_order_msg("a1", o, items, rows.snapshot(GOODS))
    assert (msg["total_amount"], msg["discount"], msg["phone_num"], msg["cp_extra"]) == (3000, 101, "13800138000", "x")
    assert msg["goods"][0]["labels"] == "不可退" and msg["goods"][0]["goods_id_type"] == 1
    assert [i["price"] for i in msg["item_order_info_list"]] == [967, 966, 966]
    assert msg["price_calculation_detail"] == {"k": 1}
    merchant = rules.pre_order_msg("a1", replace(o, goods_type=int(GoodsType.MERCHANT), cp_extra=None), [],
                                   rows.snapshot(GOODS))
    assert merchant["sku_list"][0]["sku_id_type"] == 2 and merchant["cp_extra"] == ""
