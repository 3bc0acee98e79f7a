"""tt.js as page code meets it: the Page lifecycle, setData with path keys, usr:// and user:// paths."""

from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import Demo
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

pytestmark = pytest.mark.browser

LIFE = """<!doctype html><html><head><meta charset="utf-8"><title>life</title>
<script src="{server}/static/tt.js"></script></head>
<body><p id="t">{{{{a.b}}}}/{{{{list[0].x}}}}/{{{{list.length}}}}</p>
<script>
window.__log = [];
Page({{
  data: {{a: {{b: 'old', keep: 1}}, list: [{{x: 1}}]}},
  onLoad(query) {{ __log.push(['onLoad', query]); }},
  onShow() {{ __log.push(['onShow']); }},
  onReady() {{ __log.push(['onReady']); }},
  render(data) {{ __log.push(['render', JSON.parse(JSON.stringify(data))]); }}
}});
</script></body></html>"""


def test_page_lifecycle_and_set_data_paths(shared_demo: Demo, page: Any, live_factory: Any) -> None:
    async def life(request: Request) -> HTMLResponse:
        return HTMLResponse(LIFE.format(server=shared_demo.server))

    site = live_factory(Starlette(routes=[Route("/pages/life/life.html", life)]))
    page.goto(f"{site.url}/pages/life/life.html?orderId=ot1&from=%E5%88%86%E4%BA%AB")
    page.wait_for_function("window.__log.length >= 3")
    # the mini-program's order: onLoad(query) -> onShow -> onReady
    assert page.evaluate("window.__log") == [["onLoad", {"orderId": "ot1", "from": "分享"}], ["onShow"], ["onReady"]]
    assert page.locator("#t").inner_text() == "old/1/1"
    page.evaluate("""() => getCurrentPages()[0].setData({'a.b': 'new', 'list[0].x': 5, 'list[1].x': 6, 'c.d': 'e'},
      () => __log.push(['callback']))""")
    data = {"a": {"b": "new", "keep": 1}, "list": [{"x": 5}, {"x": 6}], "c": {"d": "e"}}
    assert page.evaluate("getCurrentPages()[0].data") == data
    assert page.locator("#t").inner_text() == "new/5/2"
    assert page.evaluate("window.__log.slice(3)") == [["render", data], ["callback"]]
    # restored from the back/forward cache: onShow again (not onLoad)
    page.evaluate("dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))")
    page.evaluate("dispatchEvent(new PageTransitionEvent('pageshow', {persisted: false}))")
    assert page.evaluate("window.__log.slice(5)") == [["onShow"]]


@pytest.mark.parametrize("prefix", ["user://", "usr://", "user:///"])
def test_redirect_to_user_paths(shared_demo: Demo, page: Any, prefix: str) -> None:
    """The seed's 四、报错解决: 在路径前加上user:// — its onPay example URL, with user:// or usr://."""
    page.goto(shared_demo.buy_page())
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    res = page.evaluate("""(url) => new Promise(resolve => tt.redirectTo({url, success: resolve,
      fail: r => resolve({failed: r})}))""", f"{prefix}pages/orderDetail/orderDetail?orderId=ot42")
    assert res == {"errMsg": "redirectTo:ok"}
    page.wait_for_url(f"{shared_demo.shop}/pages/orderDetail/orderDetail.html?orderId=ot42")
    assert page.locator("[data-testid=order-id]").inner_text() == "orderid:ot42"
    page.evaluate("tt.navigateTo({url: 'user://pages/index/index'})")
    page.wait_for_url(shared_demo.buy_page())


GUARD = """<!doctype html><html><head><meta charset="utf-8"><title>guard</title>
<script src="{server}/static/tt.js"></script></head>
<body><p id="t">{{{{renders}}}}/{{{{ok.x}}}}</p>
<script>
Page({{
  data: {{renders: 0, ok: {{}}}},
  // a page whose own render() calls setData: rendered once per outside setData, not forever
  render(data) {{
    this.setData({{renders: data.renders + 1}}, () => {{ window.__inner = (window.__inner || 0) + 1; }});
  }}
}});
</script></body></html>"""


def test_a_render_that_calls_set_data_runs_once(shared_demo: Demo, page: Any, live_factory: Any) -> None:
    async def guard(request: Request) -> HTMLResponse:
        return HTMLResponse(GUARD.format(server=shared_demo.server))

    site = live_factory(Starlette(routes=[Route("/pages/guard/guard.html", guard)]))
    page.goto(f"{site.url}/pages/guard/guard.html")
    page.wait_for_function("getCurrentPages().length === 1 && document.querySelector('#t').textContent === '0/'")
    # render() calls setData: the inner call updates data and the template, and does not call render() again
    page.evaluate("() => getCurrentPages()[0].setData({'ok.x': 1})")
    assert page.evaluate("getCurrentPages()[0].data") == {"renders": 1, "ok": {"x": 1}}
    assert page.evaluate("window.__inner") == 1
    assert page.locator("#t").inner_text() == "1/1"
    page.evaluate("() => getCurrentPages()[0].setData({'ok.x': 2})")
    assert page.evaluate("[getCurrentPages()[0].data, window.__inner]") == [{"renders": 2, "ok": {"x": 2}}, 2]


def test_set_data_skips_prototype_paths(shared_demo: Demo, page: Any, live_factory: Any) -> None:
    async def life(request: Request) -> HTMLResponse:
        return HTMLResponse(LIFE.format(server=shared_demo.server))

    site = live_factory(Starlette(routes=[Route("/pages/life/life.html", life)]))
    page.goto(f"{site.url}/pages/life/life.html")
    page.wait_for_function("window.__log.length >= 3")
    # path keys through __proto__, constructor or prototype are skipped: no prototype pollution
    page.evaluate("""() => getCurrentPages()[0].setData({'__proto__.polluted': 1, 'a.constructor.prototype.bad': 2,
      'constructor.prototype.worse': 3, 'a.__proto__': {evil: 4}, 'list[0].__proto__.x': 5, 'a.b': 'new'})""")
    assert page.evaluate("""() => [({}).polluted, ({}).bad, ({}).worse, ({}).evil, ({}).x, [].x,
      Object.getPrototypeOf(getCurrentPages()[0].data.a) === Object.prototype]""") == [None] * 6 + [True]
    assert page.evaluate("getCurrentPages()[0].data") == {"a": {"b": "new", "keep": 1}, "list": [{"x": 1}]}
    assert page.locator("#t").inner_text() == "new/1/1"
