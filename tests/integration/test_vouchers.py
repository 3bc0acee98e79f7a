"""Vouchers over real HTTP on SQLite and PostgreSQL: a code per paid unit, delivery_prepare / delivery_verify /
verify_cancel / push_delivery with the reference §16 bodies, verified units do not refund, a refund racing a
verification of the same unit (exactly one wins), and `paybutton verify CODE`."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import update
from trade_world import TradeWorld
from typer.testing import CliRunner

from paybutton.apps import service as app_service
from paybutton.cli import cli
from paybutton.console import order_queries
from paybutton.tables import goods, item_orders

BUYER = "/api/buyer/v1"


async def vouchers(w: TradeWorld, order_id: str) -> dict[str, Any]:
    r = await w.http.get(f"{w.url}{BUYER}/orders/{order_id}/vouchers", headers=w.auth("buyer"))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_verify_flow_and_verified_units_do_not_refund(trade: TradeWorld) -> None:
    labels = [{"type": "REFUND_ANYTIME"}, {"type": "BOOK_IN_ADVANCE", "value": 2}]
    await trade.add_goods("g", price=8880, labels=json.dumps(labels))
    order = await trade.paid_order(quantity=2)
    async with trade.db.tx() as conn:  # renamed and relabelled after the sale: the card keeps the order's snapshot
        await conn.execute(update(goods).where(goods.c.goods_id == "g").values(name="renamed", labels="[]"))
    card = await vouchers(trade, order["order_id"])
    assert [v["state"] for v in card["vouchers"]] == ["待使用", "待使用"]
    # the card's head: the app's name, the goods name and the label chips from the order's snapshot, both languages
    assert card["merchant_name"] == "Refund shop" and card["goods_name"] == "goods g"
    assert card["labels"] == {"zh-CN": ["随时退", "提前2日预约"], "en": ["Refund anytime", "Book 2 days in advance"]}
    assert [v["price"] for v in card["vouchers"]] == [8880, 8880]
    codes = [v["code"] for v in card["vouchers"]]
    assert all(c and len(c) == 12 for c in codes) and len(set(codes)) == 2
    prep = await trade.api("fulfillment/delivery_prepare", {"code": codes[0]})
    data = prep["data"]
    assert prep["extra"]["error_code"] == 0
    assert data["order_id"] == order["order_id"] and data["out_order_no"] == order["out_order_no"]
    assert data["verify_token"] and len(data["certificates"]) == 2
    assert set(data["certificates"][0]) == {"encrypted_code", "certificate_id", "item_order_id"}
    by_qr = await trade.api("fulfillment/delivery_prepare", {"encrypted_data": card["vouchers"][1]["qr_data"]})
    assert by_qr["data"]["order_id"] == order["order_id"]
    cert = next(c for c in data["certificates"] if c["encrypted_code"] == codes[0])
    body = {"verify_token": data["verify_token"], "order_id": order["order_id"],
            "certificates": [{"encrypted_code": cert["encrypted_code"], "certificate_id": cert["certificate_id"]}],
            "poi_info": {"shop_name": "门店", "ext_valid_shop_id": "s1", "valid_poi_id_str": "p1"}}
    first = await trade.api("fulfillment/delivery_verify", body)
    (res,) = first["data"]["verify_results"]
    assert res["result_code"] == 0 and res["item_order_id"] == cert["item_order_id"]
    assert res["certificate_code"] == codes[0] and res["verify_id"] and res["verify_time"] > 0
    twice = await trade.api("fulfillment/delivery_verify", body)
    assert twice["data"]["verify_results"][0]["result_code"] == 21001
    card = await vouchers(trade, order["order_id"])
    states = {v["item_order_id"]: v["state"] for v in card["vouchers"]}
    assert states[cert["item_order_id"]] == "已核销" and sorted(states.values()) == sorted(["已核销", "待使用"])
    refund = await trade.http.post(f"{trade.url}{BUYER}/orders/{order['order_id']}/refunds",
                                   headers=trade.auth("buyer"),
                                   json={"item_order_list": [{"item_order_id": cert["item_order_id"]}]})
    assert refund.status_code == 409 and refund.json()["error"] == "ITEM_NOT_REFUNDABLE"
    cancel = await trade.api("fulfillment/verify_cancel", {"order_id": order["order_id"],
                                                          "certificate_id": cert["certificate_id"],
                                                          "verify_id": res["verify_id"]})
    assert cancel["extra"]["error_code"] == 0
    again = await trade.api("fulfillment/verify_cancel", {"order_id": order["order_id"],
                                                         "certificate_id": cert["certificate_id"],
                                                         "verify_id": res["verify_id"]})
    assert again["extra"]["error_code"] == 2191004
    refund = await trade.http.post(f"{trade.url}{BUYER}/orders/{order['order_id']}/refunds",
                                   headers=trade.auth("buyer"),
                                   json={"item_order_list": [{"item_order_id": cert["item_order_id"]}]})
    assert refund.status_code == 200, refund.text
    states = {v["item_order_id"]: v["state"] for v in (await vouchers(trade, order["order_id"]))["vouchers"]}
    assert states[cert["item_order_id"]] in ("退款中", "已退款")
    await trade.drive()
    states = {v["item_order_id"]: v["state"] for v in (await vouchers(trade, order["order_id"]))["vouchers"]}
    assert states[cert["item_order_id"]] == "已退款"
    bad = await trade.api("fulfillment/delivery_verify", {**body, "verify_token": "1.forged"})
    assert bad["extra"]["sub_error_code"] == 10000


async def test_refund_racing_verification_exactly_one_wins(trade: TradeWorld) -> None:
    for n in range(4):
        order = await trade.paid_order(open_id="buyer")
        (v,) = (await vouchers(trade, order["order_id"]))["vouchers"]
        prep = (await trade.api("fulfillment/delivery_prepare", {"code": v["code"]}))["data"]
        token = await trade.token()
        verify = trade.http.post(f"{trade.url}/api/apps/trade/v2/fulfillment/delivery_verify",
                                 headers={"access-token": token},
                                 json={"verify_token": prep["verify_token"], "order_id": order["order_id"],
                                       "certificates": [{"encrypted_code": v["code"],
                                                         "certificate_id": v["certificate_id"]}]})
        refund = trade.http.post(f"{trade.url}{BUYER}/orders/{order['order_id']}/refunds",
                                 headers=trade.auth("buyer"), json={"reason": "其他"})
        vr, rr = await asyncio.gather(verify, refund) if n % 2 else reversed(await asyncio.gather(refund, verify))
        verified = vr.json()["data"]["verify_results"][0]["result_code"] == 0
        refunded = rr.status_code == 200
        assert verified != refunded, (vr.text, rr.text)
        await trade.drive()
        (item,) = await trade.items(order["order_id"])
        assert item.status == (3 if verified else 102)


@pytest.mark.parametrize("delivery_type", [0])  # 三方码: push_delivery is for the merchant's own codes only
async def test_push_delivery_merchant_codes(trade: TradeWorld) -> None:
    order = await trade.paid_order(quantity=3)
    its = [i["item_order_id"] for i in order["item_orders"]]
    one = await trade.api("fulfillment/push_delivery", {"out_order_no": order["out_order_no"],
                                                        "item_order_list": [{"item_order_id": its[0]}],
                                                        "use_all": False, "poi_info": {"shop_name": "s"}})
    (res,) = one["data"]["verify_results"]
    assert set(res) == {"item_order_id", "certificate_id", "verify_id", "verify_time"}
    assert res["item_order_id"] == its[0]
    again = await trade.api("fulfillment/push_delivery", {"out_order_no": order["out_order_no"],
                                                          "item_order_list": [{"item_order_id": its[0]}]})
    assert again["extra"]["sub_error_code"] == 21001
    rest = await trade.api("fulfillment/push_delivery", {"out_order_no": order["out_order_no"], "use_all": True})
    assert sorted(r["item_order_id"] for r in rest["data"]["verify_results"]) == sorted(its[1:])
    assert [i.status for i in await trade.items(order["order_id"])] == [3, 3, 3]
    nothing = await trade.http.post(f"{trade.url}{BUYER}/orders/{order['order_id']}/refunds",
                                    headers=trade.auth("buyer"), json={})
    assert nothing.json()["errNo"] == 21531


async def test_cli_verify_code(trade: TradeWorld, db_url: str) -> None:
    order = await trade.paid_order()
    (v,) = (await vouchers(trade, order["order_id"]))["vouchers"]
    runner = CliRunner()
    out = await asyncio.to_thread(runner.invoke, cli, ["verify", v["code"], "--database", db_url])
    assert out.exit_code == 0, out.output
    assert v["code"] in out.output and order["order_id"] in out.output
    assert (await vouchers(trade, order["order_id"]))["vouchers"][0]["state"] == "已核销"
    twice = await asyncio.to_thread(runner.invoke, cli, ["verify", v["code"], "--database", db_url])
    assert twice.exit_code == 2
    missing = await asyncio.to_thread(runner.invoke, cli, ["verify", "000000000000", "--database", db_url])
    assert missing.exit_code == 2


async def test_a_code_is_unique_per_app_and_verify_names_the_app(trade: TradeWorld, db_url: str) -> None:
    """Since migration 0017 a voucher code is unique per app only (app_id is in every key, for Citus): two apps may
    hold the same code. `paybutton verify CODE` then asks for the app (--app) and redeems that app's unit; the
    console redeems its own app's."""
    mine = await trade.paid_order()
    (v,) = (await vouchers(trade, mine["order_id"]))["vouchers"]
    first = trade.app
    async with trade.db.tx() as conn:
        other = await app_service.create_app(conn, trade.clock, name="Other shop",
                                             pre_order_url=f"{trade.merchant_url()}/pre_create_order",
                                             payment_notify_url=f"{trade.merchant_url()}/payment")
    trade.app, trade.app_id = other, other["app_id"]
    theirs = await trade.paid_order(goods_id="g2")
    trade.app, trade.app_id = first, first["app_id"]
    async with trade.db.tx() as conn:  # the other app's unit gets the same code (refused before 0017)
        await conn.execute(update(item_orders).where(item_orders.c.order_id == theirs["order_id"])
                           .values(voucher_code=v["code"]))
    runner = CliRunner()
    both = await asyncio.to_thread(runner.invoke, cli, ["verify", v["code"], "--database", db_url])
    assert both.exit_code == 2 and "name the app (--app)" in both.stderr, both.output
    out = await asyncio.to_thread(runner.invoke, cli, ["verify", f"pbv1:{v['code']}", "--app", other["app_id"],
                                                       "--database", db_url])
    assert out.exit_code == 0 and theirs["order_id"] in out.output, out.output
    assert [i.status for i in await trade.items(theirs["order_id"])] == [3]
    assert [i.status for i in await trade.items(mine["order_id"])] == [2]
    (unit,) = await trade.items(mine["order_id"])
    assert await order_queries.redeem(trade.tctx, first["app_id"], v["code"]) == unit.item_order_id
    assert [i.status for i in await trade.items(mine["order_id"])] == [3]


async def test_cli_verify_says_redeemed_or_refunded_and_when(trade: TradeWorld, db_url: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18 item 11: an already redeemed code and a refunded code both said "not in a redeemable state". Each
    says which, and when (Beijing time)."""
    from paybutton.fulfillment.not_redeemable import beijing

    order = await trade.paid_order(quantity=2)
    used, gone = (await vouchers(trade, order["order_id"]))["vouchers"]
    refund = await trade.http.post(f"{trade.url}{BUYER}/orders/{order['order_id']}/refunds",
                                   headers=trade.auth("buyer"),
                                   json={"item_order_list": [{"item_order_id": gone["item_order_id"]}]})
    assert refund.status_code == 200, refund.text
    await trade.drive()
    runner = CliRunner()
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    assert (await asyncio.to_thread(runner.invoke, cli, ["verify", used["code"], "--database", db_url])).exit_code == 0
    items = {i.item_order_id: i for i in await trade.items(order["order_id"])}
    assert items[gone["item_order_id"]].status == 102
    redeemed_at = beijing(items[used["item_order_id"]].verified_at)
    twice = await asyncio.to_thread(runner.invoke, cli, ["verify", used["code"], "--database", db_url])
    assert twice.exit_code == 2
    assert twice.stderr.strip() == (f"error 2191004: the voucher is not in a redeemable state: code {used['code']} "
                                    f"was already redeemed on {redeemed_at} (Beijing time)")
    refunded = await asyncio.to_thread(runner.invoke, cli, ["verify", gone["code"], "--database", db_url])
    assert refunded.exit_code == 2
    assert f"code {gone['code']} was refunded on 20" in refunded.stderr and "(Beijing time)" in refunded.stderr
