"""The direct link: order-confirm opened by a shareable URL (or its QR) with no pay-button, asking the site's
App({userLogin, getExtraInfo}) through tt.js (21546 / 21547 when they fail); and tt.navigateTo to order-confirm."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import segno
from browser_helpers import Demo, events, keep_events, shot, update_demo_app
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from paybutton.demo.seed import DEMO_APP_ID

pytestmark = pytest.mark.browser

OVERLAY = "[data-pay-button-overlay=order-confirm] iframe"
START = quote("ext://microapp-trade-plugin/order-confirm?goodsId=demo-hotpot&goodsType=1", safe="")


def _pay_in_overlay(page: Any) -> None:
    f = page.frame_locator(OVERLAY)
    f.locator("#pay-now:enabled").wait_for()
    assert f.locator("[data-testid=goods-name]").inner_text() == "双人火锅套餐"
    assert f.locator("[data-testid=price]").inner_text() == "¥168.00"
    f.locator("#pay-now").click()
    f.locator("#confirm-pay:enabled").click()


def test_the_qr_of_the_direct_link_buys_on_the_demo_shop(demo: Demo, page: Any) -> None:
    shop_page = f"{demo.shop}/pages/index/index.html"
    r = httpx.get(f"{demo.server}/pages/link-qr", params={"app_id": DEMO_APP_ID, "goods_id": "demo-hotpot",
                                                           "page": shop_page})
    assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml"
    link = r.headers["x-direct-link"]
    assert link == f"{shop_page}?start_page={START}"
    expected = io.BytesIO()
    segno.make(link, error="m").save(expected, kind="svg", scale=4, border=2, title="demo-hotpot")
    assert r.content == expected.getvalue()  # the QR encodes exactly that link
    # the shop page shows the same link and QR
    page.goto(shop_page)
    assert page.locator("[data-testid=share-link]").get_attribute("href") == link
    page.wait_for_function("document.getElementById('share-qr').naturalWidth > 0")
    # open the link: order-confirm comes up at once, the buyer logs in through App.userLogin (tt.login)
    keep_events(page)  # the shop leaves index.html 1 s after a paid `pay` event: keep it past that
    page.goto(link)
    _pay_in_overlay(page)
    (pay,) = events(page, "pay")
    assert pay["status"] == "success" and pay["result"]["code"] == 0
    assert pay["orderId"] and pay["outOrderNo"]
    assert page.evaluate("tt.__token")
    # the page's own onPay handles it: tt.redirectTo the order detail
    page.wait_for_url(f"**/pages/orderDetail/orderDetail.html?orderId={pay['orderId']}")
    assert page.locator("pay-button button span").first.inner_text() == "申请退款"


def test_direct_link_screenshots(demo: Demo, page: Any) -> None:
    page.goto(f"{demo.shop}/pages/index/index.html")
    page.wait_for_function("document.getElementById('share-qr').naturalWidth > 0")
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    shot(page, "shop-share-link-phone")
    page.goto(f"{demo.shop}/pages/index/index.html?start_page={START}")
    page.frame_locator(OVERLAY).locator("#pay-now:enabled").wait_for()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(200)
    shot(page, "direct-link-phone")


def test_link_qr_refuses_bad_input(demo: Demo) -> None:
    base = {"app_id": DEMO_APP_ID, "goods_id": "demo-hotpot", "page": f"{demo.shop}/pages/index/index.html"}
    for change, status in (({"page": "http://evil.example/x.html"}, 400), ({"goods_id": "x" * 65}, 400),
                           ({"goods_type": "3"}, 400), ({"app_id": "tt0000"}, 404)):
        r = httpx.get(f"{demo.server}/pages/link-qr", params={**base, **change})
        assert r.status_code == status, (change, r.text)
        assert "x-direct-link" not in r.headers


def test_navigate_to_order_confirm(demo: Demo, page: Any) -> None:
    """The seed's plugin route from page code: tt.navigateTo({url: 'ext://microapp-trade-plugin/order-confirm?…'})."""
    keep_events(page)  # the shop leaves index.html 1 s after a paid `pay` event: keep it past that
    page.goto(f"{demo.shop}/pages/index/index.html")
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    page.evaluate("""() => new Promise(resolve => tt.navigateTo({
      url: 'ext://microapp-trade-plugin/order-confirm?goodsId=demo-hotpot&goodsType=1',
      success: res => { window.__nav = res.errMsg; resolve(); } }))""")
    assert page.evaluate("window.__nav") == "navigateTo:ok"
    _pay_in_overlay(page)
    (pay,) = events(page, "pay")
    assert pay["status"] == "success" and pay["result"]["code"] == 0


SITE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>another shop</title>
<script src="{server}/static/tt.js"></script>
<script src="{server}/static/pay-button.js" data-app-id="{app}"></script></head>
<body><main><h1>No pay-button on this page</h1></main>
<script>
window.__events = [];
App({{ {hooks} }});
for (const n of ['pay', 'error'])
  document.addEventListener('tt:' + n, e => __events.push({{type: n, detail: e.detail}}));
</script></body></html>"""


@pytest.fixture
def site(demo: Demo, live_factory: Any, tmp_path: Path) -> Any:
    """The merchant's site on a third origin (allowed for the app): a page with tt.js, App({...}) and no pay-button."""
    state = {"hooks": ""}

    async def index(request: Request) -> HTMLResponse:
        return HTMLResponse(SITE.format(server=demo.server, app=DEMO_APP_ID, hooks=state["hooks"]))

    srv = live_factory(Starlette(routes=[Route("/", index)]))
    update_demo_app(tmp_path / "demo.db", allowed_origins=[demo.shop, srv.url])
    return srv.url, state


@pytest.mark.parametrize(("hooks", "err_no"), [
    ("userLogin: () => Promise.reject(new Error('no account')), getExtraInfo: () => ({})", 21546),
    ("userLogin() { throw new Error('login broke'); }", 21546),
    ("userLogin: () => Promise.resolve(), getExtraInfo: () => Promise.reject(new Error('no extra'))", 21547),
    ("userLogin: () => Promise.resolve(), getExtraInfo: () => 42", 21547),
])
def test_direct_link_hook_failures(site: Any, page: Any, hooks: str, err_no: int) -> None:
    url, state = site
    state["hooks"] = hooks
    page.goto(f"{url}/?start_page={START}")
    (err,) = events(page, "error")
    assert err["errNo"] == err_no and err["errMsg"] and err["errLogId"]
    assert page.locator(".tt-toast").first.inner_text() == err["errMsg"]
    assert page.locator("[data-pay-button-overlay]").count() == 0
    assert page.locator("pay-button").is_hidden()  # the page has none of its own; tt.js's is not shown


def test_direct_link_to_a_good_not_on_sale(demo: Demo, page: Any) -> None:
    start = quote("ext://microapp-trade-plugin/order-confirm?goodsId=demo-ended&goodsType=1", safe="")
    page.goto(f"{demo.shop}/pages/index/index.html?start_page={start}")
    assert page.locator(".tt-toast").inner_text() == "已结束"
    assert page.locator("[data-pay-button-overlay]").count() == 0
