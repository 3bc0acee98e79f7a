"""The fulfilment tools over real HTTP on SQLite and PostgreSQL, on the SDK's paths: the buyer's certificates,
order_can_use, query_certificate_info, verify_local_certificates, change_lock_status (a locked certificate neither
redeems nor refunds; locking a redeemed one is refused and changes nothing) and push_service_done."""

from __future__ import annotations

from typing import Any

from trade_world import TradeWorld

BUYER = "/api/buyer/v1"
DOUYIN = "/api/trade/v2/fulfillment"


def sub(env: dict[str, Any]) -> int:
    return int(env["extra"]["sub_error_code"])


async def units(trade: TradeWorld, order_id: str) -> list[tuple[int, int, int | None]]:
    return [(i.status, i.locked, i.service_done_at) for i in await trade.items(order_id)]


async def test_lock_blocks_redeem_and_refund(trade: TradeWorld) -> None:
    order = await trade.paid_order(quantity=2)
    a, b = await trade.items(order["order_id"])
    lock = await trade.api("toolkit/change_lock_status", {"certificate_id": a.certificate_id, "lock_status": 1})
    assert lock["data"] == {"certificate_id": a.certificate_id, "lock_status": 1, "error_code": 0, "description": ""}
    info = (await trade.api("toolkit/query_certificate_info", {"code": a.voucher_code}))["data"]["certificate"]
    assert info["lock_status"] == 1 and info["can_use"] is False and info["item_order_id"] == a.item_order_id
    v = await trade.api("toolkit/verify_local_certificates", {"certificates": [{"certificate_id": a.certificate_id}]})
    assert v["data"]["verify_results"][0]["result_code"] == 21001
    assert "锁定" in v["data"]["verify_results"][0]["result_msg"]
    refund = await trade.http.post(f"{trade.url}{BUYER}/orders/{order['order_id']}/refunds",
                                   headers=trade.auth("buyer"),
                                   json={"item_order_list": [{"item_order_id": a.item_order_id}]})
    assert refund.status_code == 409 and refund.json()["error"] == "CERTIFICATE_LOCKED", refund.text
    prep = (await trade.api("fulfillment/delivery_prepare", {"code": a.voucher_code}))["data"]
    assert [c["item_order_id"] for c in prep["certificates"]] == [b.item_order_id]  # the locked one is not offered
    assert await units(trade, order["order_id"]) == [(2, 1, None), (2, 0, None)]
    unlock = await trade.api("toolkit/change_lock_status", {"certificate_id": a.certificate_id, "lock_status": 0})
    assert unlock["data"]["lock_status"] == 0
    v = await trade.api("toolkit/verify_local_certificates", {"certificates": [{"certificate_id": a.certificate_id}]})
    assert v["data"]["verify_results"][0]["result_code"] == 0
    before = await units(trade, order["order_id"])
    refused = await trade.api("toolkit/change_lock_status", {"certificate_id": a.certificate_id, "lock_status": 1})
    unknown = await trade.api("toolkit/change_lock_status", {"certificate_id": "ct-none", "lock_status": 1})
    not_done = await trade.api("toolkit/push_service_done", {"order_id": order["order_id"],
                                                            "item_order_id_list": [b.item_order_id]})
    no_order = await trade.api("toolkit/push_service_done", {"order_id": "ot-none"})
    assert [sub(refused), sub(unknown), sub(not_done), sub(no_order)] == [21003, 20000, 21004, 20000]
    assert await units(trade, order["order_id"]) == before  # the refusals changed nothing
    done = await trade.api("toolkit/push_service_done", {"order_id": order["order_id"]})
    assert done["data"]["item_order_id_list"] == [a.item_order_id]
    (status, locked, done_at), _ = await units(trade, order["order_id"])
    assert (status, locked) == (3, 0) and done_at == trade.clock.now_ms()


async def test_user_certificates_and_order_can_use(trade: TradeWorld) -> None:
    one = await trade.paid_order(quantity=1)
    two = await trade.paid_order(quantity=2)
    await trade.paid_order(open_id="someone-else")
    (x,) = await trade.items(one["order_id"])
    v = await trade.api("toolkit/verify_local_certificates", {"certificates": [{"certificate_id": x.certificate_id}]})
    assert v["data"]["verify_results"][0]["result_code"] == 0
    page = (await trade.api_at(f"{DOUYIN}/query_user_certificates/", {"open_id": "buyer", "account_id": "a",
                                                                      "page": 1, "page_size": 10}))["data"]
    assert page["total"] == 1 and [o["order_id"] for o in page["orders"]] == [two["order_id"]]
    (o,) = page["orders"]
    assert o["can_use"] and len(o["certificates"]) == 2
    cert = o["certificates"][0]
    assert cert["amount"]["pay_amount"] == 1000 and cert["sku_info"]["sku_id"] == "g" and cert["certificate_id"]
    used = (await trade.api_at(f"{DOUYIN}/order_can_use", {"order_id": one["order_id"]}))["data"]
    assert used == {"order_id": one["order_id"], "can_use": False, "certificates": [], "error_code": 0,
                    "description": ""}
    assert sub(await trade.api_at(f"{DOUYIN}/order_can_use", {"order_id": "ot-none"})) == 20000
    assert sub(await trade.api("toolkit/query_certificate_info", {})) == 20000
