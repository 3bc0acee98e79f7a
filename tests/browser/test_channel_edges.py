"""Real channels at their edges (issue 18 items 1 and 2, issue 19 item 6), at 390x844 and 1280x800, in zh-CN and
en, through the overlay on the demo shop with the fake WeChat Pay and Alipay gateways:

- a WeChat Pay gateway that refuses connections: the attempt fails at once with our message in the page's
  language, and the sandbox pays next, with no 409 (before: UNKNOWN, and 409 on every channel until the order
  expired);
- Alipay's page opens in the top window, not in the overlay's frame, and the cashier reopens on the way back with
  the payment's end; an Alipay page that cannot be reached shows our own message, and another channel pays;
- the 沙盒 badge follows the channel picked (and paid), not the process-wide cashier."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import Demo, events, on_db, open_page, shot, toasts, watch_toasts
from fakes.alipay_gateway import FakeAlipay
from fakes.wechat_gateway import FakeWechat
from sqlalchemy import select

from paybutton.apps import service as app_service
from paybutton.clock import SystemClock
from paybutton.demo.seed import DEMO_APP_ID
from paybutton.tables import payments

pytestmark = pytest.mark.browser

OVERLAY = "[data-pay-button-overlay] iframe"
COMBOS = [("phone", "zh-CN"), ("desktop", "en"), ("phone", "en"), ("desktop", "zh-CN")]
IDS = [f"{v}-{lang}" for v, lang in COMBOS]


class World:
    def __init__(self, demo: Demo, db: Path, wx: FakeWechat, ali: FakeAlipay) -> None:
        self.demo, self.db, self.wx, self.ali = demo, db, wx, ali

    def attempts(self, order_id: str) -> list[Any]:
        async def read(conn: Any) -> list[Any]:
            q = select(payments).where(payments.c.order_id == order_id).order_by(payments.c.created_at)
            return list((await conn.execute(q)).all())

        got: list[Any] = on_db(self.db, read)
        return got


@pytest.fixture
def dead_port() -> Iterator[str]:
    """A port bound but not listening: every connection to it is refused."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    yield f"http://127.0.0.1:{s.getsockname()[1]}"
    s.close()


def _world(demo_factory: Any, live_factory: Any, tmp_path: Path, settings: dict[str, Any] | None = None,
           **gateways: str) -> World:
    wx, ali = FakeWechat(), FakeAlipay()
    wx.base_url = live_factory(wx.app()).url
    ali.base_url = live_factory(ali.app()).url
    demo: Demo = demo_factory(run_workers=True, **(settings or {}))
    db = tmp_path / "demo.db"

    async def configure(conn: Any) -> None:
        await app_service.set_pay_channel(conn, SystemClock(), DEMO_APP_ID, "wechat",
                                          {**wx.merchant_config(), **({"gateway": gateways["wechat"]}
                                                                      if "wechat" in gateways else {})})
        await app_service.set_pay_channel(conn, SystemClock(), DEMO_APP_ID, "alipay",
                                          {**ali.merchant_config(), **({"gateway": gateways["alipay"]}
                                                                       if "alipay" in gateways else {})})

    on_db(db, configure)
    return World(demo, db, wx, ali)


@pytest.fixture(params=COMBOS, ids=IDS)
def combo(request: pytest.FixtureRequest, browser: Any) -> Iterator[tuple[Any, str, str]]:
    viewport, lang = request.param
    ctx, page = open_page(browser, viewport, locale=lang)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page, lang, f"{viewport}-{lang}"
    ctx.close()
    assert not errors, errors


def _to_cashier(page: Any, w: World, lang: str) -> Any:
    page.goto(w.demo.buy_page(**({"lang": "en"} if lang == "en" else {})))
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    page.click("#buy-library button")
    f = page.frame_locator(OVERLAY)
    f.locator("#pay-now:enabled").click()
    f.locator("#confirm-pay:enabled").wait_for()
    return f


def _pay_events(page: Any, count: int = 1) -> list[dict[str, Any]]:
    return events(page, "pay", count)


def _sandbox_pays_next(page: Any, f: Any, count: int) -> dict[str, Any]:
    """Another channel at once: the sandbox (douyin) with its success scenario, through 重新支付."""
    f.locator("input[name=channel][value=douyin]").check()
    f.locator("[data-testid=scenario]").select_option("success")
    f.locator("[data-testid=pay-again]").click()
    pays = _pay_events(page, count)
    assert len(pays) == count and pays[-1]["result"]["code"] == 0, pays
    return pays[-1]


def test_a_refused_wechat_gateway_fails_at_once_and_another_channel_pays(
        demo_factory: Any, live_factory: Any, tmp_path: Path, dead_port: str, combo: Any) -> None:
    page, lang, name = combo
    w = _world(demo_factory, live_factory, tmp_path, wechat=dead_port)
    f = _to_cashier(page, w, lang)
    f.locator("input[name=channel][value=wechat]").check()
    f.locator("#confirm-pay").click()
    reason = f.locator("[data-testid=fail-reason]")
    reason.wait_for()
    shot(page, f"channel-wechat-refused-{name}")
    want = "微信支付暂不可用,请选择其他方式" if lang == "zh-CN" else "WeChat Pay is unavailable, choose another method"
    assert reason.inner_text() == want
    (first,) = _pay_events(page)
    assert first["result"]["code"] == 2  # the seed's failed pay, at once
    pay = _sandbox_pays_next(page, f, 2)
    tries = w.attempts(pay["orderId"])
    assert [(p.provider, p.state) for p in tries] == [("wechatpay", "CLOSED"), ("sandbox", "SUCCESS")]
    assert tries[0].outcome == "FAIL"


def test_alipay_opens_in_the_top_window_and_the_cashier_reopens_on_return(
        demo_factory: Any, live_factory: Any, tmp_path: Path, combo: Any) -> None:
    page, lang, name = combo
    w = _world(demo_factory, live_factory, tmp_path)
    f = _to_cashier(page, w, lang)
    f.locator("input[name=channel][value=alipay]").check()
    f.locator("#confirm-pay").click()
    page.wait_for_url(lambda u: u.startswith(w.ali.base_url + "/"))  # the top window, not the frame
    page.locator("#ali-pay").wait_for()
    shot(page, f"channel-alipay-top-{name}")
    page.locator("#ali-pay").click()
    page.wait_for_url(lambda u: u.startswith(w.demo.shop + "/"))
    f = page.frame_locator(OVERLAY)
    (pay,) = _pay_events(page)
    assert pay["status"] == "success" and pay["result"]["code"] == 0
    ((provider, state),) = [(p.provider, p.state) for p in w.attempts(pay["orderId"])]
    assert (provider, state) == ("alipay", "SUCCESS")


def test_an_alipay_page_that_cannot_be_reached_shows_our_message(
        demo_factory: Any, live_factory: Any, tmp_path: Path, dead_port: str, combo: Any) -> None:
    page, lang, name = combo
    w = _world(demo_factory, live_factory, tmp_path, alipay=dead_port + "/gateway.do")
    f = _to_cashier(page, w, lang)
    shop = page.url
    f.locator("input[name=channel][value=alipay]").check()
    f.locator("#confirm-pay").click()
    reason = f.locator("[data-testid=fail-reason]")
    reason.wait_for()
    shot(page, f"channel-alipay-unreachable-{name}")
    want = ("支付宝页面无法打开,请选择其他方式" if lang == "zh-CN"
            else "The Alipay page cannot be reached, choose another method")
    assert reason.inner_text() == want and page.url == shop
    pay = _sandbox_pays_next(page, f, 1)
    tries = w.attempts(pay["orderId"])
    assert [(p.provider, p.state) for p in tries] == [("alipay", "CLOSED"), ("sandbox", "SUCCESS")]


@pytest.mark.parametrize(("viewport", "lang"), [("phone", "zh-CN"), ("desktop", "en")])
def test_the_sandbox_badge_follows_the_channel(demo_factory: Any, live_factory: Any, tmp_path: Path, browser: Any,
                                               viewport: str, lang: str) -> None:
    """Issue 19.6: the 沙盒 badge shows for the sandbox's channel only, not while a real channel is picked or paid."""
    ctx, page = open_page(browser, viewport, locale=lang)
    try:
        w = _world(demo_factory, live_factory, tmp_path)
        f = _to_cashier(page, w, lang)
        badge = f.locator("[data-testid=sandbox]")
        assert badge.is_visible()  # douyin, the sandbox, is picked first
        f.locator("input[name=channel][value=wechat]").check()
        shot(page, f"sandbox-badge-wechat-{viewport}-{lang}")
        assert not badge.is_visible()  # WeChat Pay is a real channel here
        f.locator("#confirm-pay").click()
        f.locator("[data-testid=pay-qr]").wait_for()
        assert not badge.is_visible()  # ... while its QR is being paid
        f.locator("input[name=channel][value=douyin]").check()
        assert badge.is_visible()
    finally:
        ctx.close()


@pytest.mark.parametrize(("viewport", "lang"), [("phone", "en"), ("desktop", "zh-CN")])
def test_cancel_with_a_real_channel_picked_does_not_start_it(demo_factory: Any, live_factory: Any, tmp_path: Path,
                                                             browser: Any, viewport: str, lang: str) -> None:
    """Issue 18.3: 取消支付 says what happened (the order is kept) and never opens a payment at the channel."""
    ctx, page = open_page(browser, viewport, locale=lang)
    watch_toasts(page)
    try:
        w = _world(demo_factory, live_factory, tmp_path)
        f = _to_cashier(page, w, lang)
        f.locator("input[name=channel][value=wechat]").check()
        f.locator("[data-testid=cancel-pay]").click()
        (pay,) = _pay_events(page)
        assert pay["result"]["code"] == 4
        assert toasts(page)[-1] == ("已取消支付,订单已为你保留,再次点击可继续支付" if lang == "zh-CN"
                                    else "Payment cancelled. Your order is kept; tap again to continue paying.")
        shot(page, f"cancel-real-channel-{viewport}-{lang}")
        assert w.wx.trades == {} and w.attempts(pay["orderId"]) == []
    finally:
        ctx.close()


@pytest.mark.parametrize(("viewport", "lang"), [("phone", "en"), ("desktop", "zh-CN")])
def test_pay_again_after_a_lost_answer_closes_the_old_trade_first(demo_factory: Any, live_factory: Any,
                                                                  tmp_path: Path, browser: Any, viewport: str,
                                                                  lang: str) -> None:
    """Issue 18.1: WeChat Pay's answer comes after the (1 s) timeout: the cashier says the result is not confirmed;
    重新支付 with the sandbox asks WeChat Pay, closes the unpaid trade there, then pays: never stuck, one charge."""
    ctx, page = open_page(browser, viewport, locale=lang)
    try:
        w = _world(demo_factory, live_factory, tmp_path, settings={"wechatpay_timeout_seconds": 1.0})
        w.wx.mode, w.wx.delay = "timeout", 2.5
        f = _to_cashier(page, w, lang)
        f.locator("input[name=channel][value=wechat]").check()
        f.locator("#confirm-pay").click()
        reason = f.locator("[data-testid=fail-reason]")
        reason.wait_for()
        shot(page, f"channel-wechat-lost-answer-{viewport}-{lang}")
        want = ("支付结果暂未确认。重新支付会先向渠道确认并关闭原支付,不会重复扣款" if lang == "zh-CN" else
                "The channel has not confirmed the payment yet. Paying again checks with it first: you are never "
                "charged twice.")
        assert reason.inner_text() == want
        w.wx.mode = "ok"
        (otn,) = list(w.wx.trades)
        pay = _sandbox_pays_next(page, f, 1)
        tries = w.attempts(pay["orderId"])
        assert [(p.provider, p.state) for p in tries] == [("wechatpay", "CLOSED"), ("sandbox", "SUCCESS")]
        assert tries[0].payment_id == otn and w.wx.trades[otn]["state"] == "CLOSED"
    finally:
        ctx.close()


IPHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Version/17.0 Mobile/15E148 Safari/604.1")


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_wechat_h5_opens_in_the_top_window_from_the_overlay(demo_factory: Any, live_factory: Any, tmp_path: Path,
                                                            browser: Any, lang: str) -> None:
    """Issue 18.2 on a phone: WeChat H5's page (its app link would not fire from a frame) opens in the top window
    and comes back to the shop page, where the cashier reopens and ends with the seed's code 0."""
    ctx, page = open_page(browser, "phone", user_agent=IPHONE_UA, locale=lang)
    try:
        w = _world(demo_factory, live_factory, tmp_path)
        f = _to_cashier(page, w, lang)
        f.locator("input[name=channel][value=wechat]").check()
        f.locator("#confirm-pay").click()
        page.wait_for_url(lambda u: u.startswith(w.wx.base_url + "/_fake/h5"))  # the top window
        shot(page, f"channel-wechat-h5-top-phone-{lang}")
        page.locator("#wx-pay").click()
        page.wait_for_url(lambda u: u.startswith(w.demo.shop + "/"))
        (pay,) = _pay_events(page)
        assert pay["result"]["code"] == 0
        assert [(p.provider, p.state) for p in w.attempts(pay["orderId"])] == [("wechatpay", "SUCCESS")]
    finally:
        ctx.close()
