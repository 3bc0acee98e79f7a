"""Douyin's documented fulfilment contract, over real HTTP on SQLite and PostgreSQL: `poi_info` as the JSON string
Douyin documents (and still as an object) with its 1024-byte bound, 撤销核销 on both paths, push_delivery refused
for Douyin-code orders, and the app's delivery_type from the CLI."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from trade_world import TradeWorld
from typer.testing import CliRunner

from paybutton.cli import cli

BUYER = "/api/buyer/v1"
POI = {"shop_name": "朝阳门店", "ext_valid_shop_id": "s1", "valid_poi_id_str": "7001"}


async def codes(w: TradeWorld, order_id: str) -> list[dict[str, Any]]:
    r = await w.http.get(f"{w.url}{BUYER}/orders/{order_id}/vouchers", headers=w.auth("buyer"))
    assert r.status_code == 200, r.text
    return list(r.json()["vouchers"])


def bad_poi_infos() -> list[tuple[Any, str]]:
    """(poi_info, what the description must say), each refused with INVALID_PARAMETER."""
    long_zh = json.dumps({"shop_name": "店" * 340}, ensure_ascii=False)  # 357 characters, 1037 UTF-8 bytes
    assert len(long_zh) < 1024 < len(long_zh.encode())
    return [
        (long_zh, "1037 bytes"),
        ("{shop_name: 1}", "not valid JSON"),
        ('["7001"]', "must be an object"),
        ('"7001"', "must be an object"),
        (json.dumps({"shop_name": 7001}), "shop_name must be a string"),
        ({"valid_poi_id_str": ["7001"]}, "valid_poi_id_str must be a string"),
        ({"shop_name": "x" * 1010}, "bytes as compact JSON"),
        (7001, "poi_info"),
    ]


def assert_invalid(env: dict[str, Any], says: str) -> None:
    assert env["extra"]["error_code"] == 2100005 and env["extra"]["sub_error_code"] == 10000, env
    assert says in env["extra"]["description"], env


async def test_delivery_verify_takes_poi_info_as_a_json_string_or_an_object(trade: TradeWorld) -> None:
    order = await trade.paid_order(quantity=3)
    units = await codes(trade, order["order_id"])
    prep = (await trade.api("fulfillment/delivery_prepare", {"code": units[0]["code"]}))["data"]

    def body(i: int, poi: Any) -> dict[str, Any]:
        return {"verify_token": prep["verify_token"], "order_id": order["order_id"], "poi_info": poi,
                "certificates": [{"encrypted_code": units[i]["code"], "certificate_id": units[i]["certificate_id"]}]}

    for poi, says in bad_poi_infos():
        assert_invalid(await trade.api("fulfillment/delivery_verify", body(0, poi)), says)
    assert [u["state"] for u in await codes(trade, order["order_id"])] == ["待使用"] * 3  # nothing was verified
    # as Douyin documents it: a JSON string (exactly 1024 bytes is still fine), with an unknown key ignored
    as_string = json.dumps({**POI, "extra_key": "kept out"}, ensure_ascii=False)
    exact = json.dumps({**POI, "shop_name": "x" * (1024 - len(json.dumps({**POI, "shop_name": ""},
                                                                          ensure_ascii=False).encode()))},
                       ensure_ascii=False)
    assert len(exact.encode()) == 1024
    for i, poi in enumerate([as_string, POI, exact]):
        env = await trade.api("fulfillment/delivery_verify", body(i, poi))
        assert env["extra"]["error_code"] == 0, env
        assert env["data"]["verify_results"][0]["result_code"] == 0
    assert [u["state"] for u in await codes(trade, order["order_id"])] == ["已核销"] * 3
    empty = await trade.paid_order()
    (unit,) = await codes(trade, empty["order_id"])
    prep = (await trade.api("fulfillment/delivery_prepare", {"code": unit["code"]}))["data"]
    env = await trade.api("fulfillment/delivery_verify", {
        "verify_token": prep["verify_token"], "order_id": empty["order_id"], "poi_info": "",
        "certificates": [{"encrypted_code": unit["code"], "certificate_id": unit["certificate_id"]}]})
    assert env["extra"]["error_code"] == 0  # "" is no poi_info, as null is


@pytest.mark.parametrize("delivery_type", [0])
async def test_push_delivery_takes_poi_info_as_a_json_string_or_an_object(trade: TradeWorld) -> None:
    order = await trade.paid_order(quantity=2)
    its = [i["item_order_id"] for i in order["item_orders"]]

    def body(i: int, poi: Any) -> dict[str, Any]:
        return {"out_order_no": order["out_order_no"], "item_order_list": [{"item_order_id": its[i]}],
                "poi_info": poi}

    for poi, says in bad_poi_infos():
        assert_invalid(await trade.api("fulfillment/push_delivery", body(0, poi)), says)
    assert [i.status for i in await trade.items(order["order_id"])] == [2, 2]
    env = await trade.api("fulfillment/push_delivery", body(0, json.dumps(POI, ensure_ascii=False)))
    assert env["extra"]["error_code"] == 0 and env["data"]["verify_results"][0]["item_order_id"] == its[0]
    env = await trade.api("fulfillment/push_delivery", body(1, POI))
    assert env["extra"]["error_code"] == 0 and env["data"]["verify_results"][0]["item_order_id"] == its[1]
    assert [i.status for i in await trade.items(order["order_id"])] == [3, 3]


async def test_push_delivery_is_refused_for_douyin_code_orders(trade: TradeWorld) -> None:
    order = await trade.paid_order(quantity=2)
    query = await trade.api("order/query_order", {"order_id": order["order_id"]})
    assert query["data"]["delivery_type"] == 1  # 抖音码, the default
    for body in ({"out_order_no": order["out_order_no"], "use_all": True},
                 {"out_order_no": order["out_order_no"], "poi_info": json.dumps(POI),
                  "item_order_list": [{"item_order_id": order["item_orders"][0]["item_order_id"]}]}):
        env = await trade.api("fulfillment/push_delivery", body)
        assert env["extra"]["error_code"] == 2191004 and env["extra"]["sub_error_code"] == 20001, env
        assert "delivery_type" in env["extra"]["description"]
    assert [i.status for i in await trade.items(order["order_id"])] == [2, 2]


async def test_verify_cancel_on_both_paths(trade: TradeWorld) -> None:
    order = await trade.paid_order(quantity=2)
    units = await codes(trade, order["order_id"])
    prep = (await trade.api("fulfillment/delivery_prepare", {"code": units[0]["code"]}))["data"]
    env = await trade.api("fulfillment/delivery_verify", {
        "verify_token": prep["verify_token"], "order_id": order["order_id"],
        "certificates": [{"encrypted_code": u["code"], "certificate_id": u["certificate_id"]} for u in units]})
    results = env["data"]["verify_results"]
    assert [r["result_code"] for r in results] == [0, 0]
    token = await trade.token()
    paths = ["/api/trade/v2/fulfillment/verify_cancel", "/api/apps/trade/v2/fulfillment/verify_cancel"]
    for path, r in zip(paths, results, strict=True):
        body = {"order_id": order["order_id"], "certificate_id": r["certificate_id"], "verify_id": r["verify_id"]}
        ok = await trade.http.post(trade.url + path, json=body, headers={"access-token": token})
        assert ok.status_code == 200 and ok.json()["extra"]["error_code"] == 0, ok.text
        again = await trade.http.post(trade.url + path, json=body, headers={"access-token": token})
        # an error on either path is the OpenAPI envelope (HTTP 200, codes in extra)
        assert again.status_code == 200 and again.json()["extra"]["error_code"] == 2191004, again.text
        no_token = await trade.http.post(trade.url + path, json=body)
        assert no_token.status_code == 200 and no_token.json()["extra"]["error_code"] != 0, no_token.text
    assert [u["state"] for u in await codes(trade, order["order_id"])] == ["待使用", "待使用"]
    unknown = await trade.http.post(f"{trade.url}/api/trade/v2/fulfillment/nothing_here", json={},
                                    headers={"access-token": token})
    assert unknown.status_code == 200 and unknown.json()["extra"]["sub_error_code"] == 10000, unknown.text
    doc = (await trade.http.get(f"{trade.url}/openapi.json")).json()
    assert {p for p in doc["paths"] if p.endswith("/fulfillment/verify_cancel")} == set(paths)
    ops = [doc["paths"][p]["post"] for p in paths]
    assert ops[0]["requestBody"] == ops[1]["requestBody"] and ops[0]["operationId"] != ops[1]["operationId"]


async def test_cli_sets_the_apps_delivery_type(trade: TradeWorld, db_url: str) -> None:
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(cli, [*args, "--database", db_url])

    out = await asyncio.to_thread(run, "app", "update", trade.app_id, "--delivery-type", "0", "--json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["delivery_type"] == 0
    bad = await asyncio.to_thread(run, "app", "update", trade.app_id, "--delivery-type", "2")
    assert bad.exit_code != 0 and "delivery_type" in bad.output
    shown = await asyncio.to_thread(run, "app", "show", trade.app_id)
    assert "delivery_type: 0" in shown.output
    made = await asyncio.to_thread(run, "app", "create", "--name", "三方码店", "--delivery-type", "0", "--json")
    assert made.exit_code == 0 and json.loads(made.output)["delivery_type"] == 0
