"""A developer-created order (order/create_order) paid through `<pay-button mode="1" order-status="0">` on the demo
shop, as a button's order is: the hosted cashier, the seed's `pay` event, the order-detail page whose voucher card
shows the guidance line the app picked with toolkit/update_merchant_conf (issue 22)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from browser_helpers import Demo, add_button, shot

pytestmark = pytest.mark.browser

DEMO_APP = "tt5eed000000000001"
DEMO_SECRET = "demo-secret-not-for-production"


def openapi(demo: Demo, path: str, body: dict[str, Any]) -> dict[str, Any]:
    with httpx.Client(base_url=demo.server, timeout=30, trust_env=False) as http:
        token = http.post("/oauth/client_token/", json={"grant_type": "client_credential", "client_key": DEMO_APP,
                                                         "client_secret": DEMO_SECRET}).json()["data"]["access_token"]
        env: dict[str, Any] = http.post(path, json=body, headers={"access-token": token}).json()
    assert env["extra"]["error_code"] == 0, env
    return env


def test_a_developer_order_is_paid_with_the_mode_1_button(demo: Demo, page: Any) -> None:
    page.goto(demo.buy_page())
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    who = page.evaluate("() => fetch('/demo-login').then(r => r.json())")  # the shop's buyer (its cookie)
    made = openapi(demo, "/api/apps/trade/v2/order/create_order", {
        "out_order_no": "DEV-BROWSER-1", "open_id": who["open_id"], "total_amount": 16800, "discount_amount": 800,
        "goods_list": [{"goods_id": "demo-hotpot", "goods_id_type": 1, "price": 16800, "quantity": 1}]})["data"]
    openapi(demo, "/api/apps/trade/v2/toolkit/update_merchant_conf", {
        "bind_biz_type": 0, "account_id": "demo", "delivery_app_info": {
            "guidance_text_id": "te7248537436261777452", "button_text_id": "te7249570906215956524"}})
    add_button(page, "dev", mode="{{1}}", order_status="{{0}}", order_id=made["order_id"], **{"bind:pay": "onPay"})
    assert page.locator("#dev button[data-state=ready] span").inner_text() == "继续支付"
    page.click("#dev button")
    f = page.frame_locator("[data-pay-button-overlay=cashier] iframe")
    f.locator("#confirm-pay:enabled").wait_for()
    assert f.locator("[data-testid=amount]").inner_text() == "¥160.00"  # 168.00 less the developer's 8.00
    f.locator("#confirm-pay").click()
    page.wait_for_url(f"**/orderDetail.html?orderId={made['order_id']}")
    card = page.locator("consume-card")
    card.locator("li").first.wait_for()
    assert card.locator("small[data-guide]").inner_text() == "小程序提前用，到店享服务"
    assert card.locator("li[data-state=待使用]").count() == 1
    shot(page, "dev-order-detail")
    paid = openapi(demo, "/api/apps/trade/v2/order/query_order", {"out_order_no": "DEV-BROWSER-1"})["data"]
    assert (paid["order_id"], paid["order_status"], paid["total_fee"]) == (made["order_id"], "SUCCESS", 16000)
