"""order/create_order and order/query_cps over plain HTTP on the SDK's paths, on SQLite and PostgreSQL: a
developer-created order takes stock, gets one item order per unit, is paid through the buyer API as a button's
order is, tells the merchant `payment`, expires like any order; the same body again answers the same order; every
refusal has its own error and changes nothing."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select
from trade_world import TradeWorld

from paybutton.errors import REGISTRY
from paybutton.order import ending
from paybutton.tables import dev_orders, goods, item_orders, order_cps, orders

ORDER = "/api/apps/trade/v2/order"


def body(out_order_no: str = "DEV-1", quantity: int = 2, price: int = 1000, **kw: Any) -> dict[str, Any]:
    goods_line = {"goods_id": "g", "goods_id_type": 1, "price": price, "quantity": quantity,
                  **kw.pop("goods", {})}
    return {"out_order_no": out_order_no, "open_id": "buyer", "total_amount": price * quantity,
            "goods_list": [goods_line], **kw}


async def post(trade: TradeWorld, path: str, data: dict[str, Any]) -> dict[str, Any]:
    r = await trade.http.post(f"{trade.url}{path}", json=data, headers={"access-token": await trade.token()})
    assert r.status_code == 200, r.text
    env: dict[str, Any] = r.json()
    return env


async def counts(trade: TradeWorld) -> tuple[int, int, int, int]:
    """(orders, item orders, dev_orders, stock of g): what a refusal must leave as it was."""
    async with trade.db.engine.connect() as conn:
        n = [int((await conn.execute(select(func.count()).select_from(t))).scalar_one())
             for t in (orders, item_orders, dev_orders)]
        stock = int((await conn.execute(select(goods.c.stock).where(goods.c.goods_id == "g"))).scalar_one())
    return n[0], n[1], n[2], stock


async def test_a_developer_order_is_paid_like_a_button_order(trade: TradeWorld) -> None:
    await trade.add_goods("g", stock=10, price=1000)
    env = await post(trade, f"{ORDER}/create_order/", body(
        discount_amount=100, cp_extra="dev", order_entry_schema={"path": "pages/o", "params": '{"id":1}'}))
    data = env["data"]
    assert env["extra"]["error_code"] == 0 and data["error_code"] == 0, env
    oid = data["order_id"]
    assert data["out_order_no"] == "DEV-1" and data["pay_order_id"] == oid
    (info,) = data["item_order_info_list"]
    assert info["goods_id"] == "g" and len(info["item_order_id_list"]) == 2
    assert [d["price"] for d in info["item_order_detail"]] == [950, 950]  # 2000 - 100, split per unit
    assert (await counts(trade))[3] == 8  # the stock is taken
    assert trade.merchant.of_type("pre_create_order") == []  # the developer created it: no pre-order asked
    q = (await trade.api("order/query_order", {"out_order_no": "DEV-1"}))["data"]
    assert (q["order_id"], q["order_status"], q["total_fee"], q["cp_extra"]) == (oid, "INIT", 1900, "dev")
    assert q["order_entry_schema"] == {"path": "pages/o", "params": '{"id":1}'}
    # the buyer pays it through the buyer API, as the pay-button (mode 1, order-status 0) does
    h = trade.auth("buyer")
    assert (await trade.http.post(f"{trade.url}/api/buyer/v1/orders/{oid}/cashier", headers=h)).status_code == 200
    p = await trade.http.post(f"{trade.url}/api/buyer/v1/orders/{oid}/pay", headers=h, json={"channel": "douyin"})
    assert p.status_code == 200 and p.json()["result"]["code"] == 0, p.text
    await trade.drive()
    (paid,) = trade.merchant.of_type("payment")
    assert paid.msg["order_id"] == oid and paid.msg["out_order_no"] == "DEV-1" and paid.msg["status"] == "SUCCESS"
    items = await (await trade.http.post(f"{trade.url}{ORDER}/query_item_order_info", json={"order_id": oid},
                                         headers={"access-token": await trade.token()})).aread()
    assert b'"item_order_status":2' in items
    # another buyer cannot pay it
    other = await trade.http.post(f"{trade.url}/api/buyer/v1/orders/{oid}/cashier", headers=trade.auth("x"))
    assert other.status_code == 404


async def test_the_same_body_again_answers_the_same_order(trade: TradeWorld) -> None:
    await trade.add_goods("g", stock=10, price=1000)
    first = (await post(trade, f"{ORDER}/create_order", body()))["data"]
    before = await counts(trade)
    again = (await post(trade, f"{ORDER}/create_order", body()))["data"]
    assert again == first and await counts(trade) == before
    other = await post(trade, f"{ORDER}/create_order", body(quantity=1))
    assert other["extra"]["error_code"] != 0 and "out_order_no" in other["extra"]["sub_description"]
    assert other["data"]["description"] == "out_order_no 已用于另一个下单请求: DEV-1"
    assert await counts(trade) == before


async def test_refusals_change_nothing(trade: TradeWorld) -> None:
    await trade.add_goods("g", stock=10, price=1000)
    button_order = await trade.paid_order(open_id="buyer", goods_id="g", price=1000)
    before = await counts(trade)
    two = body()
    two["goods_list"].append(dict(two["goods_list"][0]))
    cases = {
        "DEV_ORDER_TOTAL_MISMATCH": {**body(), "total_amount": 1999},
        "GOODS_NOT_FOUND": body(goods={"goods_id": "nope"}),
        "DEV_ORDER_PRICE_MISMATCH": body(price=900),
        "DEV_ORDER_ONE_GOODS": two,
        "DEV_ORDER_DISCOUNT_INVALID": body(discount_amount=2000),
        "OUT_ORDER_NO_DUPLICATE": body(out_order_no=button_order["out_order_no"]),
        "PHONE_INVALID": body(phone_num="12"),
        "GOODS_SOLD_OUT": body(quantity=20),  # more than the stock: the sell condition refuses
    }
    for name, data in cases.items():
        env = await post(trade, f"{ORDER}/create_order", data)
        assert env["extra"]["sub_description"].startswith(REGISTRY[name].en), (name, env)
        assert env["data"]["error_code"] == env["extra"]["error_code"], (name, env)
        assert await counts(trade) == before, name
    bad_detail = body(discount_amount=100, price_calculation_detail={"calculation_type": 1})
    env = await post(trade, f"{ORDER}/create_order", bad_detail)
    assert env["extra"]["sub_description"].startswith("the discount does not fit"), env
    schema_bad = await post(trade, f"{ORDER}/create_order", body(price=0))
    assert schema_bad["extra"]["error_code"] == 2100005  # INVALID_PARAMETER: a price of 0 fen
    assert await counts(trade) == before


async def test_an_unpaid_developer_order_expires_and_gives_its_stock_back(trade: TradeWorld) -> None:
    await trade.add_goods("g", stock=10, price=1000)
    data = (await post(trade, f"{ORDER}/create_order", body(pay_expire_seconds=60)))["data"]
    assert (await counts(trade))[3] == 8
    trade.clock.advance(61)
    assert await ending.expire_due(trade.tctx) == 1
    q = (await trade.api("order/query_order", {"order_id": data["order_id"]}))["data"]
    assert q["order_status"] == "TIMEOUT" and (await counts(trade))[3] == 10
    await trade.drive()
    (cancel,) = trade.merchant.of_type("payment")
    assert cancel.msg["status"] == "CANCEL" and cancel.msg["out_order_no"] == "DEV-1"


async def test_a_developer_described_good_has_no_stock(trade: TradeWorld) -> None:
    data = (await post(trade, f"{ORDER}/create_order", {
        "out_order_no": "DEV-9", "open_id": "buyer", "total_amount": 3000, "goods_list": [{
            "goods_id": "own-1", "goods_id_type": 2, "goods_title": "自营套餐", "goods_image": "/x.png",
            "price": 1500, "quantity": 2}]}))["data"]
    assert data["error_code"] == 0, data
    async with trade.db.engine.connect() as conn:
        row = (await conn.execute(select(orders).where(orders.c.order_id == data["order_id"]))).one()
    assert (row.goods_type, row.total_amount, row.out_order_no, row.pre_order_status) == (2, 3000, "DEV-9", "OK")
    assert '"name":"自营套餐"' in row.goods_snapshot


async def test_query_cps_answers_the_original_shape(trade: TradeWorld) -> None:
    order = await trade.paid_order(open_id="buyer", quantity=2)
    oid = order["order_id"]
    data = (await post(trade, f"{ORDER}/query_cps/", {"order_id": oid}))["data"]
    assert data["order_id"] == oid and data["out_order_no"] == order["out_order_no"]
    assert data["cps_info"] == {"total_commission_amount": 0, "cps_item_list": []}
    assert data["payment_info"]["order_status"] == "SUCCESS" and data["payment_info"]["total_fee"] == 2000
    assert data["refund_info"]["refund_items"] == [] and data["delivery_info"]["delivery_items"] == []
    items = await trade.items(oid)
    async with trade.db.tx() as conn:  # a creator brought this sale: the order carries commission records
        await conn.execute(order_cps.insert(), [{
            "item_order_id": i.item_order_id, "order_id": oid, "app_id": trade.app_id, "sell_amount": i.price,
            "commission_amount": i.price // 4, "commission_rate": 2500, "source_type": 1, "status": 2,
            "commission_user_douyinid": "ax81nd873", "commission_user_nickname": "小毛驴", "task_id": "t1",
            "item_id": "7049587675082263815", "created_at": 1} for i in items])
    data = (await post(trade, f"{ORDER}/query_cps", {"out_order_no": order["out_order_no"]}))["data"]
    assert data["cps_info"]["total_commission_amount"] == 500
    assert [c["commission_rate"] for c in data["cps_info"]["cps_item_list"]] == [2500, 2500]
    missing = await post(trade, f"{ORDER}/query_cps", {"order_id": "ot-none"})
    assert missing["extra"]["error_code"] != 0


async def test_concurrent_creates_of_one_out_order_no_make_one_order(trade: TradeWorld) -> None:
    """The same body sent at once: one order, both answers the same; another body at once: one wins, the other is
    refused; whatever lost gave its stock back."""
    await trade.add_goods("g", stock=50, price=1000)
    same = await asyncio.gather(*(post(trade, f"{ORDER}/create_order", body("RACE-1")) for _ in range(4)))
    assert all(s["data"] == same[0]["data"] for s in same) and same[0]["data"]["error_code"] == 0
    mixed = await asyncio.gather(*(post(trade, f"{ORDER}/create_order", body("RACE-2", quantity=q))
                                   for q in (1, 2, 3)))
    won = [m for m in mixed if m["data"]["error_code"] == 0]
    assert len(won) == 1 and all(m["extra"]["sub_description"].startswith(REGISTRY["OUT_ORDER_NO_REUSED"].en)
                                 for m in mixed if m not in won), [m["extra"] for m in mixed]
    sold = 2 + won[0]["data"]["item_order_info_list"][0]["item_order_id_list"].__len__()
    async with trade.db.engine.connect() as conn:
        live = (await conn.execute(select(func.count()).select_from(orders).where(orders.c.status == "INIT"))).scalar()
    assert live == 2 and (await counts(trade))[3] == 50 - sold
