"""A reservation end to end (issue 22): a paid unit of the demo's BOOK_IN_ADVANCE good (demo-hotpot, 提前1日预约)
is booked through the OpenAPI (book/create_book) and confirmed (book_result_callback); the demo shop's order-detail
page shows the booking; the console's Verify page refuses the voucher before its day and redeems it on its day. The
trade server's clock is the system clock plus an offset the test moves (paybutton/clock.py's Clock)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from browser_helpers import Demo, open_page, shot

from paybutton.demo.seed import DEMO_APP_ID, DEMO_SECRET

pytestmark = pytest.mark.browser

BJ = timezone(timedelta(hours=8))


class OffsetClock:
    """The system clock plus an offset the test moves (read from the server's thread)."""

    def __init__(self) -> None:
        self.offset_ms = 0

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self.offset_ms


def at(day: str, hour: int, minute: int = 0) -> int:
    return int(datetime.fromisoformat(f"{day}T{hour:02d}:{minute:02d}:00").replace(tzinfo=BJ).timestamp() * 1000)


def paid_order(demo: Demo, open_id: str) -> tuple[str, str]:
    """A paid order of one demo-hotpot unit: its order id and item order id."""
    token = httpx.get(f"{demo.shop}/demo-login", params={"open_id": open_id}, timeout=30, trust_env=False).json()
    with httpx.Client(base_url=f"{demo.server}/api/buyer/v1", headers={"Authorization": f"Bearer {token['token']}"},
                      timeout=30, trust_env=False) as http:
        order = http.post("/orders", json={"goods_id": "demo-hotpot", "goods_type": 1, "quantity": 1}).json()
        assert http.post(f"/orders/{order['order_id']}/pay", json={"channel": "douyin"}).json()["outcome"] == "SUCCESS"
        got = http.get(f"/orders/{order['order_id']}").json()
    return str(order["order_id"]), str(got["item_orders"][0]["item_order_id"])


def openapi_at(demo: Demo, path: str, body: dict[str, Any]) -> dict[str, Any]:
    with httpx.Client(base_url=demo.server, timeout=30, trust_env=False) as http:
        tok = http.post("/oauth/client_token/", json={"grant_type": "client_credential", "client_key": DEMO_APP_ID,
                                                      "client_secret": DEMO_SECRET}).json()["data"]["access_token"]
        env: dict[str, Any] = http.post(path, json=body, headers={"access-token": tok}).json()
    assert env["extra"]["error_code"] == 0, env
    return env


def openapi(demo: Demo, path: str, body: dict[str, Any]) -> dict[str, Any]:
    return openapi_at(demo, f"/api/apps/trade/v2/{path}", body)


def verify_in_console(browser: Any, demo: Demo, code: str) -> Any:
    """The console's Verify page (demo mode signs in by itself) with the voucher's QR data; the page after."""
    ctx, page = open_page(browser, locale="zh-CN")
    page.goto(f"{demo.server}/console/verify")
    page.fill("input[name=code]", f"pbv1:{code}")
    page.click("button:has-text('核销')")
    page.wait_for_load_state()
    return ctx, page


def test_a_booked_unit_is_shown_and_redeemed_on_its_day(demo_factory: Any, browser: Any) -> None:
    clock = OffsetClock()
    demo: Demo = demo_factory(clock=clock)
    open_id = "booker"
    order_id, item_order_id = paid_order(demo, open_id)
    day = datetime.fromtimestamp(time.time() + 2 * 86400, BJ).strftime("%Y-%m-%d")  # 提前1日预约: 2 days ahead is fine
    made = openapi(demo, "book/create_book", {
        "order_id": order_id, "out_book_no": "DEMO-B1", "open_id": open_id,
        "item_book_info_list": [{"poi_id": "1", "shop_name": "世纪大厦店", "ext_shop_id": "s1",
                                 "goods_id": "demo-hotpot", "book_start_time": at(day, 10),
                                 "book_end_time": at(day, 12), "item_order_id": item_order_id}]})
    openapi(demo, "book/book_result_callback", {"book_id": made["data"]["book_id"], "result": 1})
    ctx, page = open_page(browser, locale="zh-CN")
    ctx.add_cookies([{"name": "demo_open_id", "value": open_id, "url": demo.shop}])
    try:
        page.goto(f"{demo.shop}/pages/orderDetail/orderDetail.html?orderId={order_id}")
        booking = page.locator("[data-testid=booking]")
        booking.wait_for()
        assert booking.inner_text() == f"已预约 {day}"
    except AssertionError:
        shot(page, "order-detail-booking")
        raise
    finally:
        ctx.close()
    can = openapi_at(demo, "/api/trade/v2/fulfillment/order_can_use", {"order_id": order_id})["data"]
    assert can["can_use"] is False  # booked for another day
    code = can["certificates"][0]["encrypted_code"]
    ctx, page = verify_in_console(browser, demo, code)  # today is before its day: refused, and says which day
    try:
        assert "只能在当天核销" in page.content() and day in page.content()
    finally:
        ctx.close()
    clock.offset_ms = at(day, 10, 30) - time.time_ns() // 1_000_000  # the booked day, 10:30 Beijing time
    ctx, page = verify_in_console(browser, demo, code)
    try:
        assert page.locator("[data-testid=verified]").inner_text().startswith(f"核销成功:订单 {order_id}")
    except AssertionError:
        shot(page, "console-verify-booked")
        raise
    finally:
        ctx.close()

