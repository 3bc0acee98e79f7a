"""The demo shop's order-detail page (issue 18 item 15): the order's true state, 申请退款 only while something can
be refunded (never twice), and ?lang=en honoured, at both sizes."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from browser_helpers import Demo, open_page, shot

pytestmark = pytest.mark.browser


def refunded_order(demo: Demo, open_id: str) -> str:
    """A paid order of one unit, refunded in full at the buyer's request."""
    login = httpx.get(f"{demo.shop}/demo-login", params={"open_id": open_id}, timeout=30, trust_env=False)
    token = login.json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"{demo.server}/api/buyer/v1", headers=auth, timeout=30, trust_env=False) as http:
        order_id = str(http.post("/orders", json={"goods_id": "demo-hotpot", "goods_type": 1, "quantity": 1})
                       .json()["order_id"])
        assert http.post(f"/orders/{order_id}/pay", json={"channel": "douyin"}).json()["outcome"] == "SUCCESS"
        applied = http.post(f"/orders/{order_id}/refunds", json={"quantity": 1})
        assert applied.status_code == 200 and applied.json().get("refund_id"), applied.text
        assert http.get(f"/orders/{order_id}/refundable").json()["refundable_amount"] == 0
        deadline = time.monotonic() + 20
        while http.get(f"/orders/{order_id}/refunds").json()["order_status"] != 3:  # 退款成功
            assert time.monotonic() < deadline
            time.sleep(0.2)
    return order_id


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_refunded_order_is_not_shown_as_paid(demo: Demo, browser: Any, viewport: str, lang: str) -> None:
    open_id = f"detail-{viewport}-{lang}"
    order_id = refunded_order(demo, open_id)
    ctx, page = open_page(browser, viewport)
    ctx.add_cookies([{"name": "demo_open_id", "value": open_id, "url": demo.shop}])
    try:
        query = "&lang=en" if lang == "en" else ""
        page.goto(f"{demo.shop}/pages/orderDetail/orderDetail.html?orderId={order_id}{query}")
        page.wait_for_selector("#refund-button button")
        title = page.locator("[data-testid=order-title]")
        try:
            assert title.inner_text() == ("Refunded in full" if lang == "en" else "订单已全部退款")
            assert page.locator("h1").inner_text() == ("Order details" if lang == "en" else "订单详情")
            # nothing left to refund: no 申请退款, and only the refund's own button
            assert page.locator("#order-button").count() == 0
            assert page.locator("pay-button").count() == 1
            assert page.locator("pay-button button span").all_inner_texts() == (
                ["Refunded"] if lang == "en" else ["退款成功"])
        except AssertionError:
            shot(page, f"order-detail-refunded-{viewport}-{lang}")
            raise
    finally:
        ctx.close()
