"""GET /metrics (telemetry/): every named series is there after traffic, with the counts the traffic made, on
both databases; the database's gauges agree with the rows; no token, a wrong token: 401; no setting: off (404)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, insert, select, update
from trade_world import TradeWorld

from paybutton.app import create_app
from paybutton.config import Settings
from paybutton.tables import outbox, payments, refunds
from paybutton.telemetry.scrape import OPEN_REFUND_STAGES

TOKEN = "scrape-me-0123456789"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def audit() -> bool:
    return True  # a refund applied waits for the merchant's audit: an open refund


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"metrics_token": TOKEN}


async def scrape(w: TradeWorld) -> Samples:
    r = await w.http.get(f"{w.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=")
    out: Samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    assert key in after, f"no series {name}{labels} in /metrics"
    return after[key] - before.get(key, 0.0)


async def test_metrics_after_traffic_count_what_happened(trade: TradeWorld) -> None:
    w = trade
    before = await scrape(w)
    await w.add_goods("none", stock=0)
    h = w.auth("buyer")
    paid = [await w.paid_order(), await w.paid_order()]
    for _ in range(3):
        r = await w.http.post(f"{w.url}/api/buyer/v1/orders", headers=h, json={"goods_id": "none", "goods_type": 1})
        assert r.json()["error"] == "GOODS_SOLD_OUT", r.text
    r = await w.http.post(f"{w.url}/api/buyer/v1/orders", headers=h, json={"goods_id": "nothing", "goods_type": 1})
    assert r.json()["error"] == "GOODS_NOT_FOUND", r.text
    got = await w.http.get(f"{w.url}/api/buyer/v1/orders/{paid[0]['order_id']}", headers=h)
    assert got.status_code == 200
    applied = await w.http.post(f"{w.url}/api/buyer/v1/orders/{paid[1]['order_id']}/refunds", headers=h,
                                json={"reason": "不想要了", "note": ""})
    assert applied.status_code == 200, applied.text
    health = (await w.http.get(f"{w.url}/healthz")).json()["order_path"]
    r = await w.http.post(f"{w.url}/api/buyer/v1/orders", headers=h, json={"goods_id": "g", "goods_type": 1})
    unpaid = r.json()["order_id"]
    async with w.db.tx() as conn:  # a dead letter and a lost payment answer, as the database holds them
        (first,) = (await conn.execute(select(func.min(outbox.c.id)))).one()
        await conn.execute(update(outbox).where(outbox.c.id == first).values(status="DEAD"))
        await conn.execute(insert(payments).values(
            payment_id="pmwaiting1", order_id=unpaid, app_id=w.app_id, channel="douyin", pay_channel=1, amount=1000,
            outcome="UNKNOWN", late=False, created_at=w.clock.now_ms(), updated_at=w.clock.now_ms(),
            state="UNKNOWN", provider="sandbox", next_check_at=w.clock.now_ms() - 1, checks=0))
    mid = await scrape(w)

    assert delta(before, mid, "paybutton_orders_placed_total") == 3
    assert delta(before, mid, "paybutton_orders_refused_total", reason="GOODS_SOLD_OUT") == 3
    assert delta(before, mid, "paybutton_orders_refused_total", reason="GOODS_NOT_FOUND") == 1
    assert delta(before, mid, "paybutton_orders_paid_total") == 2
    assert delta(before, mid, "paybutton_payments_total", channel="douyin", outcome="SUCCESS") == 2
    orders = "/api/buyer/v1/orders"
    assert delta(before, mid, "paybutton_http_requests_total", route=orders, method="POST", status="200") == 3
    assert delta(before, mid, "paybutton_http_requests_total", route=orders, method="POST", status="409") == 3
    assert delta(before, mid, "paybutton_http_requests_total", route=orders + "/{order_ref}", method="GET",
                 status="200") == 3  # paid_order reads each order, and the read above
    assert delta(before, mid, "paybutton_http_request_duration_seconds_count", route=orders, method="POST") == 7
    assert delta(before, mid, "paybutton_order_batch_size_count", kind="take") >= 1
    memory = delta(before, mid, "paybutton_sold_out_from_memory_total")
    assert memory == health["sold_out_from_memory"]  # this server's memory (GET /healthz) answered them all
    # 3 placed, 3 sold out and 1 unknown good went through the order path: in take statements, or from memory
    assert delta(before, mid, "paybutton_order_batch_size_sum", kind="take") + memory == 7
    assert ("paybutton_db_pool_in_use", frozenset({("pool", "main")})) in mid
    assert mid[("paybutton_db_pool_size", frozenset({("pool", "main")}))] >= 1
    if not w.db.is_sqlite:  # the order path's own pool (order/writer_pg.py)
        assert mid[("paybutton_db_pool_size", frozenset({("pool", "orders")}))] == 8
        assert mid[("paybutton_db_pool_in_use", frozenset({("pool", "orders")}))] == 0  # every order answered
    async with w.db.engine.connect() as conn:
        pending = (await conn.execute(select(func.count()).where(outbox.c.status == "PENDING"))).scalar_one()
        stages = dict((await conn.execute(select(refunds.c.stage, func.count()).group_by(refunds.c.stage))).all())
    assert pending >= 1
    assert mid[("paybutton_callbacks_pending", frozenset())] == pending
    assert mid[("paybutton_callbacks_dead", frozenset())] == 1
    assert mid[("paybutton_payment_attempts_waiting", frozenset({("due", "now")}))] == 1
    assert stages.get("AUDIT") == 1
    for stage in OPEN_REFUND_STAGES:
        assert mid[("paybutton_refunds_open", frozenset({("stage", stage)}))] == stages.get(stage, 0)

    await w.drive()  # the callbacks go out: delivery latencies, nothing pending
    after = await scrape(w)
    assert after[("paybutton_callbacks_pending", frozenset())] == 0
    assert delta(mid, after, "paybutton_callback_delivery_seconds_count", type="payment", result="delivered") == 1
    assert after[("paybutton_refunds_open", frozenset({("stage", "AUDIT")}))] == 1


async def test_metrics_refuse_a_scraper_without_the_token(trade: TradeWorld) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        r = await trade.http.get(f"{trade.url}/metrics", headers=headers)
        assert r.status_code == 401, (headers, r.text)
        assert "paybutton_" not in r.text
        assert r.headers["www-authenticate"].startswith("Bearer")


async def test_metrics_are_off_without_a_token(db_url: str) -> None:
    app = create_app(Settings(database_url=db_url, run_workers=False))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        r = await http.get("/metrics", headers={"Authorization": "Bearer "})
    assert r.status_code == 404 and "PAYBUTTON_METRICS_TOKEN" in r.text
