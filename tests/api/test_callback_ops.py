"""The callback operations API (/api/apps/trade/v2/callbacks/...): the log with its filters and pages, one
callback with its attempts, replaying a dead letter made dead by a closed port on a fake clock, app
isolation, and a signed test callback delivered to a real HTTP merchant through the outbox and dispatcher."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from merchant_stub import MerchantStub, independent_verify, refuse

from paybutton import buyer_token
from paybutton.app import create_app
from paybutton.apps import service as app_service
from paybutton.callbacks.dispatcher import dispatch_due
from paybutton.callbacks.schedules import SCHEDULES
from paybutton.clock import FakeClock
from paybutton.config import Settings
from paybutton.tables import goods

CB = "/api/apps/trade/v2/callbacks"
ROW_KEYS = {"id", "type", "order_id", "refund_id", "url", "status", "attempts", "max_attempts", "next_attempt_at",
            "last_http_status", "last_answer_head", "last_error", "created_at", "updated_at"}


class World:
    def __init__(self, app: Any, client: httpx.AsyncClient, clock: FakeClock) -> None:
        self.app = app
        self.client = client
        self.clock = clock
        self.ctx = app.state.ctx

    async def new_app(self, name: str, **urls: Any) -> dict[str, Any]:
        async with self.ctx.db.tx() as conn:
            a = await app_service.create_app(conn, self.clock, name=name, **urls)
        now = self.clock.now_ms()
        async with self.ctx.db.tx() as conn:
            await conn.execute(goods.insert().values(
                app_id=a["app_id"], goods_id="g", name="g", photo_url="", price=990, stock=100, sold=0, labels="[]",
                min_limits=1, max_limits=99, date_rule="", phone_required=False, biz_line=1, on_shelf=True,
                created_at=now, updated_at=now))
        return a

    async def token(self, a: dict[str, Any]) -> str:
        """A client token valid now (the fake clock walks through days of retries)."""
        if a.get("token_at", -1) < self.clock.now_ms() - 3600_000:
            r = await self.client.post("/oauth/client_token/", json={
                "grant_type": "client_credential", "client_key": a["app_id"], "client_secret": a["secret"]})
            a["token"], a["token_at"] = r.json()["data"]["access_token"], self.clock.now_ms()
        return str(a["token"])

    async def paid_order(self, a: dict[str, Any], open_id: str = "u1") -> str:
        """A real purchase through the buyer API: the payment notify lands in the outbox."""
        tok = buyer_token.mint(a["app_id"], a["secret"], open_id, now=self.clock.now_ms() / 1000)
        h = {"Authorization": f"Bearer {tok}"}
        o = await self.client.post("/api/buyer/v1/orders", headers=h,
                                   json={"goods_id": "g", "goods_type": 1, "quantity": 1})
        assert o.status_code == 200, o.text
        oid = str(o.json()["order_id"])
        paid = await self.client.post(f"/api/buyer/v1/orders/{oid}/pay", headers=h, json={"channel": "douyin"})
        assert paid.json()["outcome"] == "SUCCESS", paid.text
        return oid

    async def call(self, a: dict[str, Any], route: str, body: dict[str, Any], **headers: str) -> dict[str, Any]:
        r = await self.client.post(f"{CB}/{route}", json=body, headers={"access-token": await self.token(a), **headers})
        assert r.status_code == 200, r.text
        env: dict[str, Any] = r.json()
        assert env["extra"]["logid"]
        return env

    async def ok(self, a: dict[str, Any], route: str, body: dict[str, Any], **headers: str) -> dict[str, Any]:
        env = await self.call(a, route, body, **headers)
        assert env["extra"]["error_code"] == 0, env
        data: dict[str, Any] = env["data"]
        return data


@contextlib.asynccontextmanager
async def world(db_url: str, workers: bool = False) -> AsyncIterator[World]:
    clock = FakeClock()
    settings = Settings(database_url=db_url, run_workers=workers, callback_timeout_seconds=2,
                        dispatch_interval_seconds=0.05)
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            yield World(app, client, clock)


@pytest.fixture
async def w(db_url: str) -> AsyncIterator[World]:
    async with world(db_url) as got:
        yield got


def closed_url() -> tuple[int, str]:
    """A URL on a port nobody listens on (yet)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    return port, f"http://127.0.0.1:{port}/notify"


async def test_list_filters_and_pages(w: World) -> None:
    _, dead_end = closed_url()
    a = await w.new_app("A", payment_notify_url=dead_end, refund_url=dead_end)
    orders = [await w.paid_order(a, f"u{i}") for i in range(3)]
    test_id = (await w.ok(a, "test", {"kind": "refund"}))["callback_id"]

    everything = await w.ok(a, "list", {})
    rows = everything["callback_list"]
    assert [r["type"] for r in rows] == ["test", "payment", "payment", "payment"]
    assert rows[0]["id"] == test_id and everything["has_more"] is False and everything["next_cursor"] is None
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True)
    for r in rows:
        assert set(r) == ROW_KEYS
        assert (r["status"], r["attempts"], r["url"]) == ("PENDING", 0, dead_end)
        assert r["next_attempt_at"] == w.clock.now_ms()
        assert r["last_answer_head"] is None and r["last_http_status"] is None
    assert rows[0]["max_attempts"] == 1 and rows[1]["max_attempts"] == 1 + len(SCHEDULES["payment"])
    assert {r["order_id"] for r in rows[1:]} == set(orders)

    first = await w.ok(a, "list", {"limit": 3})
    assert first["has_more"] is True and len(first["callback_list"]) == 3
    second = await w.ok(a, "list", {"limit": 3, "cursor": first["next_cursor"]})
    assert second["has_more"] is False and second["next_cursor"] is None
    assert [r["id"] for r in first["callback_list"] + second["callback_list"]] == [r["id"] for r in rows]

    payments = await w.ok(a, "list", {"type": "payment"})
    assert len(payments["callback_list"]) == 3
    one = await w.ok(a, "list", {"order_id": orders[1]})
    assert [(r["type"], r["order_id"]) for r in one["callback_list"]] == [("payment", orders[1])]
    assert (await w.ok(a, "list", {"status": "DEAD"}))["callback_list"] == []
    assert len((await w.ok(a, "list", {"status": "PENDING", "type": "test"}))["callback_list"]) == 1

    # after one dispatch round every row has tried once and waits for its next step
    assert await dispatch_due(w.ctx, worker_id="w") == 4
    after = (await w.ok(a, "list", {}))["callback_list"]
    assert after[0]["status"] == "DEAD" and after[0]["next_attempt_at"] is None  # a test callback tries once
    for r in after[1:]:
        assert (r["status"], r["attempts"]) == ("PENDING", 1)
        assert r["next_attempt_at"] == w.clock.now_ms() + SCHEDULES["payment"][0] * 1000
        assert r["last_error"].startswith("CallbackUnreachable")
    assert len((await w.ok(a, "list", {"status": "DEAD"}))["callback_list"]) == 1

    for bad in ({"status": "LOST"}, {"limit": 0}, {"limit": 201}, {"cursor": "x"}, {"sort": "id"}):
        env = await w.call(a, "list", bad)
        assert (env["extra"]["error_code"], env["extra"]["sub_error_code"]) == (2100005, 10000), bad
    env = (await w.client.post(f"{CB}/list", json={})).json()
    assert env["extra"]["error_code"] == 2190002


async def test_dead_letter_shown_replayed_and_delivered(w: World, live_factory: Any) -> None:
    port, url = closed_url()
    a = await w.new_app("A", payment_notify_url=url)
    order_id = await w.paid_order(a)
    [row] = (await w.ok(a, "list", {"order_id": order_id}))["callback_list"]
    cid = row["id"]

    # the merchant's port is closed: walk the whole payment schedule on the fake clock
    tries = 0
    while True:
        assert await dispatch_due(w.ctx, worker_id="w") == 1
        tries += 1
        shown = (await w.ok(a, "query", {"callback_id": cid}))["callback"]
        if shown["status"] == "DEAD":
            break
        env = await w.call(a, "replay", {"callback_id": cid})
        assert env["extra"]["sub_error_code"] == 20001 and "PENDING" in env["extra"]["description"]
        w.clock.set(shown["next_attempt_at"])
    assert tries == 1 + len(SCHEDULES["payment"]) == shown["attempts"] == shown["max_attempts"]
    assert shown["next_attempt_at"] is None and shown["answer_data"] is None
    assert [t["attempt"] for t in shown["attempt_log"]] == list(range(1, tries + 1))
    assert not any(t["ok"] for t in shown["attempt_log"])
    assert all(t["http_status"] is None and t["error"].startswith("CallbackUnreachable") for t in shown["attempt_log"])
    assert shown["identify_name"] == "/order/payment_notify_url" and shown["schedule"] == "payment"
    msg = json.loads(json.loads(shown["body"])["msg"])
    assert (msg["order_id"], msg["status"], msg["total_amount"]) == (order_id, "SUCCESS", 990)
    w.clock.advance(30 * 86400)
    assert await dispatch_due(w.ctx, worker_id="w") == 0, "a dead letter is never sent by itself"

    # the merchant fixes its endpoint (same URL), then replays the dead letter
    stub = MerchantStub(public_pem=w.ctx.signer.public_pem)
    live_factory(stub.asgi(), port=port)
    replayed = (await w.ok(a, "replay", {"callback_id": cid}, **{"Idempotency-Key": "rp-1"}))["callback"]
    assert (replayed["status"], replayed["attempts"], replayed["next_attempt_at"]) == ("PENDING", 0, w.clock.now_ms())
    assert len(replayed["attempt_log"]) == tries, "the old attempts stay in the log"
    again = (await w.ok(a, "replay", {"callback_id": cid}, **{"Idempotency-Key": "rp-1"}))["callback"]
    assert again == replayed, "the same Idempotency-Key answers the stored result"
    assert await dispatch_due(w.ctx, worker_id="w2") == 1
    [rec] = stub.received
    assert rec.signature_ok and independent_verify(w.ctx.signer.public_pem, rec.headers, rec.raw)
    assert rec.raw == shown["body"].encode(), "the replay sends the stored bytes"
    done = (await w.ok(a, "query", {"callback_id": cid}))["callback"]
    assert (done["status"], done["attempts"], done["last_http_status"]) == ("DONE", 1, 200)
    assert done["attempt_log"][-1]["ok"] is True and done["attempt_log"][-1]["logid"] == rec.headers["byte-logid"]

    # a delivered callback is not replayed
    env = await w.call(a, "replay", {"callback_id": cid})
    assert (env["extra"]["error_code"], env["extra"]["sub_error_code"]) == (2100005, 20001)
    assert "DONE" in env["extra"]["description"] and "dead callback" in env["extra"]["sub_description"]
    assert (await w.ok(a, "query", {"callback_id": cid}))["callback"]["status"] == "DONE"
    assert await dispatch_due(w.ctx, worker_id="w2") == 0
    assert len(stub.received) == 1


async def test_another_apps_callbacks_are_not_found(w: World) -> None:
    _, url = closed_url()
    a = await w.new_app("A", payment_notify_url=url)
    b = await w.new_app("B", payment_notify_url=url)
    await w.paid_order(a)
    [row] = (await w.ok(a, "list", {}))["callback_list"]
    assert (await w.ok(b, "list", {}))["callback_list"] == []
    assert (await w.ok(b, "list", {"order_id": row["order_id"]}))["callback_list"] == []
    for route in ("query", "replay"):
        for cid in (row["id"], row["id"] + 1000):
            env = await w.call(b, route, {"callback_id": cid})
            assert (env["extra"]["error_code"], env["extra"]["sub_error_code"]) == (2100005, 10000)
            assert env["extra"]["sub_description"].startswith("no such callback")
    assert (await w.ok(a, "query", {"callback_id": row["id"]}))["callback"]["status"] == "PENDING"
    for bad in ({"callback_id": "one"}, {"callback_id": 2**70}, {"callback_id": 0}, {}):
        env = await w.call(a, "query", bad)
        assert (env["extra"]["error_code"], env["extra"]["sub_error_code"]) == (2100005, 10000), bad
    for bad in ({"cursor": 2**64}, {"limit": 2**64}):
        assert (await w.call(a, "list", bad))["extra"]["error_code"] == 2100005
        assert (await w.call(a, "attempts", bad))["extra"]["error_code"] == 2100005


async def test_test_callback_is_signed_and_delivered_through_the_outbox(w: World, live_factory: Any) -> None:
    stub = MerchantStub(public_pem=w.ctx.signer.public_pem)
    base = live_factory(stub.asgi()).url
    a = await w.new_app("A", payment_notify_url=f"{base}/pay", refund_url=f"{base}/refund",
                        pre_order_url=f"{base}/pre")
    queued = await w.ok(a, "test", {"kind": "payment"})
    cid = queued["callback_id"]
    assert (queued["callback"]["status"], queued["callback"]["type"]) == ("PENDING", "test")
    assert stub.received == [], "queued, not sent by the request itself"
    assert await dispatch_due(w.ctx, worker_id="w") == 1
    [rec] = stub.received
    assert rec.path == "/pay" and rec.signature_ok
    assert independent_verify(w.ctx.signer.public_pem, rec.headers, rec.raw)
    assert not independent_verify(w.ctx.signer.public_pem, rec.headers, rec.raw.replace(b"payment", b"refund"))
    assert rec.headers["byte-identifyname"] == "/tools/test_callback"
    assert rec.headers["byte-timestamp"] == str(w.clock.now_ms() // 1000)
    assert (rec.body["version"], rec.body["type"]) == ("2.0", "test")
    assert rec.msg["app_id"] == a["app_id"] and rec.msg["target"] == "payment" and rec.msg["url"] == f"{base}/pay"
    assert rec.msg["test_id"].startswith("tst") and rec.msg["event_time"] == w.clock.now_ms()
    done = (await w.ok(a, "query", {"callback_id": cid}))["callback"]
    assert (done["status"], done["attempts"], done["last_http_status"]) == ("DONE", 1, 200)
    [attempt] = done["attempt_log"]
    assert attempt["ok"] is True and attempt["logid"] == rec.headers["byte-logid"]

    # the refund URL, and a merchant that refuses: one attempt, no retries, the answer kept
    stub.answers["test"] = lambda rec: refuse(40001, "signature check failed")
    refused = (await w.ok(a, "test", {"kind": "refund"}))["callback_id"]
    assert await dispatch_due(w.ctx, worker_id="w") == 1
    assert stub.received[-1].path == "/refund"
    dead = (await w.ok(a, "query", {"callback_id": refused}))["callback"]
    assert (dead["status"], dead["attempts"]) == ("DEAD", 1)
    assert "signature check failed" in dead["last_answer_head"] and dead["last_error"].startswith("err_no 40001")
    w.clock.advance(86400)
    assert await dispatch_due(w.ctx, worker_id="w") == 0

    env = await w.call(a, "test", {"kind": "marketing"})
    assert (env["extra"]["error_code"], env["extra"]["sub_error_code"]) == (2100005, 10000)
    assert "marketing_url" in env["extra"]["description"]
    for bad in ({"kind": "settle"}, {"kind": "payment", "wait_seconds": 11}):
        assert (await w.call(a, "test", bad))["extra"]["error_code"] == 2100005
    assert len((await w.ok(a, "list", {"type": "test"}))["callback_list"]) == 2


async def test_test_callback_waits_for_the_running_dispatcher(db_url: str, live_factory: Any) -> None:
    async with world(db_url, workers=True) as ww:
        stub = MerchantStub(public_pem=ww.ctx.signer.public_pem)
        base = live_factory(stub.asgi()).url
        a = await ww.new_app("A", pre_order_url=f"{base}/pre")
        got = await ww.ok(a, "test", {"kind": "pre_create_order", "wait_seconds": 8})
        c = got["callback"]
        assert (c["status"], c["attempts"], c["url"]) == ("DONE", 1, f"{base}/pre")
        assert c["attempt_log"][0]["ok"] is True
        [rec] = stub.of_type("test")
        assert rec.signature_ok and rec.msg["target"] == "pre_create_order"


async def test_attempts_include_the_synchronous_extension_calls(w: World, live_factory: Any) -> None:
    stub = MerchantStub(public_pem=w.ctx.signer.public_pem)
    base = live_factory(stub.asgi()).url
    a = await w.new_app("A", pre_order_url=f"{base}/pre", payment_notify_url=f"{base}/pay")
    b = await w.new_app("B", pre_order_url=f"{base}/pre")
    order_id = await w.paid_order(a)
    assert await dispatch_due(w.ctx, worker_id="w") == 1
    stub.answers["pre_create_order"] = lambda rec: refuse(7, "no tables left")
    tok = buyer_token.mint(a["app_id"], a["secret"], "u2", now=w.clock.now_ms() / 1000)
    refused = await w.client.post("/api/buyer/v1/orders", headers={"Authorization": f"Bearer {tok}"},
                                  json={"goods_id": "g", "goods_type": 1, "quantity": 1})
    assert refused.json()["errNo"] == 21518

    page = await w.ok(a, "attempts", {})
    rows = page["attempt_list"]
    assert [(r["type"], r["ok"]) for r in rows] == [("pre_create_order", False), ("payment", True),
                                                     ("pre_create_order", True)]
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True) and not page["has_more"]
    failed, paid, accepted = rows
    assert failed["callback_id"] is None and failed["error"].startswith("err_no 7")
    assert "no tables left" in failed["answer_head"] and failed["http_status"] == 200
    assert accepted["callback_id"] is None and accepted["order_id"] == order_id and accepted["url"] == f"{base}/pre"
    [callback] = (await w.ok(a, "list", {"type": "payment"}))["callback_list"]
    assert paid["callback_id"] == callback["id"] and paid["order_id"] == order_id and paid["attempt"] == 1
    logids = {r.headers["byte-logid"] for r in stub.received}
    assert {r["logid"] for r in rows} == logids

    assert [r["id"] for r in (await w.ok(a, "attempts", {"synchronous": True}))["attempt_list"]] == [
        failed["id"], accepted["id"]]
    assert [r["id"] for r in (await w.ok(a, "attempts", {"synchronous": False}))["attempt_list"]] == [paid["id"]]
    assert [r["id"] for r in (await w.ok(a, "attempts", {"ok": False}))["attempt_list"]] == [failed["id"]]
    assert [r["id"] for r in (await w.ok(a, "attempts", {"order_id": order_id}))["attempt_list"]] == [
        paid["id"], accepted["id"]]
    first = await w.ok(a, "attempts", {"limit": 2, "type": "pre_create_order"})
    assert first["has_more"] is False and len(first["attempt_list"]) == 2
    one = await w.ok(a, "attempts", {"limit": 1})
    rest = await w.ok(a, "attempts", {"limit": 2, "cursor": one["next_cursor"]})
    assert [r["id"] for r in one["attempt_list"] + rest["attempt_list"]] == [r["id"] for r in rows]
    assert (await w.ok(b, "attempts", {}))["attempt_list"] == []
    assert (await w.call(a, "attempts", {"ok": "no"}))["extra"]["error_code"] == 2100005
