"""A site on an origin the app does not allow cannot frame or drive the hosted pages."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from browser_helpers import Demo
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from paybutton.demo.seed import DEMO_APP_ID

pytestmark = pytest.mark.browser

# frames a hosted page, answers its `ready` with `init` as pay-button.js does, and records every message
FRAMER = """<!doctype html><html><head><meta charset="utf-8"><title>framer</title></head><body>
<iframe id="f" src="{src}" style="width:400px;height:600px"></iframe>
<script>
window.__got = [];
const f = document.getElementById('f');
addEventListener('message', e => {{
  __got.push(e.data);
  if (e.data && e.data.pb === 'ready')
    f.contentWindow.postMessage({{pb: 'init', state: {{key: 'k', goodsInfo: {{}}}}}}, '*');
}});
f.onload = () => {{ window.__loaded = true;
  f.contentWindow.postMessage({{pb: 'init', state: {{key: 'k', goodsInfo: {{}}}}}}, '*'); }};
</script></body></html>"""


def _confirm(demo: Demo) -> str:
    return f"{demo.server}/pages/order-confirm?app_id={DEMO_APP_ID}&goods_id=demo-hotpot&goods_type=1"


def test_pages_send_frame_ancestors_of_the_allowed_origins(shared_demo: Demo) -> None:
    r = httpx.get(_confirm(shared_demo), trust_env=False)
    assert r.status_code == 200
    assert r.headers["content-security-policy"] == f"frame-ancestors 'self' {shared_demo.shop}"


def test_a_site_not_allowed_cannot_frame_the_pages(shared_demo: Demo, page: Any, live_factory: Any) -> None:
    async def framer(request: Request) -> HTMLResponse:
        return HTMLResponse(FRAMER.format(src=_confirm(shared_demo)))

    site = live_factory(Starlette(routes=[Route("/", framer)]))
    page.goto(site.url + "/")
    page.wait_for_function("window.__loaded")
    page.wait_for_timeout(1500)
    assert page.evaluate("window.__got") == []  # not even `ready`: the page never ran
    frame = page.frame_locator("#f")
    assert frame.locator("#pay-now").count() == 0
    (child,) = page.main_frame.child_frames
    assert "/pages/order-confirm" not in child.url  # Chromium shows its own error page instead


def test_pages_tell_no_host_that_is_not_allowed(shared_demo: Demo, page: Any) -> None:
    """Framed by the trade server's own origin ('self' may frame; it is not one of the app's origins), with a host
    in the #pb= state: the page runs, but its events go nowhere."""
    state = base64.urlsafe_b64encode(json.dumps({"key": "k", "host": shared_demo.server}).encode()).decode()
    src = _confirm(shared_demo) + "#pb=" + state.rstrip("=")
    page.goto(f"{shared_demo.server}/healthz")
    page.evaluate("""(src) => { window.__got = []; addEventListener('message', e => __got.push(e.data));
      const f = document.createElement('iframe'); f.id = 'f'; f.src = src; document.body.appendChild(f); }""", src)
    frame = page.frame_locator("#f")
    frame.locator("#pay-now:enabled").click()
    frame.locator("[data-testid=msg]:not(:empty)").wait_for()  # no buyer token: the order fails: pay + error events
    page.wait_for_timeout(500)
    assert page.evaluate("window.__got") == []
