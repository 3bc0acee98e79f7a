"""After the purchase: refund-apply (bind:applyrefund's itemOrderList, bind:refund), refund-detail, and the
<consume-card> voucher card on the demo shop's order-detail page."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import (
    WAIT_MS,
    Demo,
    ask_refund_again,
    callbacks,
    events,
    handover_code,
    on_db,
    open_page,
    shot,
    update_demo_app,
)
from sqlalchemy import update

from paybutton.tables import orders

pytestmark = pytest.mark.browser

OVERLAY = "[data-pay-button-overlay] iframe"

# The seed's 指定金额退 applyRefund: the first unit of the order, by its item order id.
ITEMS_JS = """async () => {
  const id = new URLSearchParams(location.search).get('orderId');
  const o = await window.__payButton.bridge()('GET', '/api/buyer/v1/orders/' + id, null, tt.__token);
  tt.__page.applyRefund = (event) => {
    const { orderId } = event.detail;
    const itemOrderList = [{itemOrderId: o.item_orders[0].item_order_id}];
    const extra = { orderId, itemOrderList, from: 'test' };
    return new Promise(resolve => { resolve(extra); });
  };
  return o.item_orders.map(i => i.item_order_id);
}"""


def shot_page(page: Any, url_part: str, state: dict[str, Any], name: str) -> None:
    """A full-page screenshot of the hosted page the overlay shows: the same URL opened in its own tab, its state
    handed over by a one-time code (as display="redirect" hands it over)."""
    frame = page.frame(url=lambda u: url_part in u)
    assert frame is not None
    url = frame.url.split("#")[0]
    code = handover_code(url.split("/pages/")[0], page.evaluate("tt.__token"), {"key": "shot", **state})
    tab = page.context.new_page()
    try:
        tab.set_default_timeout(WAIT_MS)
        tab.goto(url + "#pbc=" + code)
        tab.wait_for_load_state("networkidle")
        tab.wait_for_selector("#goods-card:not([aria-busy]), [data-status]:not([data-status=''])", state="attached")
        tab.wait_for_timeout(200)
        shot(tab, name)
    finally:
        tab.close()


def buy_two(page: Any, demo: Demo, lang: str = "zh-CN") -> str:
    """Buy two units of the library good through the overlay; land on the order-detail page; its order id."""
    page.goto(demo.buy_page(**({"lang": "en"} if lang == "en" else {})))
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    page.click("#buy-library button")
    f = page.frame_locator(OVERLAY)
    f.locator("#pay-now:enabled").wait_for()
    f.locator("#qty-plus").click()
    f.locator("#pay-now").click()
    f.locator("#confirm-pay:enabled").click()
    page.wait_for_url("**/pages/orderDetail/orderDetail.html?orderId=*")
    page.wait_for_selector("pay-button button[data-state=ready]")
    order_id: str = page.evaluate("new URLSearchParams(location.search).get('orderId')")
    return order_id


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_refund_one_of_two_units_through_item_order_list(demo: Demo, browser: Any, viewport: str) -> None:
    ctx, page = open_page(browser, viewport, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        order_id = buy_two(page, demo)
        items = page.evaluate(ITEMS_JS)
        assert len(items) == 2
        page.locator("pay-button").first.locator("button").click()
        f = page.frame_locator(OVERLAY)
        f.locator("#submit-refund:enabled").wait_for()
        assert f.locator("[data-testid=goods-name]").inner_text() == "双人火锅套餐 × 2"
        assert f.locator("#items li").count() == 1
        assert items[0] in f.locator("[data-testid=items]").inner_text()
        assert f.locator("[data-testid=refund-amount]").inner_text() == "¥168.00"
        assert f.locator(".pb-reason span").all_inner_texts() == ["不想要了", "商家服务原因", "商品质量问题", "其他"]
        f.locator(".pb-reason span", has_text="商品质量问题").click()
        f.locator("[data-testid=note]").fill("肉不新鲜")
        shot_page(page, "/pages/refund-apply", {"itemOrderList": [{"itemOrderId": items[0]}]},
                  f"refund-apply-{viewport}")
        f.locator("#submit-refund").click()
        (refund,) = events(page, "refund")
        assert refund["status"] == "success"
        res = refund["result"]
        assert set(res) == {"refundId", "outRefundNo", "orderId"}
        assert res["refundId"] and res["orderId"] == order_id
        # the overlay moves on to refund-detail
        f.locator("[data-testid=status][data-status]:not([data-status=''])").wait_for()
        assert f.locator("[data-testid=amount]").inner_text() == "¥168.00"
        assert f.locator("[data-testid=units]").inner_text() == "1 份"
        assert f.locator("[data-testid=status]").inner_text() in {"退款中", "退款成功"}
        assert "商品质量问题" in f.locator("[data-testid=reason]").inner_text()
        assert f.locator("#timeline li").first.locator("b").inner_text() == "已提交申请"
        shot_page(page, "/pages/refund-detail", {}, f"refund-detail-{viewport}")
        f.locator("#done").click()
        page.wait_for_selector("[data-pay-button-overlay]", state="detached")
        assert not [e for e in page.evaluate("window.__events") if e["type"] == "error"]
        assert not errors
    finally:
        ctx.close()


def test_refund_detail_by_refund_id_in_english(demo: Demo, page: Any) -> None:
    buy_two(page, demo)
    page.locator("pay-button").first.locator("button").click()  # the seed's applyRefund: {orderId}, stepper
    f = page.frame_locator(OVERLAY)
    f.locator("#submit-refund:enabled").wait_for()
    assert f.locator("[data-testid=qty]").input_value() == "1"
    f.locator("#qty-plus").click()
    assert f.locator("[data-testid=refund-amount]").inner_text() == "¥336.00"
    f.locator("#submit-refund").click()
    (refund,) = events(page, "refund")
    rid = refund["result"]["refundId"]
    # the detail fills status and number together (pages.js): wait for it before reading the number
    f.locator("[data-testid=status][data-status]:not([data-status=''])").wait_for()
    assert f.locator("[data-testid=refund-no]").inner_text() in {refund["result"]["outRefundNo"], rid}
    assert f.locator("[data-testid=units]").inner_text() == "2 份"
    # the same refund in English, through a pay-button with order-status 2
    page.evaluate("""(rid) => { const b = document.createElement('pay-button');
      b.id = 'rd'; b.setAttribute('order-status', '2'); b.setAttribute('refund-id', rid); b.setAttribute('lang', 'en');
      document.querySelector('main').appendChild(b); }""", rid)
    f.locator("#done").click()
    page.wait_for_selector("#rd button[data-state=ready]")
    page.click("#rd button")
    g = page.frame_locator(OVERLAY)
    g.locator("[data-testid=status][data-status]:not([data-status=''])").wait_for()
    assert g.locator("[data-testid=status]").inner_text() in {"Refunding", "Refunded"}
    assert g.locator("[data-testid=amount]").inner_text() == "¥336.00"
    assert g.locator("#done").inner_text() == "Close"
    g.locator("#done").click()
    page.wait_for_selector("[data-pay-button-overlay]", state="detached")
    # the seed's order-detail page passes the order id as refund-id: its latest refund is shown
    page.locator("pay-button").nth(1).locator("button").click()
    k = page.frame_locator(OVERLAY)
    k.locator("[data-testid=status][data-status]:not([data-status=''])").wait_for()
    assert k.locator("[data-testid=amount]").inner_text() == "¥336.00"
    assert k.locator("[data-testid=refund-no]").inner_text() in {refund["result"]["outRefundNo"], rid}
    k.locator("#done").click()
    page.wait_for_selector("[data-pay-button-overlay]", state="detached")
    # nothing left to refund -> 21531 (the demo page offers no 申请退款 any more: a seed button of the test's own asks)
    assert page.locator("#order-button button").count() == 0 or page.locator("#order-button button").is_hidden()
    ask_refund_again(page)
    h = page.frame_locator(OVERLAY).last
    h.locator("[data-testid=nothing-left]").wait_for()
    err = events(page, "error")[-1]
    assert err["errNo"] == 21531
    assert h.locator("[data-testid=msg]").inner_text() == ""  # the friendly line, no developer line under it
    assert h.locator("#submit-refund").is_disabled()


def _refund_row(db: Path, refund_id: str) -> Any:
    from sqlalchemy import select

    from paybutton.tables import refunds

    async def read(conn: Any) -> Any:
        return (await conn.execute(select(refunds).where(refunds.c.refund_id == refund_id))).one()

    return on_db(db, read)


def test_bind_refund_carries_the_merchants_out_refund_no(demo: Demo, page: Any, tmp_path: Path) -> None:
    """Douyin's flow (reference §1.3): the refund is created, pre_create_refund asks the merchant, then the front end
    hears bind:refund, with the merchant's outRefundNo (the seed's 开发者系统退款单号)."""
    order_id = buy_two(page, demo)
    page.locator("pay-button").first.locator("button").click()
    f = page.frame_locator(OVERLAY)
    f.locator("#submit-refund:enabled").click()
    (refund,) = events(page, "refund")
    assert refund["status"] == "success"
    res = refund["result"]
    assert set(res) == {"refundId", "outRefundNo", "orderId"} and res["orderId"] == order_id
    (asked,) = callbacks(demo, "pre_create_refund")  # what the demo merchant was asked, and answers DEMOR + id
    assert asked["refund_id"] == res["refundId"]
    assert res["outRefundNo"] == "DEMOR" + res["refundId"][2:]
    assert _refund_row(tmp_path / "demo.db", res["refundId"]).out_refund_no == res["outRefundNo"]
    f.locator("[data-testid=status][data-status]:not([data-status=''])").wait_for()
    assert f.locator("[data-testid=refund-no]").inner_text() == res["outRefundNo"]


def test_bind_refund_says_the_number_is_pending_when_the_merchant_is_down(demo: Demo, page: Any,
                                                                          tmp_path: Path) -> None:
    update_demo_app(tmp_path / "demo.db", refund_url="http://127.0.0.1:9/refund")  # nothing listens there
    buy_two(page, demo)
    page.locator("pay-button").first.locator("button").click()
    f = page.frame_locator(OVERLAY)
    f.locator("#submit-refund:enabled").click()
    (refund,) = events(page, "refund")
    res = refund["result"]
    assert refund["status"] == "success" and res["refundId"]
    assert res["outRefundNo"] == "" and res["outRefundNoPending"] is True
    row = _refund_row(tmp_path / "demo.db", res["refundId"])
    assert (row.status, row.stage, row.out_refund_no) == ("PROCESSING", "PRE_REFUND", None)


def _verify(db: Path, code: str) -> str:
    """`paybutton verify CODE`, in its own thread (Playwright's sync API owns this thread's event loop)."""
    from typer.testing import CliRunner

    from paybutton.cli import cli

    out: dict[str, Any] = {}

    def run() -> None:
        out["r"] = CliRunner().invoke(cli, ["verify", code, "--database", f"sqlite+aiosqlite:///{db}"])

    t = threading.Thread(target=run)
    t.start()
    t.join()
    assert out["r"].exit_code == 0, out["r"].output
    return str(out["r"].output)


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_voucher_card_shows_codes_and_a_verification(demo: Demo, browser: Any, tmp_path: Path, viewport: str) -> None:
    ctx, page = open_page(browser, viewport, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        order_id = buy_two(page, demo)
        card = page.locator("consume-card")
        card.locator("li").nth(1).wait_for()
        assert card.locator("li").count() == 2
        assert card.locator("li").evaluate_all("ls => ls.map(l => l.dataset.state)") == ["待使用", "待使用"]
        codes = card.locator("li b").all_inner_texts()
        assert all(codes) and codes[0] != codes[1]
        assert card.locator("button").inner_text() == "申请退款"
        # the head: the merchant (the app's name), the goods and its label chips; each unit's amount in ¥
        assert card.locator("p").inner_text() == "释集烤肉 · paybutton 演示店"
        assert card.locator("h3").inner_text() == "双人火锅套餐"
        assert card.locator("mark").all_inner_texts() == ["过期退", "随时退", "提前1日预约"]
        assert card.locator("li span").all_inner_texts() == ["¥168.00", "¥168.00"]
        # one QR per unused unit, drawn by the server from the unit's QR data, which verifies like the code
        page.wait_for_function("""() => { const r = document.querySelector('consume-card').shadowRoot;
            const is = [...r.querySelectorAll('li img')];
            return is.length === 2 && is.every(i => i.complete && i.naturalWidth > 0); }""")
        qr_data = card.locator("li img").evaluate_all("is => is.map(i => i.alt)")
        assert qr_data == [f"pbv1:{c}" for c in codes]
        assert "verified" in _verify(tmp_path / "demo.db", qr_data[0])
        # the card polls: the verification shows without a reload, and `consume` fires
        card.locator("li[data-state=已核销]").wait_for()
        (consume,) = events(page, "consume")
        assert consume == {"orderId": order_id}
        assert card.locator("li").nth(1).get_attribute("data-state") == "待使用"
        assert card.locator("li[data-state=已核销] img").count() == 0 and card.locator("li img").count() == 1
        # aligned with and without a QR: codes start, amounts and states end at the same x, inside the card
        boxes = {sel: [card.locator(sel).nth(i).bounding_box() for i in range(2)] for sel in ("li b", "li span", "li")}
        assert boxes["li b"][0]["x"] == boxes["li b"][1]["x"]
        assert len({round(b["x"] + b["width"]) for b in boxes["li span"]}) == 1
        card_box = card.bounding_box()
        assert all(b["x"] + b["width"] <= card_box["x"] + card_box["width"] for b in boxes["li"])
        assert card.evaluate("c => c.scrollWidth <= c.clientWidth")
        page.wait_for_timeout(300)
        shot(page, f"voucher-card-{viewport}")
        # refund the other unit from the card: refund-apply offers the one unit left
        card.locator("button").click()
        f = page.frame_locator(OVERLAY)
        f.locator("#submit-refund:enabled").wait_for()
        assert f.locator("[data-testid=refundable]").inner_text().strip() == "可退 1 份"
        f.locator("#submit-refund").click()
        (refund,) = events(page, "refund")
        assert refund["status"] == "success" and refund["result"]["orderId"] == order_id
        f.locator("#done").click()
        card.locator("li[data-state=退款中], li[data-state=已退款]").wait_for()
        assert card.locator("button").is_hidden()
        assert not errors
    finally:
        ctx.close()


def test_redirect_refund_returns_to_the_order_page(demo: Demo, page: Any) -> None:
    order_id = buy_two(page, demo)
    page.goto(f"{demo.shop}/pages/orderDetail/orderDetail.html?orderId={order_id}&display=redirect&lang=en")
    page.wait_for_selector("pay-button button[data-state=ready]")
    page.locator("pay-button").first.locator("button").click()
    page.wait_for_url(f"{demo.server}/pages/refund-apply?**")
    page.locator("#submit-refund:enabled").wait_for()
    assert page.locator("#submit-refund").inner_text() == "Submit"
    assert page.locator(".pb-reason span").all_inner_texts() == [
        "No longer wanted", "Merchant service", "Quality problem", "Other"]
    assert page.locator("[data-testid=refundable]").inner_text().strip() == "2 refundable"
    page.locator("#submit-refund").click()
    page.wait_for_url(f"{demo.server}/pages/refund-detail?**")  # refund-apply goes on to refund-detail
    page.locator("[data-testid=status][data-status]:not([data-status=''])").wait_for()
    assert page.locator("[data-testid=units]").inner_text() == "1"
    page.locator("#done").click()
    page.wait_for_url(f"{demo.shop}/pages/orderDetail/orderDetail.html**")
    (refund,) = events(page, "refund")
    assert refund["status"] == "success" and refund["result"]["orderId"] == order_id
    assert refund["result"]["refundId"] and "outRefundNo" in refund["result"]
    card = page.locator("consume-card")
    card.locator("li").nth(1).wait_for()
    states = card.locator("li").evaluate_all("ls => ls.map(l => l.lastChild.textContent)")
    assert sorted(states) in (["Refunded", "Unused"], ["Refunding", "Unused"])
    assert card.locator("mark").all_inner_texts() == ["Refund on expiry", "Refund anytime", "Book 1 day in advance"]
    assert card.locator("p").inner_text() == "释集烤肉 · paybutton 演示店"
    assert card.locator("h3").inner_text() == "双人火锅套餐"
    assert card.locator("li span").all_inner_texts() == ["¥168.00", "¥168.00"]
    assert card.locator("button").inner_text() == "Apply for refund"


@pytest.mark.parametrize(("hook", "err_no"), [("() => Promise.reject(new Error('no'))", 21533),
                                             ("() => { throw new Error('no'); }", 21533),
                                             ("() => Promise.resolve(42)", 21534),
                                             ("() => ({orderId: 'x', itemOrderList: []})", 21534)])
def test_applyrefund_rejected_or_not_an_object(demo: Demo, page: Any, hook: str, err_no: int) -> None:
    buy_two(page, demo)
    page.evaluate(f"() => {{ tt.__page.applyRefund = {hook}; }}")
    page.locator("pay-button").first.locator("button").click()
    (err,) = events(page, "error")
    assert err["errNo"] == err_no and err["errMsg"] and err["errLogId"]
    assert page.locator("[data-pay-button-overlay]").count() == 0


def test_voucher_card_errors(demo: Demo, page: Any) -> None:
    page.goto(demo.buy_page(lang="en"))
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    page.evaluate("""() => { for (const [id, order] of [['c1', null], ['c2', 'ot-not-mine']]) {
      const c = document.createElement('consume-card'); c.id = id; c.__errs = [];
      if (order) c.setAttribute('order-id', order);
      c.addEventListener('error', e => c.__errs.push(e.detail));
      document.querySelector('main').appendChild(c); } }""")
    for id_, err_no in (("c1", 21522), ("c2", 21529)):
        page.wait_for_function(f"document.getElementById({id_!r}).__errs.length >= 1")
        (err,) = page.evaluate(f"document.getElementById({id_!r}).__errs")
        assert err["errNo"] == err_no and err["errMsg"] and err["errLogId"]
    page.wait_for_timeout(3500)  # polling goes on, but an error is reported once
    assert page.evaluate("document.getElementById('c2').__errs.length") == 1
    assert page.locator("#c2 li").count() == 0


def test_refund_detail_shows_a_denied_refund(demo: Demo, page: Any) -> None:
    """The audit and failure branches of the timeline, from a refund as the buyer API reports it."""
    from paybutton.demo.seed import DEMO_APP_ID

    now = 1764000000000
    body = {"refund_id": "rf1", "out_refund_no": "shop-rf-1", "order_id": "ot1", "status": "FAIL", "amount": 16800,
            "items": [{"item_order_id": "it1", "refund_amount": 16800}], "reason": ["不想要了"], "description": "",
            "deny_message": "已到店使用", "message": "", "timeline": [
                {"step": "applied", "at": now},
                {"step": "audit", "status": "DENY", "deadline": now + 3600_000, "deny_message": "已到店使用"},
                {"step": "failed", "at": now + 60_000, "message": ""}]}
    page.route("**/api/buyer/v1/refunds/rf1", lambda route: route.fulfill(json=body))
    handed = {"token": "x", "state": {"key": "t"}}
    page.route("**/api/buyer/v1/handover/exchange", lambda route: route.fulfill(json=handed))
    page.goto(f"{demo.server}/pages/refund-detail?app_id={DEMO_APP_ID}&refund-id=rf1#pbc={'A' * 43}")
    page.locator("[data-status=FAIL]").wait_for()
    assert page.locator("[data-testid=status]").inner_text() == "退款失败"
    assert page.locator("[data-testid=deny]").inner_text() == "商家说明:已到店使用"  # the merchant's words, labelled
    steps = page.locator("#timeline li b").all_inner_texts()
    assert steps == ["已提交申请", "商家已拒绝", "退款失败"]
    assert page.locator("[data-testid=refund-no]").inner_text() == "shop-rf-1"


def test_legacy_order_needs_refund_total_amount(demo: Demo, page: Any, tmp_path: Path) -> None:
    """A 1.0 order (legacy) refunds by refund-total-amount; without it the button reports 21524."""
    order_id = buy_two(page, demo)

    async def make_legacy(conn: Any) -> None:
        await conn.execute(update(orders).where(orders.c.order_id == order_id).values(legacy=True))

    on_db(tmp_path / "demo.db", make_legacy)
    button = page.locator("pay-button").first
    button.locator("button").click()
    f = page.frame_locator(OVERLAY)
    f.locator("[data-testid=msg]:not(:empty)").wait_for()
    (err,) = events(page, "error")
    assert err["errNo"] == 21524 and err["errMsg"] and err["errLogId"]
    assert f.locator("[data-testid=msg]").inner_text() == "缺少退款金额"  # the buyer's words; errMsg goes to bind:error
    assert f.locator("#submit-refund").is_disabled()
    assert events(page, "refund") == [{"status": "fail", "result": {"errMsg": err["errMsg"]}}]
    page.locator("[data-pay-button-overlay] button").click()  # close
    # with refund-total-amount (fen) the legacy order refunds that amount
    button.evaluate("b => b.setAttribute('refund-total-amount', '{{20000}}')")
    button.locator("button").click()
    g = page.frame_locator(OVERLAY)
    g.locator("#submit-refund:enabled").wait_for()
    assert g.locator("[data-testid=refund-amount]").inner_text() == "¥200.00"
    g.locator("#submit-refund").click()
    refund = events(page, "refund", 2)[-1]
    assert refund["status"] == "success" and refund["result"]["orderId"] == order_id
    g.locator("[data-testid=status][data-status]:not([data-status=''])").wait_for()
    assert g.locator("[data-testid=amount]").inner_text() == "¥200.00"


def test_navigate_to_refund_apply_and_refund_detail(demo: Demo, page: Any) -> None:
    """The seed's plugin routes from page code: tt.navigateTo('ext://microapp-trade-plugin/refund-apply?orderId=…')
    and '…/refund-detail?refundId=…'; their events reach the page as tt:refund / tt:error."""
    order_id = buy_two(page, demo)
    page.evaluate("""(id) => {
      for (const n of ['refund', 'error'])
        document.addEventListener('tt:' + n, e => __events.push({type: 'tt:' + n, detail: e.detail}));
      tt.navigateTo({url: 'ext://microapp-trade-plugin/refund-apply?orderId=' + id});
    }""", order_id)
    f = page.frame_locator("[data-pay-button-overlay=refund-apply] iframe")
    f.locator("#submit-refund:enabled").wait_for()
    assert f.locator("[data-testid=refundable]").inner_text().strip() == "可退 2 份"
    f.locator("#submit-refund").click()
    (refund,) = events(page, "tt:refund")
    assert refund["status"] == "success" and refund["result"]["orderId"] == order_id
    f.locator("#done").click()
    page.wait_for_selector("[data-pay-button-overlay]", state="detached")
    page.evaluate("(rid) => tt.navigateTo({url: 'ext://microapp-trade-plugin/refund-detail?refundId=' + rid})",
                  refund["result"]["refundId"])
    g = page.frame_locator("[data-pay-button-overlay=refund-detail] iframe")
    g.locator("[data-testid=status][data-status]:not([data-status=''])").wait_for()
    assert g.locator("[data-testid=amount]").inner_text() == "¥168.00"
    assert g.locator("[data-testid=status]").inner_text() in {"退款中", "退款成功"}
    assert not [e for e in page.evaluate("window.__events") if e["type"] in ("error", "tt:error")]


def test_no_applyrefund_hook_sends_no_cp_extra_and_statuses_3_4_show_the_refund(demo_factory: Any, page: Any) -> None:
    """The seed: 若无需传入 extra 参数,则无需 bind:applyrefund 方法 — no hook, no cp_extra. Order-status 2, 3 and 4
    (退款中 / 退款成功 / 退款失败) open refund-detail."""
    demo: Demo = demo_factory(run_workers=True, dispatch_interval_seconds=0.1)
    buy_two(page, demo)
    page.evaluate("() => { tt.__page.applyRefund = undefined; }")
    page.locator("pay-button").first.locator("button").click()
    f = page.frame_locator(OVERLAY)
    f.locator("#submit-refund:enabled").click()
    (refund,) = events(page, "refund")
    (pre,) = callbacks(demo, "pre_create_refund")
    assert pre["cp_extra"] == "" and pre["refund_id"] == refund["result"]["refundId"]
    f.locator("#done").click()
    page.wait_for_selector("[data-pay-button-overlay]", state="detached")
    for status, zh in (("3", "退款成功"), ("4", "退款失败")):
        page.evaluate("""([rid, st]) => { const b = document.createElement('pay-button'); b.id = 's' + st;
          b.setAttribute('order-status', '{{' + st + '}}'); b.setAttribute('refund-id', rid);
          document.querySelector('main').prepend(b); }""", [refund["result"]["refundId"], status])
        assert page.locator(f"#s{status} button[data-state=ready] span").inner_text() == zh
        page.click(f"#s{status} button")
        g = page.frame_locator("[data-pay-button-overlay=refund-detail] iframe")
        g.locator("[data-testid=status][data-status]:not([data-status=''])").wait_for()
        assert g.locator("[data-testid=amount]").inner_text() == "¥168.00"
        # the refund (the demo merchant's out_refund_no once its pre_create_refund answer is in)
        assert g.locator("[data-testid=refund-no]").inner_text() in {pre["refund_id"], "DEMOR" + pre["refund_id"][2:]}
        g.locator("#done").click()
        page.wait_for_selector("[data-pay-button-overlay]", state="detached")
    assert not [e for e in page.evaluate("window.__events") if e["type"] == "error"]
