"""Goods library OpenAPI (/api/apps/trade/v2/goods/...) on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from paybutton.apps import service as app_service

BASE = "/api/apps/trade/v2/goods"
BAD_PARAM = 2100005
TOKEN_INVALID = 2190002


class Merchant:
    def __init__(self, running: Any, app: dict[str, Any], token: str) -> None:
        self.running = running
        self.app = app
        self.token = token

    async def post(self, route: str, body: Any, **headers: str) -> dict[str, Any]:
        r = await self.running.client.post(
            f"{BASE}/{route}", json=body, headers={"access-token": self.token, **headers}
        )
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        return out


async def merchant(running: Any, name: str = "Shop") -> Merchant:
    async with running.ctx.db.tx() as conn:
        app = await app_service.create_app(conn, running.ctx.clock, name=name)
    r = await running.client.post(
        "/oauth/client_token/",
        json={"grant_type": "client_credential", "client_key": app["app_id"], "client_secret": app["secret"]},
    )
    return Merchant(running, app, r.json()["data"]["access_token"])


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert body["extra"]["error_code"] == 0, body
    data: dict[str, Any] = body["data"]
    return data


def refused(body: dict[str, Any], code: int = BAD_PARAM) -> str:
    assert body["extra"]["error_code"] == code, body
    text: str = body["extra"]["description"]
    return text


GOOD = {
    "goods_id": "spu_1001",
    "name": "循礼门M+丨【释集烤肉】99元套餐",
    "photo_url": "https://p11.douyinpic.com/img/a.jpeg",
    "price": 9900,
    "stock": 10,
    "labels": [{"type": "EXPIRED_RETURNS"}, {"type": "BOOK_IN_ADVANCE", "value": 2}],
    "min_limits": 1,
    "max_limits": 2,
    "phone_required": True,
}


async def test_create_query_update_list(running: Any) -> None:
    m = await merchant(running)
    g = ok(await m.post("create", GOOD))["goods"]
    assert g["goods_id"] == "spu_1001" and g["price"] == 9900 and g["stock"] == 10
    assert g["labels"] == GOOD["labels"]
    assert g["label_texts"] == ["过期退", "提前2日预约"]
    assert g["state"] == "on_sale" and g["date_rule"] == "周一至周日可用" and g["biz_line"] == 1
    assert ok(await m.post("query", {"goods_id": "spu_1001"}))["goods"] == g

    change = {"goods_id": "spu_1001", "price": 8800, "labels": [], "max_limits": 5}
    u = ok(await m.post("update", change))["goods"]
    assert (u["price"], u["labels"], u["max_limits"], u["name"], u["stock"]) == (8800, [], 5, g["name"], 10)
    off = ok(await m.post("update", {"goods_id": "spu_1001", "on_shelf": False}))["goods"]
    assert off["state"] == "off_shelf" and off["price"] == 8800
    far = 4_000_000_000_000
    up = ok(await m.post("update", {"goods_id": "spu_1001", "on_shelf": True, "sale_start": far}))["goods"]
    assert up["state"] == "upcoming"
    cleared = ok(await m.post("update", {"goods_id": "spu_1001", "sale_start": None, "stock": 0}))["goods"]
    assert cleared["sale_start"] is None and cleared["state"] == "sold_out"
    ended = ok(await m.post("update", {"goods_id": "spu_1001", "stock": 3, "sale_end": 1000}))["goods"]
    assert ended["state"] == "ended"

    for i in range(5):
        ok(await m.post("create", {**GOOD, "goods_id": f"g{i}", "name": f"套餐{i}", "on_shelf": i % 2 == 0}))
    page = ok(await m.post("list", {"limit": 4}))
    assert page["total"] == 6 and page["has_more"] is True and len(page["goods_list"]) == 4
    ids = [x["goods_id"] for x in page["goods_list"]]
    rest = ok(await m.post("list", {"limit": 4, "cursor": page["next_cursor"]}))
    assert rest["has_more"] is False and rest["next_cursor"] is None
    ids += [x["goods_id"] for x in rest["goods_list"]]
    assert ids == sorted(ids) and len(set(ids)) == 6
    by_offset = ok(await m.post("list", {"limit": 4, "offset": 4}))
    assert [x["goods_id"] for x in by_offset["goods_list"]] == ids[4:]
    shelf = ok(await m.post("list", {"on_shelf": False}))
    assert sorted(x["goods_id"] for x in shelf["goods_list"]) == ["g1", "g3"] and shelf["total"] == 2
    found = ok(await m.post("list", {"search": "烤肉"}))
    assert [x["goods_id"] for x in found["goods_list"]] == ["spu_1001"]
    assert ok(await m.post("list", {"search": "%"}))["total"] == 0


async def test_trailing_slash_and_openapi(running: Any) -> None:
    m = await merchant(running)
    r = await running.client.post(f"{BASE}/create/", json=GOOD, headers={"access-token": m.token})
    assert r.json()["data"]["goods"]["goods_id"] == "spu_1001"
    paths = (await running.client.get("/openapi.json")).json()["paths"]
    for route in ("create", "update", "query", "list"):
        assert f"{BASE}/{route}" in paths


BAD_LABELS = [
    ([{"type": "REFUND_ANYTIME"}, {"type": "REFUNDABLE_DAYS", "value": 3}], "mutually exclusive"),
    ([{"type": "RESERVATION_FREE"}, {"type": "BOOK_IN_ADVANCE", "value": 3}], "mutually exclusive"),
    ([{"type": "NON_REFUNDABLE"}, {"type": "REFUNDABLE_DAYS", "value": 3}], "mutually exclusive"),
    ([{"type": "REFUND_ANYTIME"}, {"type": "NON_REFUNDABLE"}], "mutually exclusive"),
    ([{"type": t} for t in ("EXPIRED_RETURNS", "REFUND_ANYTIME", "RESERVATION_FREE", "NON_REFUNDABLE")],
     "at most 3"),
    ([{"type": "REFUNDABLE_DAYS"}], "requires value"),
    ([{"type": "BOOK_IN_ADVANCE", "value": "2"}], "integer in 1..99999"),
    ([{"type": "BOOK_IN_ADVANCE", "value": 0}], "integer in 1..99999"),
    ([{"type": "NOPE"}], "is not one of"),
    ([{"type": "EXPIRED_RETURNS"}, {"type": "EXPIRED_RETURNS"}], "duplicate"),
    ("EXPIRED_RETURNS", "must be a list"),
    ([7], "must be an object"),
]


@pytest.mark.parametrize(("labels", "rule"), BAD_LABELS)
async def test_label_rules_refused(running: Any, labels: Any, rule: str) -> None:
    m = await merchant(running)
    text = refused(await m.post("create", {**GOOD, "labels": labels}))
    assert "标签" in text and rule in text
    ok(await m.post("create", GOOD))
    assert rule in refused(await m.post("update", {"goods_id": "spu_1001", "labels": labels}))
    assert ok(await m.post("query", {"goods_id": "spu_1001"}))["goods"]["labels"] == GOOD["labels"]


BAD_LIMITS = [
    ({"min_limits": 0}, "min_limits must be in 1..99999"),
    ({"max_limits": 100000}, "max_limits must be in 1..99999"),
    ({"min_limits": "1"}, "min_limits must be an integer"),
    ({"max_limits": 2.5}, "max_limits must be an integer"),
    ({"min_limits": True}, "min_limits must be an integer"),
    ({"min_limits": 3, "max_limits": 2}, "must not exceed max_limits"),
]


@pytest.mark.parametrize(("fields", "rule"), BAD_LIMITS)
async def test_limit_rules_refused(running: Any, fields: dict[str, Any], rule: str) -> None:
    m = await merchant(running)
    assert rule in refused(await m.post("create", {**GOOD, **fields}))
    ok(await m.post("create", GOOD))  # max_limits 2
    # the merged record is checked: min_limits 3 alone breaks the stored max_limits 2
    assert "must not exceed" in refused(await m.post("update", {"goods_id": "spu_1001", "min_limits": 3}))


BAD_FIELDS = [
    ({"price": "9900"}, "price"),
    ({"price": -1}, "price"),
    ({"price": 99.5}, "price"),
    ({"stock": "10"}, "stock"),
    ({"stock": -1}, "stock"),
    ({"goods_id": "商品"}, "goods_id"),
    ({"goods_id": "x" * 65}, "goods_id"),
    ({"name": ""}, "name"),
    ({"photo_url": "ftp://x/y.png"}, "photo_url"),
    ({"sale_start": 2000, "sale_end": 1000}, "sale_start"),
    ({"biz_line": 3}, "biz_line"),
    ({"valid_days": 0}, "valid_days"),
    ({"phone_required": "yes"}, "phone_required"),
]


@pytest.mark.parametrize(("fields", "field"), BAD_FIELDS)
async def test_bad_fields_refused(running: Any, fields: dict[str, Any], field: str) -> None:
    m = await merchant(running)
    assert field in refused(await m.post("create", {**GOOD, **fields}))
    assert ok(await m.post("list", {}))["total"] == 0


async def test_missing_fields_and_bad_json(running: Any) -> None:
    m = await merchant(running)
    assert "price" in refused(await m.post("create", {"goods_id": "a", "name": "n", "stock": 1}))
    r = await running.client.post(
        f"{BASE}/create",
        content=b"{not json",
        headers={"access-token": m.token, "content-type": "application/json"},
    )
    refused(r.json())
    assert "limit" in refused(await m.post("list", {"limit": 0}))


async def test_exists_and_not_found(running: Any) -> None:
    m = await merchant(running)
    ok(await m.post("create", GOOD))
    assert "已存在" in refused(await m.post("create", GOOD), BAD_PARAM)
    assert refused(await m.post("query", {"goods_id": "nope"}), 2191003)
    assert refused(await m.post("update", {"goods_id": "nope", "price": 1}), 2191003)


async def test_token_required(running: Any) -> None:
    m = await merchant(running)
    for headers in ({}, {"access-token": "clt.forged"}):
        for route, body in (("create", GOOD), ("update", {"goods_id": "x"}), ("query", {"goods_id": "x"}),
                            ("list", {})):
            r = await running.client.post(f"{BASE}/{route}", json=body, headers=headers)
            refused(r.json(), TOKEN_INVALID)
    assert ok(await m.post("list", {}))["total"] == 0


async def test_apps_are_isolated(running: Any) -> None:
    a = await merchant(running, "A")
    b = await merchant(running, "B")
    ok(await a.post("create", GOOD))
    assert refused(await b.post("query", {"goods_id": "spu_1001"}), 2191003)
    assert refused(await b.post("update", {"goods_id": "spu_1001", "price": 1}), 2191003)
    assert ok(await b.post("list", {}))["total"] == 0
    # the same goods_id is free in another app
    mine = ok(await b.post("create", {**GOOD, "price": 1}))["goods"]
    assert mine["app_id"] == b.app["app_id"]
    assert ok(await a.post("query", {"goods_id": "spu_1001"}))["goods"]["price"] == 9900


async def test_idempotency_key(running: Any) -> None:
    m = await merchant(running)
    first = await m.post("create", GOOD, **{"Idempotency-Key": "k1"})
    again = await m.post("create", GOOD, **{"Idempotency-Key": "k1"})
    assert again == first and ok(first)["goods"]["goods_id"] == "spu_1001"
    text = refused(await m.post("create", {**GOOD, "price": 1}, **{"Idempotency-Key": "k1"}))
    assert "Idempotency-Key" in text
    assert ok(await m.post("query", {"goods_id": "spu_1001"}))["goods"]["price"] == 9900
    upd = {"goods_id": "spu_1001", "stock_delta": -3}
    u1 = await m.post("update", upd, **{"Idempotency-Key": "k2"})
    u2 = await m.post("update", upd, **{"Idempotency-Key": "k2"})
    assert u1 == u2 and ok(u1)["goods"]["stock"] == 7
    assert ok(await m.post("query", {"goods_id": "spu_1001"}))["goods"]["stock"] == 7
    # a refused write stores nothing under its key: the same key may be used again
    drain = {"goods_id": "spu_1001", "stock_delta": -100}
    assert "below 0" in refused(await m.post("update", drain, **{"Idempotency-Key": "k3"}))
    assert "below 0" in refused(await m.post("update", drain, **{"Idempotency-Key": "k3"}))


async def test_stock_delta(running: Any) -> None:
    m = await merchant(running)
    ok(await m.post("create", GOOD))
    assert ok(await m.post("update", {"goods_id": "spu_1001", "stock_delta": 5}))["goods"]["stock"] == 15
    assert ok(await m.post("update", {"goods_id": "spu_1001", "stock_delta": -15}))["goods"]["stock"] == 0
    text = refused(await m.post("update", {"goods_id": "spu_1001", "stock_delta": -1}))
    assert "below 0" in text
    assert ok(await m.post("query", {"goods_id": "spu_1001"}))["goods"]["stock"] == 0
    both = await m.post("update", {"goods_id": "spu_1001", "stock": 4, "stock_delta": 1})
    assert "not both" in refused(both) or "together" in refused(both)
    assert "stock_delta" in refused(await m.post("update", {"goods_id": "spu_1001", "stock_delta": "1"}))


async def test_public_goods_info(running: Any) -> None:
    from paybutton.goods import service

    m = await merchant(running)
    ok(await m.post("create", {**GOOD, "biz_line": 2, "sale_end": 4_000_000_000_000}))
    async with running.ctx.db.engine.connect() as conn:
        info = await service.public_goods_info(conn, running.ctx.clock, m.app["app_id"], "spu_1001")
    assert info == {
        "goodsId": "spu_1001", "goodsType": 1, "goodsName": GOOD["name"], "goodsPhoto": GOOD["photo_url"],
        "currentPrice": 9900, "goodsLabels": GOOD["labels"], "minLimits": 1, "maxLimits": 2,
        "dateRule": "周一至周日可用", "validation": {"phoneNumber": {"required": True}}, "stock": 10,
        "saleStart": None, "saleEnd": 4_000_000_000_000, "state": "on_sale", "bizLine": 2,
    }


async def test_concurrent_stock_deltas_never_go_below_zero(running: Any) -> None:
    import asyncio

    m = await merchant(running)
    ok(await m.post("create", {**GOOD, "stock": 5}))
    answers = await asyncio.gather(
        *(m.post("update", {"goods_id": "spu_1001", "stock_delta": -1}) for _ in range(8))
    )
    assert sum(1 for a in answers if a["extra"]["error_code"] == 0) == 5
    assert ok(await m.post("query", {"goods_id": "spu_1001"}))["goods"]["stock"] == 0


@pytest.mark.parametrize("price", [0, -1])
async def test_a_price_below_one_fen_is_refused_with_the_floor_rule(running: Any, price: int) -> None:
    """Issue 18 item 7: price 0 sold as a paid ¥0.00 order. The floor is the goods rule's, on create and update."""
    m = await merchant(running)
    floor = "price must be at least ¥0.01 (1 fen): a good cannot be free or negative"
    assert floor in refused(await m.post("create", {**GOOD, "price": price}))
    assert ok(await m.post("list", {}))["total"] == 0
    ok(await m.post("create", GOOD))
    assert floor in refused(await m.post("update", {"goods_id": "spu_1001", "price": price}))
    assert ok(await m.post("query", {"goods_id": "spu_1001"}))["goods"]["price"] == 9900
    ok(await m.post("update", {"goods_id": "spu_1001", "price": 1}))  # 1 fen is the lowest price
