"""The merchant console on a phone (360 and 390 px) and a desktop (1280 px), in zh-CN and en: the header is one row,
the nav scrolls with a visible cue, no page is wider than the screen; every console page, `/` and `/docs` pass
axe-core with no serious or critical violation; the dashboard's takings are net of refunds; a failed payment shows
in the order list; status words are in the page's language; the goods form shows every error at once; a test
callback's page updates itself."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from axe_helpers import check_page, describe
from browser_helpers import DESKTOP, PHONE, Demo, shot

pytestmark = pytest.mark.browser

SMALL = {"width": 360, "height": 780}
HAN = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_STATUS = re.compile(r"\b(SUCCESS|FAIL|DONE|PENDING|DEAD|AGREE|DENY|PROCESSING|refunded|Paying)\b")

LAYOUT_JS = """() => {
  const vw = document.documentElement.clientWidth;
  const nav = document.querySelector('nav.pc-nav');
  const top = document.querySelector('header.pc-top');
  const wide = [...document.querySelectorAll('header.pc-top *, nav.pc-nav')].filter(e => {
    const r = e.getBoundingClientRect(); return r.width > 0 && (r.left < -0.5 || r.right > vw + 0.5); })
    .filter(e => !(e.closest('nav.pc-nav') && e !== nav));  // links inside the nav scroll within it
  const s = nav && getComputedStyle(nav);
  return {vw, pageWidth: document.documentElement.scrollWidth, header: top.getBoundingClientRect().height,
          wide: wide.map(e => e.tagName + '.' + e.className),
          nav: nav && {scroll: nav.scrollWidth, client: nav.clientWidth, overflow: s.overflowX, bg: s.backgroundImage,
                       right: nav.getBoundingClientRect().right}};
}"""


def _buyer(demo: Demo, open_id: str) -> httpx.Client:
    token = httpx.get(f"{demo.shop}/demo-login", params={"open_id": open_id}).json()["token"]
    return httpx.Client(base_url=demo.server, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def _order(b: httpx.Client, quantity: int, scenario: str = "success") -> dict[str, Any]:
    r = b.post("/api/buyer/v1/orders", json={"goods_id": "demo-hotpot", "goods_type": 1, "quantity": quantity})
    assert r.status_code == 200, r.text
    oid = r.json()["order_id"]
    assert b.post(f"/api/buyer/v1/orders/{oid}/cashier").status_code == 200
    paid = b.post(f"/api/buyer/v1/orders/{oid}/pay", json={"channel": "douyin", "scenario": scenario})
    assert paid.json()["outcome"] == scenario.upper(), paid.text
    order: dict[str, Any] = b.get(f"/api/buyer/v1/orders/{oid}").json()
    return order


def _reload_until(page: Any, selector: str, seconds: float = 20) -> None:
    deadline = time.time() + seconds
    while page.locator(selector).count() == 0:
        assert time.time() < deadline, f"{selector} never showed on {page.url}"
        page.wait_for_timeout(250)
        page.reload()


@pytest.fixture
def world(demo_factory: Any) -> Iterator[dict[str, Any]]:
    """A live demo with its workers, one order paid (2 units) with one unit refunded, and one whose payment
    failed."""
    demo: Demo = demo_factory(run_workers=True, dispatch_interval_seconds=0.1, sweep_interval_seconds=0.2)
    b = _buyer(demo, "phone-buyer")
    paid = _order(b, 2)
    unit = paid["item_orders"][0]["item_order_id"]
    r = b.post(f"/api/buyer/v1/orders/{paid['order_id']}/refunds",
               json={"item_order_list": [{"item_order_id": unit}], "reason": "不想要了"})
    assert r.status_code == 200, r.text
    failed = _order(b, 1, "fail")
    yield {"demo": demo, "paid": paid, "failed": failed, "refund_id": r.json()["refund_id"]}
    b.close()


def _console_pages(w: dict[str, Any]) -> list[str]:
    return ["/console", "/console/goods", "/console/goods/new", "/console/goods/demo-hotpot/edit", "/console/orders",
            f"/console/orders/{w['paid']['order_id']}", "/console/refunds", "/console/verify", "/console/callbacks",
            "/console/attempts", "/console/settings", "/console/nope", "/console?span=30d", "/console/statement",
            "/console/statement?month=2026-12"]


def test_console_phone_layout_languages_and_axe(world: dict[str, Any], browser: Any) -> None:
    demo: Demo = world["demo"]
    c = demo.server
    # the refund is agreed by the demo merchant's pre_create_refund; wait until it has ended
    ctx = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = ctx.new_page()
    page.goto(c + "/console/refunds")
    _reload_until(page, f"[data-refund-id={world['refund_id']}][data-status=SUCCESS]")
    page.goto(c + "/console/callbacks")
    first_cb = page.locator("tr[data-callback-id]").first.get_attribute("data-callback-id")
    pages = [*_console_pages(world), f"/console/callbacks/{first_cb}"]
    for lang in ("zh-CN", "en"):
        page.goto(f"{c}/console/lang/{lang}?next=/console")
        for size in (SMALL, PHONE, DESKTOP):
            page.set_viewport_size(size)
            for path in pages:
                page.goto(c + path)
                got = page.evaluate(LAYOUT_JS)
                where = (lang, size["width"], path)
                assert got["pageWidth"] <= got["vw"], (where, got)  # nothing wider than the screen
                assert not got["wide"], (where, got)
                assert got["header"] < 64, (where, got)  # one row
                nav = got["nav"]
                assert nav["right"] <= got["vw"] + 0.5, (where, nav)
                if nav["scroll"] > nav["client"]:  # more than fits: it scrolls, with the scroll-shadow cue
                    assert nav["overflow"] == "auto" and "radial-gradient" in nav["bg"], (where, nav)
                if size is PHONE:
                    bad = check_page(page, f"{lang} {path}")
                    assert not bad, (where, describe(bad))
        # one language: the data's words on the pages changed for it
        page.set_viewport_size(PHONE)
        page.goto(c + "/console")
        net = page.locator("[data-testid=paid_24h]").inner_text()
        payable, unit = world["paid"]["total_amount"] - world["paid"].get("discount_amount", 0), 0
        unit = world["paid"]["item_orders"][0].get("price") or payable // 2
        assert net == f"¥{(payable - unit) / 100:.2f}", (net, payable, unit)
        label = page.locator("[data-testid=paid_24h]").locator("xpath=..").inner_text()
        assert ("扣除退款" if lang == "zh-CN" else "net of refunds") in label
        page.goto(c + "/console/orders")
        row = page.locator(f"tr[data-order-id={world['failed']['order_id']}]")
        assert row.locator("[data-testid=last-pay]").get_attribute("data-outcome") == "FAIL"
        status_text = row.locator("td").nth(4).inner_text()
        want = ("收银中 最近一次支付: 支付失败" if lang == "zh-CN"
                else "At the cashier Last payment attempt: payment failed")
        assert status_text.split() == want.split()
        shot(page, f"console-orders-{lang}-phone")
        page.goto(c + f"/console/orders/{world['paid']['order_id']}")
        events = page.locator("[data-testid=timeline] li span").all_inner_texts()
        refunds = page.locator("#main").inner_text() if False else page.locator("[data-testid=timeline]").inner_text()
        if lang == "en":
            assert not any(HAN.search(e) for e in events), events
        else:
            assert not any(ENGLISH_STATUS.search(e) for e in events), events
        assert refunds
        shot(page, f"console-order-{lang}-phone")
        page.goto(c + "/console/refunds")
        result = page.locator(f"[data-refund-id={world['refund_id']}] [data-testid=refund-result]").inner_text()
        assert result == ("已退款" if lang == "zh-CN" else "Refunded")
        page.set_viewport_size(SMALL)
        page.goto(c + "/console/settings")
        shot(page, f"console-settings-{lang}-360")
    for path in ("/", "/docs"):
        page.goto(c + path)
        if path == "/docs":
            page.wait_for_selector(".api-content h2", timeout=15000)
        bad = check_page(page, path)
        assert not bad, (path, describe(bad))
        shot(page, "home-phone" if path == "/" else "docs-phone")
    ctx.close()
    login = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
    login.goto(c + "/console/login")
    bad = check_page(login, "zh-CN /console/login")
    assert not bad, describe(bad)
    login.context.close()


def test_goods_form_every_error_and_a_self_updating_test_callback(world: dict[str, Any], browser: Any) -> None:
    c = world["demo"].server + "/console"
    for lang in ("zh-CN", "en"):
        ctx = browser.new_context(viewport=PHONE, locale=lang)
        page = ctx.new_page()
        page.goto(f"{c}/lang/{lang}?next=/console/goods/new")
        form = page.locator("[data-testid=goods-form]")
        form.locator("input[name=goods_id]").fill("phone-bad")
        form.locator("input[name=price]").fill("abc")
        form.locator("input[name=min_limits]").fill("6")
        form.locator("input[name=max_limits]").fill("5")
        for t in ("EXPIRED_RETURNS", "REFUND_ANYTIME", "RESERVATION_FREE", "REFUNDABLE_DAYS"):
            form.locator(f"input[name=label_{t}]").check()
        form.locator("input[name=value_REFUNDABLE_DAYS]").fill("3")
        page.click("[data-testid=save]")
        shown = {k: page.locator(f"[data-testid=error-{k}]").inner_text()
                 for k in ("name", "price", "labels", "limits")}
        for k, text in shown.items():
            assert text, k
            if lang == "en":
                assert not HAN.search(text), (k, text)
            else:
                assert "非商品库商品" not in text and not re.search(r"\bmust\b", text), (k, text)
        invalid = page.locator("[aria-invalid=true]").evaluate_all("es => es.map(e => e.name)")
        assert {"name", "price", "min_limits", "max_limits", "label_REFUND_ANYTIME"} <= set(invalid), invalid
        assert page.evaluate("document.activeElement.name") == "name"  # the first invalid field has the focus
        assert page.locator("input[name=name]").get_attribute("aria-describedby") == "error-name"
        border = page.locator("input[name=price]").evaluate("e => getComputedStyle(e).borderTopColor")
        assert border == "rgb(180, 45, 8)", border  # the visible mark
        bad = check_page(page, f"{lang} goods form with errors")
        assert not bad, describe(bad)
        shot(page, f"console-goods-errors-{lang}-phone")
        ctx.close()
    # a test callback: the page shows 发送中 and reloads itself until the callback is delivered
    ctx = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = ctx.new_page()
    page.goto(f"{c}/lang/zh-CN?next=/console/callbacks")
    page.select_option("#test-target", "payment")
    page.click("[data-testid=send-test]")
    assert "/console/callbacks/" in page.url
    page.wait_for_selector("[data-testid=callback][data-status=DONE]", timeout=20000)  # no reload by the test
    assert page.locator("[data-testid=callback-status]").inner_text() == "已送达"
    assert page.locator("meta[http-equiv=refresh]").count() == 0  # settled: no more reloads
    shot(page, "console-test-callback-done-phone")
    ctx.close()
