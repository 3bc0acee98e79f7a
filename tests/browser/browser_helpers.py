"""Small helpers for the browser tests: add a <pay-button> to the demo shop page and read what it reported."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# How long a browser test waits for a state (a selector, a URL, the page's events) before it calls the page hung: a
# guard, not a measurement, so it is sized for CI's loaded machine. Three CI runs at once (load 13 on 2 cores) took
# longer than 8-10 s for one page step (stop 27's runs); a page that works is waited for only as long as it takes.
WAIT_MS = 30_000


def open_page(browser: Any, viewport: str | None = None, **options: Any) -> tuple[Any, Any]:
    """A new browser context and its one page, which waits up to WAIT_MS for any state. `viewport`: "phone",
    "desktop" or None (the browser's own); `options`: the context's (locale, user_agent, ...)."""
    if viewport is not None:
        options["viewport"] = PHONE if viewport == "phone" else DESKTOP
    ctx = browser.new_context(**options)
    page = ctx.new_page()
    page.set_default_timeout(WAIT_MS)
    return ctx, page


@dataclass
class Demo:
    server: str
    shop: str

    def buy_page(self, **query: str) -> str:
        q = "&".join(f"{k}={v}" for k, v in query.items())
        return f"{self.shop}/pages/index/index.html" + (f"?{q}" if q else "")

HOOKS_JS = """
window.okInfo = () => Promise.resolve({});
window.plainInfo = () => ({});
window.rejectInfo = () => Promise.reject(new Error('no goods info'));
window.numberInfo = () => Promise.resolve(42);
window.badLimits = () => Promise.resolve({minLimits: '1', maxLimits: 2});
window.fourLabels = () => Promise.resolve({currentPrice: 100, goodsName: 'x', goodsPhoto: '/p.png',
  goodsLabels: [{type: 'EXPIRED_RETURNS'}, {type: 'REFUND_ANYTIME'}, {type: 'RESERVATION_FREE'},
    {type: 'NON_REFUNDABLE'}]});
window.clashLabels = () => Promise.resolve({currentPrice: 100, goodsName: 'x', goodsPhoto: '/p.png',
  goodsLabels: [{type: 'REFUND_ANYTIME'}, {type: 'REFUNDABLE_DAYS', value: 3}]});
window.twiceLabels = () => Promise.resolve({currentPrice: 100, goodsName: 'x', goodsPhoto: '/p.png',
  goodsLabels: [{type: 'REFUND_ANYTIME'}, {type: 'REFUND_ANYTIME'}]});
window.bigLabelValue = () => Promise.resolve({currentPrice: 100, goodsName: 'x', goodsPhoto: '/p.png',
  goodsLabels: [{type: 'BOOK_IN_ADVANCE', value: 100000}]});
window.valuedPlainLabel = () => Promise.resolve({currentPrice: 100, goodsName: 'x', goodsPhoto: '/p.png',
  goodsLabels: [{type: 'REFUND_ANYTIME', value: 3}]});
window.neverInfo = () => new Promise(() => {});
window.okPlace = () => Promise.resolve();
window.rejectPlace = () => Promise.reject(new Error('not signed in'));
window.okPay = () => {};
"""

ADD_JS = """([id, attrs]) => {
  const el = document.createElement('pay-button');
  el.id = id;
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.__errs = []; el.__pays = [];
  el.addEventListener('error', e => el.__errs.push(e.detail));
  document.querySelector('main').appendChild(el);
}"""


def add_button(page: Any, id_: str, **attrs: str) -> None:
    page.evaluate(HOOKS_JS)
    page.evaluate(ADD_JS, [id_, {k.replace("_", "-"): v for k, v in attrs.items()}])


def to_the_cashier_in_redirect_mode(page: Any, demo: Demo, units: int = 1, **query: str) -> None:
    """Buy the demo shop's library good with display="redirect": tap its button, take `units` on order-confirm (a
    full page), pay, and wait on the cashier (a full page too) until 确认支付 can be tapped. `query`: the shop page's
    (lang=en)."""
    page.goto(demo.buy_page(display="redirect", **query))
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    page.click("#buy-library button")
    page.wait_for_url(f"{demo.server}/pages/order-confirm?**")
    page.locator("#pay-now:enabled").wait_for()
    for _ in range(units - 1):
        page.locator("#qty-plus").click()
    page.locator("#pay-now").click()
    page.wait_for_url(f"{demo.server}/pages/cashier?**")
    page.locator("#confirm-pay:enabled").wait_for()


REFUND_AGAIN_JS = """() => { const b = document.createElement('pay-button'); b.id = 'refund-again';
  b.setAttribute('order-status', '1');
  b.setAttribute('order-id', new URLSearchParams(location.search).get('orderId'));
  window.__events = window.__events || [];
  for (const type of ['error', 'refund']) b.addEventListener(type, e => window.__events.push({type, detail: e.detail}));
  document.querySelector('main').appendChild(b); }"""


def ask_refund_again(page: Any) -> None:
    """On the demo's order-detail page, once everything is refunded the page offers no 申请退款 any more: a seed
    `<pay-button order-status="1">` of the test's own asks anyway (its error and refund events go to
    window.__events), and is clicked."""
    page.evaluate(REFUND_AGAIN_JS)
    page.locator("#refund-again button[data-state=ready]").click()


# keep_events: every page of the tab keeps what its handlers push to window.__events in the tab's sessionStorage too
KEEP_JS = """(() => { let own = [];
  Object.defineProperty(window, '__events', { configurable: true, get() { return own; }, set(v) {
    own = v;
    const push = Array.prototype.push;
    own.push = function (...xs) {
      try { const kept = JSON.parse(sessionStorage.getItem('__kept_events') || '[]'); push.apply(kept, xs);
            sessionStorage.setItem('__kept_events', JSON.stringify(kept)); } catch (e) {}
      return push.apply(this, xs);
    };
  } });
})()"""


def keep_events(page: Any) -> None:
    """From the next page on, the demo shop's events are also kept in the tab's sessionStorage, and events() reads
    every kept one. For a flow that comes back to the shop by a real redirect (not the overlay): the shop leaves
    for the order page 1 s after a success, and on a loaded machine (three CI runs at once) the first read came
    after that, on a page with no events. The kept ones outlive the page."""
    page.add_init_script(KEEP_JS)


# watch_toasts: every page of the tab records the text of each toast the <pay-button> shows, as it is added
TOASTS_JS = """(() => { window.__toasts = [];
  new MutationObserver(ms => { for (const m of ms) for (const n of m.addedNodes)
    if (n.classList && n.classList.contains('pb-toast')) window.__toasts.push(n.textContent); })
    .observe(document, {childList: true, subtree: true}); })()"""


def watch_toasts(page: Any) -> None:
    """From the next page on, the page records every toast's text (window.__toasts) when the toast is added. A toast
    shows 2.5 s: on a loaded machine (three CI runs at once) a read of the element came after it had gone."""
    page.add_init_script(TOASTS_JS)


def toasts(page: Any, count: int = 1) -> list[str]:
    """The texts of the page's toasts so far (after watch_toasts), once there are `count`."""
    found = page.wait_for_function(f"() => (window.__toasts || []).length >= {count} && window.__toasts")
    got: list[str] = found.json_value()
    return got


def events(page: Any, kind: str, count: int = 1) -> list[dict[str, Any]]:
    """The details of the page's `kind` events (window.__events, which the demo shop's handlers fill; after
    keep_events, every page's of this tab), once there are `count`. Read in the one evaluation that sees them: the
    demo shop leaves the page 1 s after a payment succeeds (tt.redirectTo), and a second evaluation on a loaded
    machine found the next page, with no events."""
    found = page.wait_for_function(f"""() => {{ let kept = null;
        try {{ kept = sessionStorage.getItem('__kept_events'); }} catch (e) {{}}
        const all = kept === null ? (window.__events || []) : JSON.parse(kept);
        const e = all.filter(e => e.type === {kind!r});
        return e.length >= {count} && e.map(x => x.detail); }}""")
    got: list[dict[str, Any]] = found.json_value()
    return got


def errors_of(page: Any, id_: str, count: int = 1) -> list[dict[str, Any]]:
    found = page.wait_for_function(f"""() => {{ const e = document.getElementById({id_!r}).__errs;
        return e.length >= {count} && e; }}""")
    errs: list[dict[str, Any]] = found.json_value()
    return errs


def button_text(page: Any, id_: str, state: str | None = None) -> str:
    sel = f"#{id_} button" + (f"[data-state={state}]" if state else "")
    page.wait_for_selector(sel)
    text: str = page.locator(f"#{id_} button span").inner_text()
    return text


def on_db(db: Path, work: Callable[[Any], Awaitable[Any]]) -> Any:
    """`await work(conn)` in one transaction on the demo's SQLite file, in a thread of its own (Playwright's sync API
    owns this thread's event loop). Done before a page asks for the app, so the server's app cache is not stale."""
    from paybutton.config import Settings
    from paybutton.db import Database

    out: dict[str, Any] = {}

    async def run() -> None:
        database = Database(Settings(database_url=f"sqlite+aiosqlite:///{db}"))
        try:
            async with database.tx() as conn:
                out["r"] = await work(conn)
        finally:
            await database.dispose()

    t = threading.Thread(target=lambda: asyncio.run(run()))
    t.start()
    t.join()
    return out.get("r")


def update_demo_app(db: Path, **changes: Any) -> dict[str, Any]:
    """Change the demo app as `paybutton app update` would (pre_order_url, allowed_origins, ...)."""
    from paybutton.apps import service
    from paybutton.clock import SystemClock
    from paybutton.demo.seed import DEMO_APP_ID

    app: dict[str, Any] = on_db(db, lambda conn: service.update_app(conn, SystemClock(), DEMO_APP_ID, **changes))
    return app


def handover_code(server: str, token: str, state: dict[str, Any]) -> str:
    """A one-time code that opens a hosted page with `state` and the buyer `token` (as display="redirect" hands them
    over): `{page URL}#pbc={code}`."""
    r = httpx.post(f"{server}/api/buyer/v1/handover", json={"state": state}, timeout=10, trust_env=False,
                   headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    code: str = r.json()["code"]
    return code


def shot(page_or_frame: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page_or_frame.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def callbacks(demo: Demo, kind: str, count: int = 1) -> list[dict[str, Any]]:
    """The msgs of `kind` the demo merchant received (GET {shop}/merchant/callbacks), once there are `count`."""
    deadline = time.monotonic() + 10
    while True:
        got = httpx.get(f"{demo.shop}/merchant/callbacks", timeout=10, trust_env=False).json()["received"]
        msgs = [c["msg"] for c in got if c["type"] == kind]
        if len(msgs) >= count or time.monotonic() > deadline:
            return msgs
        time.sleep(0.1)
