"""The purchase journey on the demo shop: buy page -> order-confirm -> sandbox cashier -> `pay` -> order detail."""

from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import DESKTOP, PHONE, Demo, shot

pytestmark = pytest.mark.browser

OVERLAY = "[data-pay-button-overlay] iframe"


def _events(page: Any, kind: str) -> list[dict[str, Any]]:
    page.wait_for_function(f"window.__events && window.__events.some(e => e.type === {kind!r})")
    evs: list[dict[str, Any]] = page.evaluate(f"window.__events.filter(e => e.type === {kind!r}).map(e => e.detail)")
    return evs


def test_overlay_purchase_of_a_library_good(demo: Demo, page: Any) -> None:
    page.goto(demo.buy_page())
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    assert page.locator("#buy-library button span").inner_text() == "立即抢购"
    page.click("#buy-library button")
    f = page.frame_locator(OVERLAY)
    f.locator("#pay-now:enabled").wait_for()
    assert f.locator("[data-testid=merchant]").inner_text() == "释集烤肉 · paybutton 演示店"
    assert f.locator("[data-testid=goods-name]").inner_text() == "双人火锅套餐"
    assert f.locator("[data-testid=price]").inner_text() == "¥168.00"
    assert f.locator(".pb-chip").all_inner_texts() == ["过期退", "随时退", "提前1日预约"]
    f.locator("#qty-plus").click()
    assert f.locator("[data-testid=payable]").inner_text() == "¥336.00"
    f.locator("#pay-now").click()
    f.locator("#confirm-pay:enabled").wait_for()
    assert f.locator("[data-testid=amount]").inner_text() == "¥336.00"
    assert f.locator("[data-testid=sandbox]").inner_text() == "沙盒"
    f.locator("#confirm-pay").click()
    (pay,) = _events(page, "pay")
    assert pay["status"] == "success"
    assert pay["result"]["code"] == 0
    assert pay["orderId"].startswith("ot") and pay["result"]["orderId"] == pay["orderId"]
    assert pay["outOrderNo"]
    assert page.locator("[data-pay-button-overlay]").count() == 0
    # the seed's onPay: tt.redirectTo('usr://pages/orderDetail/orderDetail?orderId=...')
    page.wait_for_url(f"**/pages/orderDetail/orderDetail.html?orderId={pay['orderId']}")
    assert page.locator("[data-testid=order-id]").inner_text() == f"orderid:{pay['orderId']}"
    texts = page.locator("pay-button button span").all_inner_texts()
    assert texts == ["申请退款", "退款中"]


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_redirect_purchase_of_the_merchant_good(demo: Demo, browser: Any, viewport: str) -> None:
    ctx = browser.new_context(viewport=PHONE if viewport == "phone" else DESKTOP)
    page = ctx.new_page()
    page.set_default_timeout(8000)
    try:
        page.goto(demo.buy_page(display="redirect"))
        page.wait_for_selector("#buy-merchant button[data-state=on_sale]")
        page.click("#buy-merchant button")
        page.wait_for_url(f"{demo.server}/pages/order-confirm?**")
        page.locator("#pay-now:enabled").wait_for()
        assert page.locator("[data-testid=price]").inner_text() == "¥99.00"
        assert page.locator(".pb-chip").all_inner_texts() == ["过期退", "随时退", "提前2日预约"]
        page.wait_for_load_state("networkidle")
        shot(page, f"order-confirm-{viewport}")
        page.locator("#pay-now").click()  # the merchant good requires a phone number
        assert page.locator("[data-testid=msg]").inner_text() == "请填写手机号"
        page.fill("#phone", "13800138000")
        page.locator("#pay-now").click()
        page.wait_for_url(f"{demo.server}/pages/cashier?**")
        page.locator("#confirm-pay:enabled").wait_for()
        shot(page, f"cashier-{viewport}")
        page.locator("#confirm-pay").click()
        page.wait_for_url(f"{demo.shop}/pages/index/index.html**")
        (pay,) = _events(page, "pay")
        assert pay["status"] == "success" and pay["result"]["code"] == 0
        assert pay["orderId"] and pay["outOrderNo"]
        page.wait_for_url("**/orderDetail.html?orderId=*")
    finally:
        ctx.close()


@pytest.mark.parametrize(("scenario", "code", "err_no"), [("fail", 2, 10000), ("cancel", 4, None),
                                                         ("app_missing", 2, 10002)])
def test_cashier_outcomes_give_the_seed_payloads(demo: Demo, page: Any, scenario: str, code: int,
                                                 err_no: int | None) -> None:
    page.goto(demo.buy_page())
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    page.click("#buy-library button")
    f = page.frame_locator(OVERLAY)
    f.locator("#pay-now:enabled").click()
    f.locator("#confirm-pay:enabled").wait_for()
    if scenario == "cancel":
        f.locator("#cancel-pay").click()
    else:
        f.locator("[data-testid=scenario]").select_option(scenario)
        f.locator("#confirm-pay").click()
    (pay,) = _events(page, "pay")
    assert pay["status"] == "success"
    assert pay["result"]["code"] == code
    assert pay["orderId"] and pay["outOrderNo"]
    if err_no is not None:
        (err,) = _events(page, "error")
        assert err["errNo"] == err_no and err["errMsg"] and "errLogId" in err
    page.wait_for_timeout(1200)  # the seed's onPay redirects on code 0 only
    assert "/pages/index/index.html" in page.url


def test_english_pages(demo: Demo, page: Any) -> None:
    page.goto(demo.buy_page(lang="en"))
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    assert page.locator("#buy-library button span").inner_text() == "Buy now"
    page.click("#buy-library button")
    f = page.frame_locator(OVERLAY)
    f.locator("#pay-now:enabled").wait_for()
    assert f.locator("#pay-now").inner_text() == "Pay now"
    assert f.locator(".pb-chip").first.inner_text() == "Refund if expired"
    f.locator("#pay-now").click()
    f.locator("#confirm-pay:enabled").wait_for()
    assert f.locator("[data-testid=sandbox]").inner_text() == "SANDBOX"
