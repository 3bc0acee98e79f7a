"""The edge (kernel/guard.py, paybutton/inputs.py): inputs that once gave HTTP 500 get a 4xx in the route's own
envelope, on SQLite and PostgreSQL, and nothing is written. Body size, Content-Type, 405, unknown paths."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from sqlalchemy import func, select

from paybutton import buyer_token
from paybutton.apps import service as app_service
from paybutton.goods import service as goods_service
from paybutton.tables import metadata

GOODS = "/api/apps/trade/v2/goods"
ORDERS = "/api/buyer/v1/orders"
BAD_PARAM = 2100005


async def counts(running: Any) -> dict[str, int]:
    """Rows in every table: the proof that a refused request wrote nothing."""
    out = {}
    async with running.ctx.db.engine.connect() as conn:
        for t in metadata.sorted_tables:
            out[t.name] = int((await conn.execute(select(func.count()).select_from(t))).scalar_one())
    return out


class World:
    def __init__(self, running: Any, app: dict[str, Any], token: str) -> None:
        self.running = running
        self.app = app
        self.token = token
        self.client = running.client

    async def openapi(self, route: str, raw: bytes, **headers: str) -> dict[str, Any]:
        r = await self.client.post(route, content=raw, headers={
            "access-token": self.token, "content-type": "application/json", **headers})
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        assert body["extra"]["error_code"] == BAD_PARAM, body
        return body

    def buyer(self, open_id: str = "u1") -> dict[str, str]:
        return {"Authorization": "Bearer " + buyer_token.mint(self.app["app_id"], self.app["secret"], open_id)}


async def world(running: Any) -> World:
    async with running.ctx.db.tx() as conn:
        app = await app_service.create_app(conn, running.ctx.clock, name="Edge")
        await goods_service.create_goods(conn, running.ctx.clock, app_id=app["app_id"], goods_id="g1",
                                         name="Tea", price=100, stock=5)
    r = await running.client.post("/oauth/client_token/", json={
        "grant_type": "client_credential", "client_key": app["app_id"], "client_secret": app["secret"]})
    return World(running, app, r.json()["data"]["access_token"])


def raw(obj: Any) -> bytes:
    """JSON with \\uXXXX escapes: the only way a lone surrogate travels."""
    return json.dumps(obj).encode()


def signed(app: dict[str, Any], payload_text: str) -> str:
    """A genuinely signed buyer token around any payload text."""
    def b64(b: bytes) -> str:
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    payload = b64(payload_text.encode())
    mac = hmac.new(app["secret"].encode(), f"pbt1.{payload}".encode(), hashlib.sha256).digest()
    return f"pbt1.{payload}.{b64(mac)}"


async def test_nul_surrogate_and_control_characters_are_refused_in_the_openapi_envelope(running: Any) -> None:
    w = await world(running)
    before = await counts(running)
    good = {"goods_id": "g2", "price": 100, "stock": 1}
    for name in ("a\u0000b", "\ud800", "a\u0007b", "tab\there"):
        body = await w.openapi(f"{GOODS}/create", raw({**good, "name": name}))
        assert "name" in body["extra"]["description"], body
    await w.openapi(f"{GOODS}/create", raw({**good, "goods_id": "g\u0000", "name": "ok"}))
    await w.openapi(f"{GOODS}/update", raw({"goods_id": "g1", "name": "x\u0000"}))
    await w.openapi("/api/apps/trade/v2/order/close_order", raw({"order_id": "a\u0000"}))
    await w.openapi("/api/apps/trade/v2/order/query_order", raw({"order_id": "\udfff"}))
    await w.openapi("/api/apps/trade/v2/order/query_order", raw({"order_id": "o" * 33}))
    # a key too, and a surrogate that arrives as raw (CESU-8) bytes rather than as an escape
    await w.openapi(f"{GOODS}/query", raw({"goods_id": "g1", "\u0000": 1}))
    await w.openapi(f"{GOODS}/query", b'{"goods_id": "g\xed\xa0\x80"}')
    # Idempotency-Key is stored: a NUL in it is refused too
    r = await w.client.post(f"{GOODS}/create", json={**good, "name": "ok"},
                            headers={"access-token": w.token, "Idempotency-Key": "k\x00"})
    assert r.json()["extra"]["error_code"] == BAD_PARAM
    assert await counts(running) == before
    # what is valid still works
    ok = await w.client.post(f"{GOODS}/create", json={**good, "name": "新品\u00b7茶"},
                             headers={"access-token": w.token})
    assert ok.json()["extra"]["error_code"] == 0, ok.text


async def test_integers_out_of_range_are_refused(running: Any) -> None:
    w = await world(running)
    before = await counts(running)
    for offset in (2**63, 2**63 - 1, -(2**63) - 1, 10**30, 1_000_001):
        body = await w.openapi(f"{GOODS}/list", raw({"offset": offset}))
        assert "offset" in body["extra"]["description"]
    await w.openapi(f"{GOODS}/create", raw({"goods_id": "g3", "name": "n", "price": 2**63, "stock": 1}))
    await w.openapi(f"{GOODS}/update", raw({"goods_id": "g1", "stock_delta": -(2**64)}))
    await w.openapi("/api/apps/trade/v2/callbacks/query", raw({"callback_id": 2**64}))
    await w.openapi(f"{GOODS}/list", b'{"limit": 1e400}')
    await w.openapi(f"{GOODS}/list", b'{"limit": NaN}')
    await w.openapi("/api/apps/trade/v2/callbacks/test", raw({"wait_seconds": False}))
    await w.openapi(f"{GOODS}/list", b"[" * 100_000 + b"]" * 100_000)
    assert await counts(running) == before
    page = await w.client.post(f"{GOODS}/list", json={"offset": 1_000_000}, headers={"access-token": w.token})
    assert page.json()["extra"]["error_code"] == 0 and page.json()["data"]["goods_list"] == []


async def test_buyer_api_refuses_bad_text_with_its_own_status(running: Any) -> None:
    w = await world(running)
    before = await counts(running)
    order = {"goods_id": "g1", "goods_type": 1, "quantity": 1}
    for contact in ("a\u0000b", "\ud800", "Zh\u0008ang"):
        r = await w.client.post(ORDERS, content=raw({**order, "contact_name": contact}),
                                headers={**w.buyer(), "content-type": "application/json"})
        assert r.status_code == 400 and r.json()["error"] == "INVALID_PARAMETER", r.text
        assert "contact_name" in r.json()["errMsg"]
    r = await w.client.post(ORDERS, content=raw({**order, "quantity": 2**70}),
                            headers={**w.buyer(), "content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "INVALID_PARAMETER"
    # the path and the query string are checked as well
    r = await w.client.get(f"{ORDERS}/a%00b", headers=w.buyer())
    assert r.status_code == 400 and r.json()["error"] == "INVALID_PARAMETER"
    r = await w.client.get("/api/buyer/v1/goods/g1", params={"app_id": "tt\u0000"})
    assert r.status_code == 400 and r.json()["error"] == "INVALID_PARAMETER"
    r = await w.client.post("/api/buyer/v1/marketing/offers", content=raw({**order, "goods_id": "\udc00"}),
                            headers={**w.buyer(), "content-type": "application/json"})
    assert r.status_code == 400 and r.json()["errNo"] == BAD_PARAM
    assert await counts(running) == before


async def test_malformed_but_signed_buyer_tokens_answer_401(running: Any) -> None:
    w = await world(running)
    before = await counts(running)
    app_id = w.app["app_id"]
    payloads = [f'{{"app":"{app_id}","sub":"u1","exp":{exp}}}' for exp in ('"soon"', "[1]", "1e400", "true",
                                                                         "99999999999999999999999", "null")]
    payloads += [
        json.dumps({"app": app_id, "sub": "u" * 129, "exp": 4_000_000_000}),
        json.dumps({"app": app_id, "sub": "u" * 100_000, "exp": 4_000_000_000}),
        json.dumps({"app": app_id, "sub": "a\u0000", "exp": 4_000_000_000}),
        json.dumps({"app": app_id, "sub": "", "exp": 4_000_000_000}),
        json.dumps({"app": app_id, "sub": 5, "exp": 4_000_000_000}),
        json.dumps([app_id]),
        "[" * 50_000,
    ]
    for p in payloads:
        auth = {"Authorization": "Bearer " + signed(w.app, p)}
        r = await w.client.post(ORDERS, json={"goods_id": "g1", "goods_type": 1}, headers=auth)
        assert r.status_code == 401 and r.json()["error"] == "BUYER_TOKEN_INVALID", (p[:80], r.text)
        r = await w.client.get(f"{ORDERS}/x", headers=auth)
        assert r.status_code == 401 and r.json()["error"] == "BUYER_TOKEN_INVALID", (p[:80], r.text)
    assert await counts(running) == before
    # the longest open_id the column holds is fine
    good = signed(w.app, json.dumps({"app": app_id, "sub": "u" * 128, "exp": 4_000_000_000}))
    r = await w.client.get(f"{ORDERS}/x", headers={"Authorization": "Bearer " + good})
    assert r.status_code == 404 and r.json()["error"] == "ORDER_NOT_FOUND"


async def test_bodies_over_the_limit_get_413_before_authentication(running: Any) -> None:
    w = await world(running)
    before = await counts(running)
    big = b'{"x": "' + b"a" * (1024 * 1024) + b'"}'
    for route in ("/oauth/client_token/", f"{GOODS}/create"):  # no token sent: the size is checked first
        r = await w.client.post(route, content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413 and r.json()["extra"]["error_code"] == BAD_PARAM, r.text
    r = await w.client.post("/api/buyer/v1/marketing/offers", content=b"x" * (10 * 1024 * 1024),
                            headers={**w.buyer(), "content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "BODY_TOO_LARGE"

    async def chunks() -> Any:  # no Content-Length: refused while streaming
        for _ in range(40):
            yield b" " * 65536

    r = await w.client.post(f"{GOODS}/list", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["extra"]["error_code"] == BAD_PARAM
    # order placement keeps its own 256 KB
    r = await w.client.post(ORDERS, content=b" " * (300 * 1024),
                            headers={**w.buyer(), "content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "BODY_TOO_LARGE"
    r = await w.client.post("/console/login", content=b"a=" + b"b" * (2 * 1024 * 1024),
                            headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413 and "<h1>413</h1>" in r.text
    assert await counts(running) == before


async def test_json_routes_need_a_json_content_type(running: Any) -> None:
    w = await world(running)
    before = await counts(running)
    order = json.dumps({"goods_id": "g1", "goods_type": 1}).encode()
    kinds = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
             "application/xml", "text/xml", ""]
    for ctype in kinds:
        for path in (ORDERS, ORDERS + "/"):
            r = await w.client.post(path, content=order, headers={**w.buyer(), "content-type": ctype})
            assert r.status_code == 415 and r.json()["error"] == "UNSUPPORTED_MEDIA_TYPE", (ctype, r.text)
        r = await w.client.post(f"{GOODS}/create", content=b'{"goods_id":"g9","name":"n","price":1,"stock":1}',
                                headers={"access-token": w.token, "content-type": ctype})
        assert r.status_code == 415 and r.json()["extra"]["error_code"] == BAD_PARAM, (ctype, r.text)
    files = await w.client.post(ORDERS, files={"goods_id": (None, "g1")}, headers=w.buyer())
    assert files.status_code == 415
    assert await counts(running) == before
    ok = await w.client.post(f"{GOODS}/query", content=b'{"goods_id":"g1"}',
                             headers={"access-token": w.token, "content-type": "application/json; charset=utf-8"})
    assert ok.json()["extra"]["error_code"] == 0
    # a route without a body still takes none
    r = await w.client.post(f"{ORDERS}/nope/cashier", headers=w.buyer())
    assert r.status_code == 404


async def test_unknown_paths_methods_and_the_logid_header(running: Any) -> None:
    client = running.client
    for path in ("/api/trade/v2/nope", "/api/trade/", "/api/apps/trade/v2/nope", "/api/apps/x/"):
        r = await client.post(path, json={})
        assert r.status_code == 200 and r.json()["extra"]["error_code"] == BAD_PARAM, (path, r.text)
        assert r.json()["extra"]["sub_description"].startswith("no such route")
    r = await client.get("/api/buyer/v1/nope")
    assert r.status_code == 404 and r.json()["error"] == "NOT_FOUND"
    r = await client.get(f"{GOODS}/create")
    assert r.status_code == 405 and r.headers["allow"] == "POST" and r.json()["extra"]["error_code"] == BAD_PARAM
    r = await client.delete(f"{ORDERS}/x")
    assert r.status_code == 405 and r.headers["allow"] and r.json()["error"] == "METHOD_NOT_ALLOWED"
    r = await client.post(f"{GOODS}/create", json={})  # an error answer: one logid header
    assert len(r.headers.get_list("x-tt-logid")) == 1
    r = await client.get("/healthz")
    assert len(r.headers.get_list("x-tt-logid")) == 1


async def test_console_forms_get_a_400_page(running: Any) -> None:
    before = await counts(running)
    r = await running.client.post("/console/login", content=b"app_id=tt%00x&password=p",
                                  headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and "<h1>400</h1>" in r.text and r.headers["content-type"].startswith("text/html")
    r = await running.client.get("/console/goods", params={"q": "\u0000"})
    assert r.status_code == 400 and "<h1>400</h1>" in r.text
    assert await counts(running) == before
