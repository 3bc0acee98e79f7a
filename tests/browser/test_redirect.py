"""display="redirect": the hosted pages as full pages, back to the shop with the events; their back control."""

from __future__ import annotations

import json
from typing import Any

import pytest
from browser_helpers import Demo, callbacks, events, keep_events

pytestmark = pytest.mark.browser

# The seed's 指定金额退 applyRefund on the order-detail page: the first of the order's units, plus a field to pass on.
ITEMS_JS = """async () => {
  const id = new URLSearchParams(location.search).get('orderId');
  const o = await window.__payButton.bridge()('GET', '/api/buyer/v1/orders/' + id, null, tt.__token);
  tt.__page.applyRefund = (event) => {
    const { orderId } = event.detail;
    const itemOrderList = [{itemOrderId: o.item_orders[0].item_order_id}];
    return new Promise(resolve => { resolve({ orderId, itemOrderList, from: 'redirect' }); });
  };
  return o.item_orders.map(i => i.item_order_id);
}"""

# which element each delivered event reached (the events do not bubble; a capturing listener sees them)
TARGETS_JS = """for (const n of ['pay', 'refund', 'error'])
  window.addEventListener(n, e => { if (e.target.localName)
    (window.__targets = window.__targets || []).push([n, e.target.localName]); }, true);"""


def test_the_whole_journey_in_redirect_mode(demo_factory: Any, page: Any) -> None:
    demo: Demo = demo_factory(run_workers=True, dispatch_interval_seconds=0.1)
    keep_events(page)  # the shop leaves index.html 1 s after a paid `pay` event: keep it past that
    page.goto(demo.buy_page(display="redirect"))
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    page.click("#buy-library button")
    page.wait_for_url(f"{demo.server}/pages/order-confirm?**")
    page.locator("#pay-now:enabled").wait_for()
    assert page.locator("[data-testid=back]").is_visible()
    page.locator("#qty-plus").click()
    page.locator("#pay-now").click()
    page.wait_for_url(f"{demo.server}/pages/cashier?**")
    page.locator("#confirm-pay:enabled").click()
    # back on the shop: the seed's `pay` detail, then its onPay redirects to the order-detail page (usr://)
    page.wait_for_url(f"{demo.shop}/pages/index/index.html**")
    (pay,) = events(page, "pay")
    assert pay["status"] == "success" and pay["result"]["code"] == 0
    order_id = pay["orderId"]
    assert order_id.startswith("ot") and pay["outOrderNo"] and pay["result"]["orderId"] == order_id
    page.wait_for_url(f"{demo.shop}/pages/orderDetail/orderDetail.html?orderId={order_id}")
    page.wait_for_selector("pay-button button[data-state=ready]")
    items = page.evaluate(ITEMS_JS)
    assert len(items) == 2
    # apply refund (still redirect: the shop kept the buyer's display) for one of the two units
    page.locator("pay-button").first.locator("button").click()
    page.wait_for_url(f"{demo.server}/pages/refund-apply?**")
    page.locator("#submit-refund:enabled").wait_for()
    assert page.locator("#items li").count() == 1 and items[0] in page.locator("[data-testid=items]").inner_text()
    assert page.locator("[data-testid=refund-amount]").inner_text() == "¥168.00"
    page.locator("#submit-refund").click()
    # refund-apply goes on to refund-detail, which shows the refund
    page.wait_for_url(f"{demo.server}/pages/refund-detail?**")
    page.locator("[data-testid=status][data-status]:not([data-status=''])").wait_for()
    assert page.locator("[data-testid=amount]").inner_text() == "¥168.00"
    assert page.locator("[data-testid=units]").inner_text() == "1 份"
    assert page.locator("[data-testid=status]").inner_text() in {"退款中", "退款成功"}
    assert page.locator("[data-testid=back]").is_visible()
    page.locator("#done").click()
    # back on the order-detail page: the `refund` event
    page.wait_for_url(f"{demo.shop}/pages/orderDetail/orderDetail.html?orderId={order_id}")
    (refund,) = events(page, "refund")
    assert refund["status"] == "success"
    res = refund["result"]
    assert res["orderId"] == order_id and res["refundId"] and "outRefundNo" in res
    assert not [e for e in page.evaluate("window.__events") if e["type"] == "error"]
    # the merchant got applyRefund's extra without itemOrderList as cp_extra, the order's own none
    (pre,) = callbacks(demo, "pre_create_refund")
    assert json.loads(pre["cp_extra"]) == {"orderId": order_id, "from": "redirect"}
    assert list(json.loads(pre["cp_extra"])) == ["orderId", "from"]
    assert [i["item_order_id"] for i in pre["refund_item_detail"]["item_order_detail"]] == [items[0]]


def _continue(page: Any, id_: str, order_id: str, **binds: str) -> None:
    """A mode-1 <pay-button order-status=0 order-id=...> with the page's hooks, on top of the page."""
    page.evaluate("""([id, order, binds]) => { const b = document.createElement('pay-button'); b.id = id;
      b.setAttribute('order-status', '{{0}}'); b.setAttribute('order-id', order);
      for (const [k, v] of Object.entries(binds)) b.setAttribute('bind:' + k, v);
      document.querySelector('main').prepend(b); }""", [id_, order_id, binds])


def test_back_control_brings_the_pending_events_home(demo: Demo, page: Any) -> None:
    """The back control: an unpaid cashier is the seed's user close (code 3); a page's failure goes home too."""
    keep_events(page)  # the shop leaves index.html 1 s after a paid `pay` event: keep it past that
    page.goto(demo.buy_page(display="redirect"))
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    page.click("#buy-library button")
    page.locator("#pay-now:enabled").click()
    page.wait_for_url(f"{demo.server}/pages/cashier?**")
    page.locator("#confirm-pay:enabled").wait_for()
    page.locator("[data-testid=back]").click()
    page.wait_for_url(demo.buy_page(display="redirect"))
    (pay,) = events(page, "pay")
    order_id = pay["orderId"]
    assert pay["status"] == "success" and pay["result"] == {"code": 3, "orderId": order_id}
    assert order_id and pay["outOrderNo"]
    page.wait_for_timeout(1200)
    assert page.url == demo.buy_page(display="redirect")  # onPay goes on only on code 0
    # the unpaid order through a mode-1 button: pay it, in redirect; the button is on the page again on return
    _continue(page, "cont", order_id, pay="onPay")
    page.locator("#cont button[data-state=ready]").click()
    page.wait_for_url(f"{demo.server}/pages/cashier?**")
    page.locator("#confirm-pay:enabled").click()
    page.wait_for_url(demo.buy_page(display="redirect"))
    _continue(page, "cont", order_id, pay="onPay")
    paid = events(page, "pay", 2)[1]  # the tab's second: after the user close's
    assert paid["status"] == "success" and paid["result"]["code"] == 0 and paid["orderId"] == order_id
    page.wait_for_url(f"**/orderDetail.html?orderId={order_id}")
    # the same order again: the cashier refuses (paid); back brings the error home instead of losing it
    _continue(page, "again", order_id, error="bindError")
    page.locator("#again button[data-state=ready]").click()
    page.wait_for_url(f"{demo.server}/pages/cashier?**")
    page.locator("[data-testid=msg]:not(:empty)").wait_for()
    page.locator("[data-testid=back]").click()
    page.wait_for_url(f"{demo.shop}/pages/orderDetail/orderDetail.html?orderId={order_id}")
    _continue(page, "again", order_id, error="bindError")
    (err,) = events(page, "error")
    assert err["errNo"] == 21527 and err["errMsg"] and err["errLogId"]


def test_voucher_card_and_button_of_one_order_keep_their_results_apart(demo: Demo, page: Any) -> None:
    """A <consume-card> and an order-status 1 <pay-button> for the same order: the refund started from the card
    comes back to the card."""
    from test_refund import buy_two

    order_id = buy_two(page, demo)
    page.add_init_script(TARGETS_JS)
    page.goto(f"{demo.shop}/pages/orderDetail/orderDetail.html?orderId={order_id}&display=redirect&lang=en")
    card = page.locator("consume-card")
    card.locator("button:visible").click()
    page.wait_for_url(f"{demo.server}/pages/refund-apply?**")
    page.locator("#submit-refund:enabled").wait_for()
    assert page.locator("[data-testid=refundable]").inner_text().strip() == "2 refundable"
    page.locator("#submit-refund").click()
    page.wait_for_url(f"{demo.server}/pages/refund-detail?**")
    page.locator("[data-testid=status][data-status]:not([data-status=''])").wait_for()
    assert page.locator("[data-testid=back]").inner_text() == "Back"
    page.locator("[data-testid=back]").click()
    page.wait_for_url(f"{demo.shop}/pages/orderDetail/orderDetail.html**")
    (refund,) = events(page, "refund")
    assert refund["status"] == "success" and refund["result"]["orderId"] == order_id
    assert page.evaluate("window.__targets") == [["refund", "consume-card"]]
    card.locator("li").nth(1).wait_for()
    states = card.locator("li").evaluate_all("ls => ls.map(l => l.lastChild.textContent)")
    assert sorted(states) in (["Refunded", "Unused"], ["Refunding", "Unused"])


def test_the_result_reaches_a_button_that_now_renders_the_paid_status(demo: Demo, page: Any) -> None:
    """Continue-pay in redirect mode from an order-status 0 button; the page the buyer returns to renders the order's
    live status (order-status 1): the same order's button still gets the `pay` event."""
    keep_events(page)  # the shop leaves index.html 1 s after a paid `pay` event: keep it past that
    page.goto(demo.buy_page(display="redirect"))
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    order_id = page.evaluate("""() => new Promise((resolve, reject) => tt.login({fail: reject, success: () =>
      window.__payButton.bridge()('POST', '/api/buyer/v1/orders', {goods_id: 'demo-hotpot', goods_type: 1,
        quantity: 1}, tt.__token).then(o => resolve(o.order_id), reject)}))""")
    _continue(page, "cont", order_id, pay="onPay")
    page.locator("#cont button[data-state=ready]").click()
    page.wait_for_url(f"{demo.server}/pages/cashier?**")
    page.locator("#confirm-pay:enabled").click()
    page.wait_for_url(demo.buy_page(display="redirect"))
    # the merchant's page now shows the order as paid
    page.evaluate("""(order) => { const b = document.createElement('pay-button'); b.id = 'live';
      b.setAttribute('order-status', '{{1}}'); b.setAttribute('order-id', order); b.setAttribute('bind:pay', 'onPay');
      document.querySelector('main').prepend(b); }""", order_id)
    (paid,) = events(page, "pay")
    assert paid["status"] == "success" and paid["result"] == {"code": 0, "orderId": order_id}
    page.wait_for_url(f"**/orderDetail.html?orderId={order_id}")
