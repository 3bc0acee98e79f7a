"""Redirect mode hands the buyer token to the hosted pages without a URL (issue 18 item 4): no `pbt1…` token, plain
or base64-wrapped, in any URL a frame visits, any history entry or any `Referer` the browser sends; the one-time
code is gone from the address once the page has it, and a replayed code gets a page that says so, in the page's
language. At 390x844 and 1280x800, in zh-CN and en; each state is saved to test-artifacts/."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

import pytest
from browser_helpers import Demo, open_page, shot

from paybutton.demo.seed import DEMO_APP_ID

pytestmark = pytest.mark.browser

COMBOS = [("phone", "zh-CN"), ("desktop", "en"), ("phone", "en"), ("desktop", "zh-CN")]
IDS = [f"{v}-{lang}" for v, lang in COMBOS]
CHUNK = re.compile(r"[A-Za-z0-9_\-+/%]{16,}")
USED = {"zh-CN": "此链接已经打开过", "en": "This link was already opened"}
EXPIRED = {"zh-CN": "此链接已过期", "en": "This link has expired"}


def leaks(text: str, token: str) -> bool:
    """Whether `text` (a URL, a Referer) carries the token: as is, or inside a base64 chunk (the old #pb=…)."""
    if "pbt1" in text or token in text:
        return True
    for chunk in CHUNK.findall(text.replace("%2B", "+").replace("%2F", "/").replace("%3D", "")):
        try:
            raw = base64.urlsafe_b64decode(chunk.replace("+", "-").replace("/", "_") + "=" * (-len(chunk) % 4))
        except ValueError:
            continue
        if b"pbt1" in raw:
            return True
    return False


@pytest.fixture(params=COMBOS, ids=IDS)
def combo(request: pytest.FixtureRequest, browser: Any) -> Iterator[tuple[Any, str, str, dict[str, list[str]]]]:
    """A page at the viewport, in the language, recording every URL its frames visit and every request's Referer."""
    viewport, lang = request.param
    ctx, page = open_page(browser, viewport, locale=lang)
    seen: dict[str, list[str]] = {"urls": [], "referers": []}
    ctx.on("request", lambda r: (seen["urls"].append(r.url), seen["referers"].append(r.headers.get("referer", ""))))
    page.on("framenavigated", lambda f: seen["urls"].append(f.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page, lang, f"{viewport}-{lang}", seen
    ctx.close()
    assert not errors, errors


def _history(page: Any) -> list[str]:
    """Every entry of the tab's history, walked back to the first and forward again: its URL."""
    n = page.evaluate("history.length")
    urls = [page.url]
    for _ in range(n - 1):
        page.go_back(wait_until="load")
        urls.append(page.url)
    for _ in range(n - 1):
        page.go_forward(wait_until="load")
    return urls


def test_redirect_mode_keeps_the_token_out_of_urls_history_and_referers(demo: Demo, combo: Any) -> None:
    page, lang, name, seen = combo
    en = lang == "en"
    page.goto(demo.buy_page(display="redirect", **({"lang": "en"} if en else {})))
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    page.click("#buy-library button")
    page.wait_for_url(f"{demo.server}/pages/order-confirm?**")
    page.locator("#pay-now:enabled").wait_for()
    assert "#" not in page.url  # the code left the address before the page went on
    token = page.evaluate(f"JSON.parse(sessionStorage.getItem('pb-state:{DEMO_APP_ID}')).token")
    assert token.startswith("pbt1.")
    page.locator("#pay-now").click()
    page.wait_for_url(f"{demo.server}/pages/cashier?**")
    page.locator("#confirm-pay:enabled").wait_for()
    assert "#" not in page.url
    shot(page, f"handover-cashier-{name}")
    cashier = page.url
    page.reload()  # a reload keeps the journey (sessionStorage), with no code
    page.locator("#confirm-pay:enabled").click()
    page.wait_for_url(f"{demo.shop}/pages/orderDetail/orderDetail.html?orderId=*")
    page.wait_for_selector("pay-button button[data-state=ready]")
    history = _history(page)
    assert len(history) >= 4
    codes = [u.split("#pbc=")[1] for u in seen["urls"] if "#pbc=" in u]
    assert len(codes) == 2, seen["urls"]  # order-confirm's and the cashier's: the handover did happen
    for url in seen["urls"] + history:
        assert not leaks(url, token), url
    for ref in seen["referers"]:
        assert not leaks(ref, token) and "pbc=" not in ref, ref
    # the cashier's code, replayed in a new tab (a copied link, the history database): refused, said in the language
    tab = page.context.new_page()
    tab.on("framenavigated", lambda f: seen["urls"].append(f.url))
    tab.goto(f"{cashier}#pbc={codes[1]}")
    tab.locator("body[data-handover=used]").wait_for()
    assert "#" not in tab.url
    assert tab.locator("[data-testid=msg]").inner_text().startswith(USED[lang])
    assert tab.locator("#confirm-pay").is_disabled()
    assert tab.evaluate(f"sessionStorage.getItem('pb-state:{DEMO_APP_ID}')") is None
    shot(tab, f"handover-replayed-{name}")
    # a code that is not (or no longer) known: expired
    tab.goto("about:blank")
    tab.goto(f"{cashier}#pbc={'A' * 43}")
    tab.locator("body[data-handover=expired]").wait_for()
    assert tab.locator("[data-testid=msg]").inner_text().startswith(EXPIRED[lang])
    # a copied address, which has no code at all: the page says where to start
    tab.goto(cashier)
    tab.locator("body[data-handover=none]").wait_for()
    assert tab.locator("[data-testid=msg]").inner_text() == ("Open this page from the merchant's page." if en
                                                             else "请从商家页面打开此页面。")
    for url in seen["urls"]:
        assert not leaks(url, token), url


def test_the_overlay_keeps_the_token_out_of_its_frames_urls(demo: Demo, combo: Any) -> None:
    """The overlay's first page gets its state by postMessage; order-confirm goes on to the cashier with a one-time
    code too, so no frame's URL carries the token either."""
    page, lang, name, seen = combo
    page.goto(demo.buy_page(**({"lang": "en"} if lang == "en" else {})))
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    page.click("#buy-library button")
    f = page.frame_locator("[data-pay-button-overlay] iframe")
    f.locator("#pay-now:enabled").click()
    f.locator("#confirm-pay:enabled").wait_for()
    cashier = page.frame(url=lambda u: "/pages/cashier" in u)
    assert cashier is not None and "#" not in cashier.url
    token = page.evaluate("tt.__token")
    f.locator("#confirm-pay").click()
    page.locator("[data-pay-button-overlay]").wait_for(state="detached")
    assert len([u for u in seen["urls"] if "/pages/cashier" in u and "#pbc=" in u]) == 1, seen["urls"]
    for url in seen["urls"] + seen["referers"]:
        assert not leaks(url, token), url
    shot(page, f"handover-overlay-paid-{name}")
