"""The merchant console in a real browser, on a live demo with its background workers running: create a good with
an invalid label pair (the seed's message), fix it, sell it, deny one refund and agree another, verify a voucher,
and replay a dead callback once the merchant's server is back."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_helpers import DESKTOP, PHONE, Demo, shot
from listening import free_port
from playwright.sync_api import expect

from paybutton.demo.seed import DEMO_APP_ID, DEMO_SECRET

pytestmark = pytest.mark.browser

HOUR = 3600


class OffsetClock:
    """The system clock plus an offset the test moves forward: the live server's dispatcher sees time pass (a retry
    schedule of days) while the test waits seconds. Read from the server's thread, moved from the test's."""

    def __init__(self) -> None:
        self.offset_ms = 0

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self.offset_ms

    def advance(self, seconds: float) -> None:
        self.offset_ms += int(seconds * 1000)


class Buyer:
    """A buyer of the demo shop, through the buyer API (what the hosted pages call)."""

    def __init__(self, demo: Demo, open_id: str) -> None:
        token = httpx.get(f"{demo.shop}/demo-login", params={"open_id": open_id}).json()["token"]
        self.http = httpx.Client(base_url=demo.server, headers={"Authorization": f"Bearer {token}"}, timeout=10)

    def buy(self, goods_id: str, quantity: int) -> dict[str, Any]:
        r = self.http.post("/api/buyer/v1/orders", json={"goods_id": goods_id, "goods_type": 1, "quantity": quantity})
        assert r.status_code == 200, r.text
        order_id = r.json()["order_id"]
        assert self.http.post(f"/api/buyer/v1/orders/{order_id}/cashier").status_code == 200
        paid = self.http.post(f"/api/buyer/v1/orders/{order_id}/pay", json={"channel": "douyin"})
        assert paid.json()["outcome"] == "SUCCESS", paid.text
        order: dict[str, Any] = self.http.get(f"/api/buyer/v1/orders/{order_id}").json()
        return order

    def close(self) -> None:
        self.http.close()

    def refund(self, order_id: str, item_order_id: str) -> str:
        r = self.http.post(f"/api/buyer/v1/orders/{order_id}/refunds",
                           json={"item_order_list": [{"item_order_id": item_order_id}], "reason": "不想要了"})
        assert r.status_code == 200, r.text
        return str(r.json()["refund_id"])


def both_widths(page: Any, name: str) -> None:
    """Full-page screenshots at phone and desktop width."""
    shot(page, f"{name}-phone")
    page.set_viewport_size(DESKTOP)
    page.wait_for_timeout(100)
    shot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)


def reload_until(page: Any, selector: str, seconds: float = 20) -> None:
    """Reload a server-rendered page until `selector` shows (the workers move things in the background)."""
    deadline = time.time() + seconds
    while page.locator(selector).count() == 0:
        assert time.time() < deadline, f"{selector} never showed on {page.url}"
        page.wait_for_timeout(250)
        page.reload()


def outbox_row(db: Path, order_id: str) -> tuple[int, str, int]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        row = conn.execute("SELECT id, status, attempts FROM outbox WHERE order_id = ? AND type = 'payment'",
                           (order_id,)).fetchone()
    assert row is not None
    return int(row[0]), str(row[1]), int(row[2])


@pytest.fixture
def buyers() -> Iterator[list[Buyer]]:
    made: list[Buyer] = []
    yield made
    for b in made:
        b.close()


def test_the_console_flows(demo_factory: Any, page: Any, live_factory: Any, tmp_path: Path,
                           buyers: list[Buyer]) -> None:
    clock = OffsetClock()
    demo: Demo = demo_factory(clock=clock, run_workers=True, dispatch_interval_seconds=0.1,
                              sweep_interval_seconds=0.2)
    c = demo.server + "/console"

    # demo mode: /console signs in to the demo app by itself
    page.goto(c)
    assert page.locator("[data-testid=merchant]").inner_text() == "释集烤肉 · paybutton 演示店"
    assert page.locator("[data-testid=on_shelf_goods]").inner_text() == "1"  # on sale now: not upcoming, ended..

    # a good with an invalid label pair: the seed's 21511 and its message, on the form, nothing saved
    page.click("text=新建商品")
    form = page.locator("[data-testid=goods-form]")
    form.locator("input[name=goods_id]").fill("console-bbq")
    form.locator("input[name=name]").fill("控制台烤肉双人餐")
    form.locator("input[name=price]").fill("88.80")
    form.locator("input[name=stock]").fill("20")
    form.locator("input[name=max_limits]").fill("5")
    form.locator("input[name=photo_url]").fill(demo.server + "/static/demo/bbq.svg")
    form.locator("input[name=label_REFUND_ANYTIME]").check()
    form.locator("input[name=label_REFUNDABLE_DAYS]").check()
    form.locator("input[name=value_REFUNDABLE_DAYS]").fill("7")
    page.click("[data-testid=save]")
    error = page.locator("[data-testid=error-labels]")
    assert error.inner_text() == "21511 · 商品标签校验不通过:「随时退」与「x日内可退」互斥,不能同时选择"
    assert form.locator("input[name=name]").input_value() == "控制台烤肉双人餐"
    both_widths(page, "console-goods-form")
    assert page.locator("[data-testid=ok]").count() == 0

    # fixed: refund anytime, book one day ahead
    form.locator("input[name=label_REFUNDABLE_DAYS]").uncheck()
    form.locator("input[name=label_BOOK_IN_ADVANCE]").check()
    form.locator("input[name=value_BOOK_IN_ADVANCE]").fill("1")
    page.click("[data-testid=save]")
    assert page.locator("[data-testid=ok]").inner_text() == "商品已创建"
    assert page.url.endswith("/console/goods/console-bbq/edit?ok=created")
    page.goto(c + "/goods?q=console")
    row = page.locator("tr[data-goods-id=console-bbq]")
    assert "¥88.80" in row.inner_text() and "随时退" in row.inner_text() and "提前1日预约" in row.inner_text()

    # refunds need the merchant's audit from now on
    page.click("nav >> text=设置")
    page.locator("input[name=need_refund_audit]").check()
    page.click("[data-testid=save-settings]")
    assert page.locator("[data-testid=ok]").inner_text() == "设置已保存"

    # sell one (three units), then the buyer asks for two refunds, one unit each
    buyer = Buyer(demo, "console-buyer")
    buyers.append(buyer)
    order = buyer.buy("console-bbq", 3)
    oid = order["order_id"]
    units = [i["item_order_id"] for i in order["item_orders"]]
    r_deny, r_agree = buyer.refund(oid, units[0]), buyer.refund(oid, units[1])

    # the merchant answers pre_create_refund (the dispatcher), then both wait for the audit
    page.goto(c + "/refunds?audit=TOAUDIT")
    reload_until(page, f"[data-refund-id={r_agree}] [data-testid=agree]")
    reload_until(page, f"[data-refund-id={r_deny}] [data-testid=deny]")
    assert page.locator(f"[data-refund-id={r_deny}] [data-testid=deadline]").inner_text()
    card = page.locator(f"[data-refund-id={r_deny}]")
    card.locator("[data-testid=deny]").click()  # no reason: refused, on the page
    assert page.locator(f"[data-refund-id={r_deny}] [data-testid=audit-error]").inner_text() == "拒绝时请填写理由"
    card = page.locator(f"[data-refund-id={r_deny}]")
    card.locator("input[name=deny_message]").fill("券已预约,不支持退款")
    card.locator("[data-testid=deny]").click()
    assert page.locator("[data-testid=ok]").inner_text() == "审核已提交"
    page.locator(f"[data-refund-id={r_agree}] [data-testid=agree]").click()
    page.click("[data-testid=agree-confirmed]")  # agreeing asks first
    page.goto(c + "/refunds")
    reload_until(page, f"[data-refund-id={r_agree}][data-status=SUCCESS]")
    assert page.locator(f"[data-refund-id={r_deny}]").get_attribute("data-status") == "FAIL"
    assert page.locator(f"[data-refund-id={r_deny}] [data-testid=audit-status]").inner_text() == "已拒绝"
    assert "券已预约,不支持退款" in page.locator(f"[data-refund-id={r_deny}]").inner_text()
    assert page.locator(f"[data-refund-id={r_agree}] [data-testid=audit-status]").inner_text() == "已同意"
    both_widths(page, "console-refunds")

    # verify the third unit's voucher by its QR data
    page.click("nav >> text=订单")
    page.click(f"a[href='/console/orders/{oid}']")
    code = page.locator(f"tr[data-item={units[2]}] code").nth(1).inner_text()
    assert len(code) >= 8
    page.click("nav >> text=核销")
    page.fill("input[name=code]", f"pbv1:{code}")
    page.click("button:has-text('核销')")
    assert page.locator("[data-testid=verified]").inner_text().startswith(f"核销成功:订单 {oid} 的商品单 {units[2]}")
    page.click("[data-testid=verified] a")
    states = page.locator("[data-testid=items] tr[data-item]").evaluate_all("rs => rs.map(r => r.dataset.status)")
    assert states == ["2", "102", "3"]
    kinds = page.locator("[data-testid=timeline] li").evaluate_all("ls => ls.map(l => l.dataset.kind)")
    assert kinds[:3] == ["ev_created", "ev_pre_order", "ev_paid"]
    assert {"ev_refund", "ev_audit", "ev_refund_end", "ev_verified", "ev_callback"} <= set(kinds)
    both_widths(page, "console-order-detail")

    # the merchant's payment endpoint goes down: the next sale's notify is retried until it is a dead letter
    down = free_port()
    page.click("nav >> text=设置")
    both_widths(page, "console-settings")
    page.fill("input[name=payment_notify_url]", f"http://127.0.0.1:{down}/callbacks/payment")
    page.click("[data-testid=save-settings]")
    assert page.locator("[data-testid=ok]").inner_text() == "设置已保存"
    second = buyer.buy("console-bbq", 1)
    db = tmp_path / "demo.db"
    deadline, seen = time.time() + 60, -1
    while True:  # each retry is due hours later: move the server's clock on once the dispatcher has tried
        cb_id, status, attempts = outbox_row(db, second["order_id"])
        if status == "DEAD":
            break
        assert time.time() < deadline, f"still {status} after {attempts} attempts"
        if attempts != seen:
            seen = attempts
            clock.advance(6 * HOUR)
        time.sleep(0.05)
    assert attempts == 21
    page.click("nav >> text=回调")
    page.select_option("select[name=status]", "DEAD")
    page.click("button:has-text('筛选')")
    dead = page.locator(f"tr[data-callback-id='{cb_id}']")
    assert "21/21" in dead.inner_text() and "失败" in dead.inner_text()
    both_widths(page, "console-callbacks-log")

    # the merchant's server is back: replay the dead letter, and it is delivered (and its signature verifies)
    from paybutton.demo.merchant import merchant_app

    received: list[dict[str, Any]] = []
    public_pem = httpx.get(f"{demo.server}/api/platform/public_key").text
    live_factory(merchant_app(public_pem, received), port=down)
    dead.locator("a").first.click()
    assert page.locator("[data-testid=attempt-log] tr[data-ok='0']").count() == 21
    page.click("[data-testid=replay]")
    assert page.locator("[data-testid=ok]").inner_text() in ("已重新排队,正在发送到应用当前的地址",
                                                             "重新发送成功:商家已应答")
    reload_until(page, "[data-testid=callback][data-status=DONE]")
    assert page.locator("[data-testid=callback-status]").inner_text() == "已送达"
    assert page.locator("[data-testid=attempt-log] tr[data-ok='1']").count() == 1
    assert [r["msg"]["order_id"] for r in received if r["type"] == "payment"] == [second["order_id"]]
    page.goto(c)
    assert page.locator("[data-testid=dead_cb]").inner_text() == "0"
    assert page.locator("[data-testid=to_audit]").inner_text() == "0"

    # the callbacks log searched by the order, and every attempt of the merchant calls, synchronous ones too
    page.click("nav >> text=回调")
    page.fill("input[name=q]", second["order_id"])
    page.click("button:has-text('筛选')")
    expect(page.locator("tr[data-callback-id]")).to_have_count(1)  # once the filtered page has loaded
    page.click("[data-testid=attempts-link]")
    page.fill("input[name=q]", oid)
    page.click("button:has-text('搜索')")
    types = page.locator("tr[data-type]").evaluate_all("rs => rs.map(r => r.dataset.type)")
    assert "pre_create_order" in types and "payment" in types

    # the app secret is rotated in the settings, after a confirmation; the new one is shown once and signs in
    page.click("nav >> text=设置")
    page.click("[data-testid=rotate-secret]")  # the box is not ticked: the browser asks for it, nothing happens
    assert page.locator("[data-testid=new-secret]").count() == 0
    page.locator("[data-testid=rotate-secret-form] input[name=confirm]").check()
    page.click("[data-testid=rotate-secret]")
    new_secret = page.locator("[data-testid=new-secret]").inner_text()
    assert len(new_secret) == 40 and new_secret != DEMO_SECRET
    page.click("[data-testid=sign-out]")
    page.fill("input[name=app_id]", DEMO_APP_ID)
    page.fill("input[name=password]", DEMO_SECRET)
    page.click("form[data-testid=login-form] button[type=submit]")
    assert page.locator("[data-testid=error]").inner_text() == "应用 ID 或密码错误"
    page.fill("input[name=password]", new_secret)
    page.click("form[data-testid=login-form] button[type=submit]")
    assert page.locator("[data-testid=merchant]").inner_text() == "释集烤肉 · paybutton 演示店"
