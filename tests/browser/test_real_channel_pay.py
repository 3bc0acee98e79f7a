"""Paying through the real channels' fakes in the browser: WeChat Native's QR in the overlay cashier (desktop) and
the redirect flows of Alipay and WeChat H5 (phone, display="redirect"): the cashier shows the QR or leaves for the
channel's page, the buyer pays there, the order turns paid by the channel's notify, the cashier ends with the
seed's `pay` code 0; then one unit of two is refunded through the channel's refund and its notify."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_helpers import (
    DESKTOP,
    Demo,
    events,
    keep_events,
    on_db,
    open_page,
    shot,
    to_the_cashier_in_redirect_mode,
)
from fakes.alipay_gateway import FakeAlipay
from fakes.wechat_gateway import FakeWechat
from sqlalchemy import select

from paybutton.apps import service as app_service
from paybutton.clock import SystemClock
from paybutton.demo.seed import DEMO_APP_ID
from paybutton.tables import payments, refunds

pytestmark = pytest.mark.browser

OVERLAY = "[data-pay-button-overlay] iframe"
DBS: dict[str, Path] = {}
IPHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Version/17.0 Mobile/15E148 Safari/604.1")
REFUND_ONE_JS = """async () => {
  const id = new URLSearchParams(location.search).get('orderId');
  return await window.__payButton.bridge()('POST', '/api/buyer/v1/orders/' + id + '/refunds',
                                           {quantity: 1, reason: '不想要了'}, tt.__token);
}"""


@pytest.fixture
def real(demo_factory: Any, live_factory: Any, tmp_path: Path) -> tuple[Demo, FakeWechat, FakeAlipay]:
    wx, ali = FakeWechat(), FakeAlipay()
    wx.base_url = live_factory(wx.app()).url
    ali.base_url = live_factory(ali.app()).url
    demo: Demo = demo_factory(run_workers=True)
    DBS[demo.server] = db = tmp_path / "demo.db"

    async def configure(conn: Any) -> None:
        await app_service.set_pay_channel(conn, SystemClock(), DEMO_APP_ID, "wechat", wx.merchant_config())
        await app_service.set_pay_channel(conn, SystemClock(), DEMO_APP_ID, "alipay", ali.merchant_config())

    on_db(db, configure)
    return demo, wx, ali


def _attempt(demo: Demo, order_id: str) -> Any:
    return on_db(DBS[demo.server], lambda conn: _one(conn, select(payments).where(payments.c.order_id == order_id)))


async def _one(conn: Any, q: Any) -> Any:
    return (await conn.execute(q)).one()


def _refund_and_wait(demo: Demo, page: Any, order_id: str, wx: FakeWechat | None = None) -> Any:
    page.wait_for_url(f"**/orderDetail.html?orderId={order_id}")
    page.wait_for_function("window.__payButton && window.tt && tt.__token")
    page.evaluate(REFUND_ONE_JS)
    deadline = time.monotonic() + 15
    if wx is not None:  # WeChat answers PROCESSING: the refund waits at the cashier for WeChat's refund notify
        while not wx.refunds and time.monotonic() < deadline:
            time.sleep(0.1)
        (no,) = list(wx.refunds)
        r = on_db(DBS[demo.server], lambda conn: _one(conn, select(refunds).where(refunds.c.order_id == order_id)))
        assert r.status != "SUCCESS" and r.refund_id == no
        t = threading.Thread(target=lambda: asyncio.run(wx.refund_done(no)))
        t.start()
        t.join()
    while True:
        r = on_db(DBS[demo.server], lambda conn: _one(conn, select(refunds).where(refunds.c.order_id == order_id)))
        if r.status in ("SUCCESS", "FAIL") or time.monotonic() > deadline:
            return r
        time.sleep(0.2)


def test_wechat_native_qr_in_the_overlay_then_refund(real: Any, page: Any) -> None:
    demo, wx, _ = real
    page.set_viewport_size(DESKTOP)
    page.goto(demo.buy_page())
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    page.click("#buy-library button")
    f = page.frame_locator(OVERLAY)
    f.locator("#pay-now:enabled").wait_for()
    f.locator("#qty-plus").click()
    f.locator("#pay-now").click()
    f.locator("#confirm-pay:enabled").wait_for()
    assert f.locator("[data-testid=scenario]").is_visible()  # douyin: the sandbox's scenarios
    f.locator("input[name=channel][value=wechat]").check()
    assert not f.locator("[data-testid=scenario]").is_visible()  # a configured real channel: no scenarios
    f.locator("#confirm-pay").click()
    f.locator("[data-testid=pay-qr]").wait_for()
    cashier = page.frame(url=lambda u: "/pages/cashier" in u)
    assert cashier is not None
    cashier.wait_for_function("() => { const i = document.getElementById('pay-qr'); "
                              "return i.complete && i.naturalWidth > 0; }")
    assert f.locator("#pay-step-text").inner_text() == "请使用微信扫码支付"
    assert f.locator("[data-testid=pay-step-status]").inner_text() == "等待支付…"
    shot(page, "real-channel-wechat-qr-desktop")
    src = f.locator("[data-testid=pay-qr]").get_attribute("src")
    assert src is not None and src.startswith("/pages/pay-qr?d=weixin%3A%2F%2Fwxpay%2Fbizpayurl%3Fpr%3D")
    (otn,) = list(wx.trades)
    assert page.evaluate("window.__events.filter(e => e.type === 'pay').length") == 0
    got = httpx.post(f"{wx.base_url}/_fake/pay/{otn}", timeout=10, trust_env=False)  # the buyer scans and pays
    assert got.json()[0][0] == 204
    (pay,) = events(page, "pay")
    assert pay["status"] == "success" and pay["result"] == {"code": 0, "orderId": pay["orderId"]}
    assert pay["outOrderNo"]
    p = _attempt(demo, pay["orderId"])
    assert p.payment_id == otn and p.provider == "wechatpay" and p.state == "SUCCESS"
    wx.refund_mode = "processing"
    r = _refund_and_wait(demo, page, pay["orderId"], wx)
    assert r.status == "SUCCESS" and r.refund_total_amount == p.amount // 2
    assert wx.refunds[r.refund_id]["view"]["status"] == "SUCCESS"
    assert [n.kind for n in wx.notices] == ["payment", "refund"] and wx.notices[-1].status in (200, 204)


@pytest.mark.parametrize("channel", ["alipay", "wechat"])
def test_redirect_to_the_channel_and_back_on_a_phone_then_refund(real: Any, browser: Any, channel: str) -> None:
    demo, wx, ali = real
    ctx, page = open_page(browser, "phone", user_agent=IPHONE_UA)
    keep_events(page)  # back at the shop, it leaves 1 s after the pay event: keep it past that
    try:
        to_the_cashier_in_redirect_mode(page, demo, units=2)
        page.locator(f"input[name=channel][value={channel}]").check()
        page.locator("#confirm-pay").click()
        fake = ali if channel == "alipay" else wx
        button = "#ali-pay" if channel == "alipay" else "#wx-pay"
        page.wait_for_url(lambda u: u.startswith(fake.base_url + "/"))
        page.locator(button).wait_for()
        shot(page, f"real-channel-{channel}-page-phone")
        page.locator(button).click()
        page.wait_for_url(lambda u: u.startswith(f"{demo.server}/pages/cashier?") and "returned=1" in u)
        page.wait_for_url(lambda u: u.startswith(demo.shop + "/"))
        (pay,) = events(page, "pay")
        assert pay["status"] == "success" and pay["result"]["code"] == 0 and pay["outOrderNo"]
        p = _attempt(demo, pay["orderId"])
        assert p.provider == ("alipay" if channel == "alipay" else "wechatpay") and p.state == "SUCCESS"
        r = _refund_and_wait(demo, page, pay["orderId"])
        assert r.status == "SUCCESS" and r.refund_total_amount == p.amount // 2
        if channel == "alipay":
            assert list(ali.trades[p.payment_id]["refunds"]) == [r.refund_id]
        else:
            assert wx.refunds[r.refund_id]["view"]["status"] == "SUCCESS"
            deadline = time.monotonic() + 5  # WeChat's refund notify follows its answer; it is accepted
            while not any(n.kind == "refund" for n in wx.notices) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert [(n.kind, n.status) for n in wx.notices if n.kind == "refund"] == [("refund", 204)]
    finally:
        ctx.close()
