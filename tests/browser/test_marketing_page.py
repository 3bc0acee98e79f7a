"""Marketing on the demo: with marketing-ready and each marketingVersion the demo merchant offers two promotions
(a goods-level 立减券 ¥12.35 and an order-level 满 198 减 30); the buyer switches between them; the payable shown,
the pre_create_order body and the item prices agree to the fen; with the merchant's marketing endpoint down the
sale completes at full price."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_helpers import Demo, events, keep_events, open_page, shot
from playwright.sync_api import expect

from paybutton import buyer_token
from paybutton.demo.seed import DEMO_APP_ID, DEMO_SECRET

pytestmark = pytest.mark.browser

OVERLAY = "[data-pay-button-overlay] iframe"
COUPON = "DEMO-COUPON-1235"
FULL_CUT = "DEMO-FULL-198-30"


def _marketing_ready(page: Any, button: str) -> None:
    """The merchant's page sets marketing-ready on its button (the seed's attribute)."""
    page.wait_for_selector(f"#{button} button[data-state=on_sale]")
    page.evaluate(f"document.getElementById({button!r}).setAttribute('marketing-ready', '{{{{true}}}}'); "
                  "new Promise(r => setTimeout(r, 50))")  # the button refreshes on an attribute change
    page.wait_for_selector(f"#{button} button[data-state=on_sale]")


def _priced(f: Any, payable: str, discount: str) -> None:
    """Wait until the block has re-priced and shows these amounts."""
    expect(f.locator("#pay-now.pb-wait")).to_have_count(0)
    expect(f.locator("[data-testid=payable]")).to_have_text(payable)
    expect(f.locator("[data-testid=discount]")).to_have_text(discount)


def _pick(f: Any, offer: str) -> None:
    f.locator(f"[data-offer='{offer}']").click()


def _checked(f: Any) -> str:
    value: str = f.locator("#mkt-list input:checked").get_attribute("value") or ""
    return value


def _received(demo: Demo) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = httpx.get(f"{demo.shop}/merchant/callbacks", trust_env=False).json()["received"]
    return got


def _server_order(demo: Demo, open_id: str, order_id: str) -> dict[str, Any]:
    token = buyer_token.mint(DEMO_APP_ID, DEMO_SECRET, open_id)
    r = httpx.get(f"{demo.server}/api/buyer/v1/orders/{order_id}", headers={"Authorization": f"Bearer {token}"},
                  trust_env=False)
    assert r.status_code == 200, r.text
    order: dict[str, Any] = r.json()
    return order


def _agree(demo: Demo, order_id: str, payable: int, discount: int, total: int) -> dict[str, Any]:
    """The pre_create_order the merchant received, the order's item prices and the payable agree to the fen."""
    got = _received(demo)
    (pre,) = [c["msg"] for c in got if c["type"] == "pre_create_order" and c["msg"]["order_id"] == order_id]
    assert (pre["total_amount"], pre["discount"]) == (total, discount)
    items = [i["price"] for i in pre["item_order_info_list"]]
    assert sum(items) == payable and max(items) - min(items) <= 1
    order = _server_order(demo, pre["open_id"], order_id)
    assert (order["total_amount"], order["discount_amount"], order["payable"]) == (total, discount, payable)
    assert [i["price"] for i in order["item_orders"]] == items
    detail = pre["price_calculation_detail"]
    if discount:
        assert detail["order_discount_detail"]["order_total_discount_amount"] == discount
        assert order["price_calculation_detail"] == detail
    else:
        assert detail is None
    return pre


@pytest.mark.parametrize("version", [1, 2])
def test_switching_promotions_and_paying_with_each_marketing_version(demo: Demo, page: Any, version: int) -> None:
    page.goto(demo.buy_page(mv=str(version), marketing="1"))  # the demo shop's own switch sets marketing-ready
    expect(page.locator("#buy-library")).to_have_attribute("marketing-ready", "true")
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    page.click("#buy-library button")
    f = page.frame_locator(OVERLAY)
    expect(f.locator("#mkt")).to_have_attribute("data-state", "ok")
    expect(f.locator("#mkt")).to_have_attribute("data-version", str(version))
    assert f.locator(".pb-mkt .pb-sub").first.inner_text().startswith("优惠券与活动")
    # one unit (¥168): only the coupon is usable; 满减 is listed with the merchant's reason
    _priced(f, "¥155.65", "-¥12.35")
    assert _checked(f) == COUPON
    assert "pb-off" in (f.locator(f"[data-offer='{FULL_CUT}']").get_attribute("class") or "")
    assert "订单未满 ¥198" in f.locator(f"[data-offer='{FULL_CUT}']").inner_text()
    shot(page, f"marketing-v{version}-one-unit-phone")
    # two units (¥336): version 1 keeps the first usable offer, version 2 takes the merchant's default (the best)
    f.locator("#qty-plus").click()
    if version == 1:
        _priced(f, "¥323.65", "-¥12.35")
        assert _checked(f) == COUPON
        _pick(f, FULL_CUT)
        _priced(f, "¥306.00", "-¥30.00")
        assert _checked(f) == FULL_CUT
    else:
        _priced(f, "¥306.00", "-¥30.00")
        assert _checked(f) == FULL_CUT
        _pick(f, COUPON)
        _priced(f, "¥323.65", "-¥12.35")
        _pick(f, FULL_CUT)
        _priced(f, "¥306.00", "-¥30.00")
    assert f.locator(f"[data-offer='{FULL_CUT}'] .pb-mkt-amt").inner_text() == "-¥30.00"
    _pick(f, "")  # 不使用优惠
    _priced(f, "¥336.00", "-¥0.00")
    _pick(f, COUPON)
    _priced(f, "¥323.65", "-¥12.35")
    # three units keep the buyer's choice: ¥504 − ¥12.35 does not split evenly over the units
    f.locator("#qty-plus").click()
    _priced(f, "¥491.65", "-¥12.35")
    assert _checked(f) == COUPON
    assert f.locator("[data-testid=total]").inner_text() == "¥504.00"
    shot(page, f"marketing-v{version}-phone")
    f.locator("#pay-now").click()
    f.locator("#confirm-pay:enabled").wait_for()
    assert f.locator("[data-testid=amount]").inner_text() == "¥491.65"
    f.locator("#confirm-pay").click()
    (pay,) = events(page, "pay")
    assert pay["status"] == "success" and pay["result"]["code"] == 0
    pre = _agree(demo, pay["orderId"], payable=49165, discount=1235, total=50400)
    assert sorted(i["price"] for i in pre["item_order_info_list"]) == [16388, 16388, 16389]
    applied = pre["price_calculation_detail"]["goods_discount_detail"][0]["marketing_detail_info"]
    assert [a["id"] for a in applied] == [COUPON]
    # the server asked the merchant again when the order was placed, with the buyer's choice
    got = _received(demo)
    at = next(i for i, c in enumerate(got)
              if c["type"] == "pre_create_order" and c["msg"]["order_id"] == pay["orderId"])
    last = got[at - 1]
    assert last["type"] == ("calculate_price" if version == 1 else "query_and_calculate")
    if version == 1:
        assert last["msg"]["goods_calculation_info"][0]["using_marketing"] == [{"id": COUPON, "type": 1}]
    else:
        assert last["msg"]["need_default_marketing"] is False
        assert last["msg"]["goods_marketing_info"][0]["selected_marketing"] == [{"id": COUPON, "type": 1}]


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_the_merchant_good_with_the_default_promotion(demo: Demo, browser: Any, viewport: str) -> None:
    lang = "zh-CN" if viewport == "phone" else "en"
    ctx, page = open_page(browser, viewport, locale=lang)
    keep_events(page)  # the shop leaves index.html 1 s after the pay event: keep it past that
    try:
        page.goto(demo.buy_page(display="redirect", **({"lang": "en"} if lang == "en" else {})))
        _marketing_ready(page, "buy-merchant")
        page.click("#buy-merchant button")
        page.wait_for_url(f"{demo.server}/pages/order-confirm?**")
        expect(page.locator("#mkt")).to_have_attribute("data-version", "2")  # the shop's getGoodsInfo says 2
        _priced(page, "¥86.65", "-¥12.35")  # ¥99: only the coupon
        page.locator("#qty-plus").click()
        _priced(page, "¥168.00", "-¥30.00")  # ¥198: the merchant's default is 满 198 减 30
        title = "Coupons & promotions" if lang == "en" else "优惠券与活动"
        assert page.locator(".pb-mkt .pb-sub").first.inner_text().startswith(title)
        assert page.locator("#mkt-list input").count() == 3  # two offers and "no offer"
        page.fill("#phone", "13800138000")
        page.wait_for_load_state("networkidle")
        shot(page, f"marketing-order-confirm-{viewport}")
        page.locator("#pay-now").click()
        page.wait_for_url(f"{demo.server}/pages/cashier?**")
        page.locator("#confirm-pay:enabled").wait_for()
        assert page.locator("[data-testid=amount]").inner_text() == "¥168.00"
        page.locator("#confirm-pay").click()
        page.wait_for_url(f"{demo.shop}/pages/index/index.html**")
        (pay,) = events(page, "pay")
        assert pay["status"] == "success" and pay["result"]["code"] == 0
        pre = _agree(demo, pay["orderId"], payable=16800, discount=3000, total=19800)
        assert [i["price"] for i in pre["item_order_info_list"]] == [8400, 8400]
    finally:
        ctx.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _point_marketing_at_a_closed_port(tmp_path: Path) -> None:
    """`paybutton app update --marketing-url` on the demo's database: the merchant's marketing endpoint is down."""
    cli = Path(sys.executable).parent / "paybutton"
    subprocess.run([str(cli), "app", "update", DEMO_APP_ID, "--marketing-url",
                    f"http://127.0.0.1:{_closed_port()}/marketing", "--database",
                    f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"], check=True, capture_output=True)


def test_with_the_marketing_endpoint_down_the_sale_completes_at_full_price(demo: Demo, page: Any,
                                                                          tmp_path: Path) -> None:
    _point_marketing_at_a_closed_port(tmp_path)  # before the server first reads the app
    page.goto(demo.buy_page(mv="2"))
    _marketing_ready(page, "buy-library")
    page.click("#buy-library button")
    f = page.frame_locator(OVERLAY)
    expect(f.locator("#mkt")).to_have_attribute("data-state", "off")
    expect(f.locator("[data-testid=mkt-note]")).to_have_text("优惠暂不可用,按原价支付")
    _priced(f, "¥168.00", "-¥0.00")
    assert f.locator("#mkt-list input").count() == 0
    f.locator("#qty-plus").click()
    _priced(f, "¥336.00", "-¥0.00")
    shot(page, "marketing-down-phone")
    f.locator("#pay-now").click()
    f.locator("#confirm-pay:enabled").wait_for()
    assert f.locator("[data-testid=amount]").inner_text() == "¥336.00"
    f.locator("#confirm-pay").click()
    (pay,) = events(page, "pay")
    assert pay["status"] == "success" and pay["result"]["code"] == 0
    _agree(demo, pay["orderId"], payable=33600, discount=0, total=33600)


def test_marketing_failing_at_order_time_shows_the_full_price_before_selling(demo: Demo, page: Any,
                                                                            tmp_path: Path) -> None:
    page.goto(demo.buy_page(mv="1"))
    _marketing_ready(page, "buy-library")
    page.click("#buy-library button")
    f = page.frame_locator(OVERLAY)
    _priced(f, "¥155.65", "-¥12.35")
    f.locator("#qty-plus").click()
    _priced(f, "¥323.65", "-¥12.35")
    _point_marketing_at_a_closed_port(tmp_path)
    page.wait_for_timeout(2300)  # the server's app cache serves no row older than 2 s: the pay reads the new URL
    f.locator("#pay-now").click()  # the server re-asks the merchant, which is down: the buyer saw a discount
    expect(f.locator("[data-testid=mkt-note]")).to_have_text("优惠暂不可用,按原价支付")
    expect(f.locator("[data-testid=msg]")).to_have_text("优惠暂不可用,按原价支付")
    _priced(f, "¥336.00", "-¥0.00")
    assert f.locator("#confirm-pay").count() == 0  # still on order-confirm: nothing sold at a price not shown
    f.locator("#pay-now").click()
    f.locator("#confirm-pay:enabled").wait_for()
    assert f.locator("[data-testid=amount]").inner_text() == "¥336.00"
    f.locator("#confirm-pay").click()
    (pay,) = events(page, "pay")
    assert pay["status"] == "success" and pay["result"]["code"] == 0
    _agree(demo, pay["orderId"], payable=33600, discount=0, total=33600)
