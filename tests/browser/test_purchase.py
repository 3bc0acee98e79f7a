"""The purchase journey on the demo shop: buy page -> order-confirm -> sandbox cashier -> `pay` -> order detail."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import (
    Demo,
    add_button,
    callbacks,
    events,
    keep_events,
    open_page,
    shot,
    update_demo_app,
)
from merchant_stub import MerchantStub, Received, ok, refuse
from starlette.responses import Response

pytestmark = pytest.mark.browser

OVERLAY = "[data-pay-button-overlay] iframe"


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
    (pay,) = events(page, "pay")
    assert pay["status"] == "success"
    assert pay["result"]["code"] == 0
    assert pay["orderId"].startswith("ot") and pay["result"]["orderId"] == pay["orderId"]
    assert pay["outOrderNo"]
    assert page.locator("[data-pay-button-overlay]").count() == 0
    # the seed's onPay: tt.redirectTo('usr://pages/orderDetail/orderDetail?orderId=...')
    page.wait_for_url(f"**/pages/orderDetail/orderDetail.html?orderId={pay['orderId']}")
    assert page.locator("[data-testid=order-id]").inner_text() == f"orderid:{pay['orderId']}"
    page.wait_for_selector("#order-button button[data-state=ready]")
    # a fresh order has no refund: 申请退款 only (no 退款中 button that opens a refund that does not exist), and the
    # order's own goods picture and name
    texts = page.locator("pay-button button span").all_inner_texts()
    assert texts == ["申请退款"]
    assert page.locator("[data-testid=goods-name]").inner_text() == "双人火锅套餐 × 2"
    assert page.locator("[data-testid=goods-photo]").get_attribute("src") == f"{demo.server}/static/demo/hotpot.svg"
    assert page.locator("[data-testid=order-title]").inner_text() == "订单已支付"


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_redirect_purchase_of_the_merchant_good(demo: Demo, browser: Any, viewport: str) -> None:
    ctx, page = open_page(browser, viewport)
    keep_events(page)  # the shop leaves index.html 1 s after the pay event: keep it past that
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
        (pay,) = events(page, "pay")
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
    (pay,) = events(page, "pay")
    assert pay["status"] == "success"
    assert pay["result"]["code"] == code
    assert pay["orderId"] and pay["outOrderNo"]
    if err_no is not None:
        (err,) = events(page, "error")
        assert err["errNo"] == err_no and err["errMsg"]
        assert err["errLogId"]  # the log id of the cashier's answer, as other errors carry theirs
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
    # the chip wording is the server's (goods/rules.py), as in the console, the CLI and the voucher card
    assert f.locator(".pb-chip").first.inner_text() == "Refund on expiry"
    f.locator("#pay-now").click()
    f.locator("#confirm-pay:enabled").wait_for()
    assert f.locator("[data-testid=sandbox]").inner_text() == "SANDBOX"


def _garbage(rec: Received) -> Response:
    return ok({"pay_expire_seconds": 300})  # err_no 0 but no out_order_no


def _server_error(rec: Received) -> Response:
    return Response("boom", status_code=500)


BUSY_MERCHANT = "商家暂时无法处理订单,请稍后再试"


@pytest.mark.parametrize(("answer", "err_no", "said"), [(_garbage, 21517, BUSY_MERCHANT),
                                                        (_server_error, 21517, BUSY_MERCHANT),
                                                        (lambda rec: refuse(40001, "库存不足"), 21518,
                                                         "商家未接受这笔订单")])
def test_the_merchant_refuses_or_answers_garbage(demo: Demo, page: Any, live_factory: Any, tmp_path: Path,
                                                 answer: Any, err_no: int, said: str) -> None:
    """The merchant's pre_create_order (a real HTTP server here) refuses (21518) or answers without a valid
    out_order_no or fails (21517): order-confirm says so in the buyer's words (not the API's errMsg, issue 18
    item 5), the button's `pay` fails and `error` carries the code and the seed's errMsg."""
    stub = MerchantStub(answers={"pre_create_order": answer})
    merchant = live_factory(stub.asgi())
    update_demo_app(tmp_path / "demo.db", pre_order_url=f"{merchant.url}/pre_create_order")
    page.goto(demo.buy_page())
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    stock = page.evaluate(STOCK_JS)
    page.click("#buy-library button")
    f = page.frame_locator(OVERLAY)
    f.locator("#pay-now:enabled").click()
    (pay,) = events(page, "pay")
    (err,) = events(page, "error")
    assert pay["status"] == "fail" and pay["result"]["errMsg"]
    assert err["errNo"] == err_no and err["errMsg"] and err["errLogId"]
    assert f.locator("[data-testid=msg]").inner_text() == said
    assert len(stub.of_type("pre_create_order")) == 1
    # the order failed and gave its stock back; the page stays open for another try
    assert page.evaluate(STOCK_JS) == stock
    assert f.locator("#pay-now").is_enabled()
    assert f.locator("#confirm-pay").count() == 0


STOCK_JS = """() => window.__payButton.bridge()('GET', '/api/buyer/v1/goods/demo-hotpot?app_id=' +
  window.__payButton.appId).then(g => g.stock)"""


def test_tt_pay_opens_the_cashier_for_an_order(demo: Demo, page: Any) -> None:
    """tt.pay({orderInfo}) from page code: the cashier for an unpaid order, then success / fail callbacks."""
    page.goto(demo.buy_page())
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    order_id = page.evaluate("""() => new Promise((resolve, reject) => tt.login({fail: reject, success: () =>
      window.__payButton.bridge()('POST', '/api/buyer/v1/orders', {goods_id: 'demo-hotpot', goods_type: 1,
        quantity: 1}, tt.__token).then(o => resolve(o.order_id), reject)}))""")
    page.evaluate("""(id) => tt.pay({orderInfo: {order_id: id},
      success: res => { window.__paid = ['success', res]; }, fail: res => { window.__paid = ['fail', res]; }})""",
                  order_id)
    f = page.frame_locator("[data-pay-button-overlay=cashier] iframe")
    f.locator("#confirm-pay:enabled").click()
    page.wait_for_function("window.__paid")
    assert page.evaluate("window.__paid") == ["success", {"code": 0, "orderId": order_id}]
    assert page.locator("pay-button[order-id]").count() == 0  # tt.pay's own hidden button is gone


CLOSE = "[data-pay-button-overlay] button[aria-label]"


def test_closing_the_cashier_overlay_is_the_seeds_user_close(demo: Demo, page: Any) -> None:
    """The seed: bind:pay is called when the buyer 选择关闭收银台取消支付 — status success, code 3 (closed)."""
    page.goto(demo.buy_page())
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    page.click("#buy-library button")
    f = page.frame_locator(OVERLAY)
    f.locator("#pay-now:enabled").click()
    f.locator("#confirm-pay:enabled").wait_for()
    page.locator(CLOSE).click()
    (pay,) = events(page, "pay")
    assert pay["status"] == "success" and pay["result"] == {"code": 3, "orderId": pay["orderId"]}
    assert pay["orderId"].startswith("ot") and pay["outOrderNo"]
    page.wait_for_selector("[data-pay-button-overlay]", state="detached")
    page.wait_for_timeout(1800)  # past the overlay's own fallback: still once, no error, nothing charged
    assert [e["type"] for e in page.evaluate("window.__events")] == ["pay"]
    assert "/pages/index/index.html" in page.url
    # x on order-confirm: closed, no event
    page.click("#buy-library button")
    f.locator("#pay-now:enabled").wait_for()
    page.locator(CLOSE).click()
    page.wait_for_selector("[data-pay-button-overlay]", state="detached")
    page.wait_for_timeout(300)
    assert len(page.evaluate("window.__events")) == 1
    # the closed order is still unpaid: a mode-1 button (order-status 0) continues it, by the platform order id
    page.evaluate("""(id) => { const b = document.createElement('pay-button'); b.id = 'cont';
      b.setAttribute('order-id', id); b.setAttribute('bind:pay', 'onPay');
      document.querySelector('main').prepend(b); }""", pay["orderId"])
    assert page.locator("#cont button[data-state=ready] span").inner_text() == "继续支付"
    page.click("#cont button")
    page.frame_locator("[data-pay-button-overlay=cashier] iframe").locator("#confirm-pay:enabled").click()
    page.wait_for_function("window.__events.filter(e => e.type === 'pay').length === 2")
    paid = page.evaluate("window.__events[1].detail")
    assert paid["status"] == "success" and paid["result"]["code"] == 0 and paid["orderId"] == pay["orderId"]
    page.wait_for_url(f"**/orderDetail.html?orderId={pay['orderId']}")


# every `pay` / `error` a <pay-button> dispatches, kept across the page's navigations (they do not bubble: capture)
RECORD_JS = """for (const n of ['pay', 'error']) window.addEventListener(n, e => {
  if (e instanceof CustomEvent && e.target.localName === 'pay-button') window.__record(n, e.detail); }, true);"""


def test_closing_the_overlay_while_the_payment_is_in_flight_keeps_its_result(demo: Demo, page: Any) -> None:
    """x while the cashier's pay request is out (slower than the overlay's fallback): the cashier says busy, the
    overlay waits, and the paid result arrives once — not a user close (code 3), not nothing."""
    got: list[tuple[str, dict[str, Any]]] = []
    page.expose_function("__record", lambda name, detail: got.append((name, detail)))
    page.add_init_script(RECORD_JS)

    def slow(route: Any) -> None:
        time.sleep(2.5)
        route.continue_()

    page.route("**/api/buyer/v1/orders/*/pay", slow)
    page.goto(demo.buy_page())
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    page.click("#buy-library button")
    f = page.frame_locator(OVERLAY)
    f.locator("#pay-now:enabled").click()
    f.locator("#confirm-pay:enabled").wait_for()
    # the page's own timer clicks x 0.4 s into the request (the route holds Playwright while it waits)
    page.evaluate(f"setTimeout(() => document.querySelector({CLOSE!r}).click(), 400)")
    f.locator("#confirm-pay").click()
    page.wait_for_url("**/pages/orderDetail/orderDetail.html?orderId=*", timeout=15000)
    page.wait_for_timeout(1000)
    assert [name for name, _ in got] == ["pay"]
    pay = got[0][1]
    assert pay["status"] == "success" and pay["result"] == {"code": 0, "orderId": pay["orderId"]}
    assert page.url.endswith(f"orderId={pay['orderId']}")


def test_mode1_continue_pays_an_order_given_by_out_order_no(demo: Demo, page: Any) -> None:
    """<pay-button mode=1 order-status=0 order-id=OUT_ORDER_NO bind:pay>: cashier -> success -> pay."""
    page.goto(demo.buy_page())
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    order = page.evaluate("""() => new Promise((resolve, reject) => tt.login({fail: reject, success: () =>
      window.__payButton.bridge()('POST', '/api/buyer/v1/orders', {goods_id: 'demo-hotpot', goods_type: 1,
        quantity: 1}, tt.__token).then(resolve, reject)}))""")
    assert order["out_order_no"] and order["out_order_no"] != order["order_id"]
    add_button(page, "cont", mode="{{1}}", order_status="{{0}}", order_id=order["out_order_no"],
               **{"bind:pay": "onPay"})
    assert page.locator("#cont button[data-state=ready] span").inner_text() == "继续支付"
    page.click("#cont button")
    f = page.frame_locator("[data-pay-button-overlay=cashier] iframe")
    f.locator("#confirm-pay:enabled").wait_for()
    assert f.locator("[data-testid=amount]").inner_text() == "¥168.00"
    f.locator("#confirm-pay").click()
    (pay,) = events(page, "pay")
    assert pay["status"] == "success" and pay["result"] == {"code": 0, "orderId": order["order_id"]}
    assert pay["orderId"] == order["order_id"] and pay["outOrderNo"] == order["out_order_no"]
    page.wait_for_url(f"**/orderDetail.html?orderId={order['order_id']}")


EXTRA_JS = "window.extraInfo = () => Promise.resolve({extra: {campaign: '春季', n: 1}});"


def test_goods_extra_reaches_the_merchant_as_cp_extra(demo: Demo, page: Any) -> None:
    """getgoodsinfo's extra, JSON-stringified, is the order's cp_extra in pre_create_order; none: no cp_extra."""
    page.goto(demo.buy_page())
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    page.evaluate(EXTRA_JS)
    add_button(page, "x", mode="2", goods_type="1", goods_id="demo-hotpot",
               **{"bind:getgoodsinfo": "extraInfo", "bind:placeorder": "okPlace", "bind:pay": "okPay"})
    page.click("#x button[data-state=on_sale]")
    f = page.frame_locator(OVERLAY)
    f.locator("#pay-now:enabled").click()
    f.locator("#confirm-pay:enabled").wait_for()
    (pre,) = callbacks(demo, "pre_create_order")
    assert pre["cp_extra"] == '{"campaign":"春季","n":1}'
    page.locator(CLOSE).click()
    page.wait_for_selector("[data-pay-button-overlay]", state="detached")
    # the page's own button: the seed's getGoodsInfo for a library good has no extra
    page.click("#buy-library button")
    f.locator("#pay-now:enabled").click()
    f.locator("#confirm-pay:enabled").wait_for()
    first, second = callbacks(demo, "pre_create_order", 2)
    assert second["cp_extra"] == "" and second["order_id"] != first["order_id"]
