"""axe-core (the PyPI package axe-playwright-python, which bundles it) on every hosted page and the demo shop:
order-confirm, the cashier, refund-apply (with units left and with none), refund-detail, the voucher card page and
the shop's buy page. No serious or critical violation; the count goes into the run's axe summary line (conftest)."""

from __future__ import annotations

from typing import Any

import pytest
from axe_helpers import check_page, describe
from browser_helpers import Demo, open_page, shot

pytestmark = pytest.mark.browser


def check(page: Any, name: str) -> None:
    """axe-core on the page (its shadow roots included), tallied for the run's summary line (conftest); no serious or
    critical violation."""
    page.wait_for_load_state("networkidle")
    bad = check_page(page, f"hosted: {name}")
    assert not bad, f"{name}: " + describe(bad)


@pytest.mark.parametrize(("lang", "viewport"), [("zh-CN", "phone"), ("en", "desktop")])
def test_hosted_pages_and_the_demo_shop_have_no_serious_violations(demo: Demo, browser: Any, lang: str,
                                                                     viewport: str) -> None:
    ctx, page = open_page(browser, viewport, locale=lang)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    q = {"display": "redirect", **({"lang": "en"} if lang == "en" else {})}
    try:
        page.goto(demo.buy_page(**q))
        page.wait_for_selector("#buy-library button[data-state=on_sale]")
        page.wait_for_selector("#buy-soldout button[data-state=sold_out]")
        check(page, "demo shop")
        page.click("#buy-library button")
        page.wait_for_url(f"{demo.server}/pages/order-confirm?**")
        page.locator("#pay-now:enabled").wait_for()
        check(page, "order-confirm")
        page.locator("#qty-plus").click()
        page.locator("#pay-now").click()
        page.wait_for_url(f"{demo.server}/pages/cashier?**")
        page.locator("#confirm-pay:enabled").wait_for()
        check(page, "cashier")
        page.locator("#confirm-pay").click()
        page.wait_for_url("**/pages/orderDetail/orderDetail.html?orderId=*")
        page.locator("consume-card li").nth(1).wait_for()
        page.wait_for_selector("#order-button button[data-state=ready]")
        check(page, "order detail (voucher card)")
        page.click("#order-button button")
        page.wait_for_url(f"{demo.server}/pages/refund-apply?**")
        page.locator("#submit-refund:enabled").wait_for()
        check(page, "refund-apply")
        page.locator("#qty-plus").click()
        page.locator("#submit-refund").click()
        page.wait_for_url(f"{demo.server}/pages/refund-detail?**")
        page.locator("[data-testid=status][data-status]:not([data-status=''])").wait_for()
        check(page, "refund-detail")
        # refund-apply again: nothing is left to refund
        page.locator("#done").click()
        page.wait_for_url("**/pages/orderDetail/orderDetail.html?orderId=*")
        order_id = page.evaluate("new URLSearchParams(location.search).get('orderId')")
        page.evaluate("""(id) => { const b = document.createElement('pay-button'); b.id = 'again';
          b.setAttribute('order-status', '1'); b.setAttribute('order-id', id);
          document.querySelector('main').prepend(b); }""", order_id)
        page.click("#again button[data-state=ready]")
        page.wait_for_url(f"{demo.server}/pages/refund-apply?**")
        page.locator("[data-testid=nothing-left]").wait_for()
        check(page, "refund-apply, nothing left")
        shot(page, f"a11y-refund-apply-nothing-left-{viewport}-{lang}")
        assert not errors, errors
    finally:
        ctx.close()
