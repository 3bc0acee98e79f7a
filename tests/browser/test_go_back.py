"""Going back from the cashier does not leave a second order holding stock (issue 18.3), at 390x844 and 1280x800,
in zh-CN and en: the overlay's x (and the browser's back in redirect mode) keeps the order and says so; the next
tap offers to continue paying it (the seed's continue-pay: the cashier on the same order), and a new order placed
instead closes it, its stock back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from browser_helpers import Demo, on_db, open_page, shot, to_the_cashier_in_redirect_mode, toasts, watch_toasts
from sqlalchemy import select

from paybutton.demo.seed import DEMO_APP_ID
from paybutton.tables import goods, orders

pytestmark = pytest.mark.browser

OVERLAY = "[data-pay-button-overlay] iframe"
COMBOS = [("phone", "zh-CN"), ("desktop", "en"), ("phone", "en"), ("desktop", "zh-CN")]
IDS = [f"{v}-{lang}" for v, lang in COMBOS]
KEPT = {"zh-CN": "已关闭收银台,订单未支付,已为你保留,再次点击可继续支付",
        "en": "Cashier closed: not paid. Your order is kept; tap again to continue paying."}
RESUME = {"zh-CN": "你有一笔该商品的未支付订单", "en": "You have an unpaid order for this item"}


@pytest.fixture(params=COMBOS, ids=IDS)
def combo(request: pytest.FixtureRequest, browser: Any) -> Iterator[tuple[Any, str, str]]:
    viewport, lang = request.param
    ctx, page = open_page(browser, viewport, locale=lang)
    watch_toasts(page)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page, lang, f"{viewport}-{lang}"
    ctx.close()
    assert not errors, errors


def _state(db: Path) -> tuple[dict[str, str], int]:
    async def read(conn: Any) -> tuple[dict[str, str], int]:
        rows = (await conn.execute(select(orders.c.order_id, orders.c.status).where(
            orders.c.goods_id == "demo-hotpot"))).all()
        stock = (await conn.execute(select(goods.c.stock).where(
            goods.c.app_id == DEMO_APP_ID, goods.c.goods_id == "demo-hotpot"))).scalar_one()
        return {r.order_id: r.status for r in rows}, int(stock)

    got: tuple[dict[str, str], int] = on_db(db, read)
    return got


def _cashier_order(page: Any) -> str:
    f = page.frame_locator(OVERLAY)
    f.locator("#confirm-pay:enabled").wait_for()
    frame = page.frame(url=lambda u: "/pages/cashier" in u)
    assert frame is not None
    return parse_qs(urlsplit(frame.url).query)["order"][0]


def _close_overlay(page: Any, lang: str, name: str) -> None:
    """Close the overlay with its x: a new toast says the order is kept (recorded as it was shown: it shows 2.5 s,
    and a loaded machine took longer to read it). Closed once no toast shows: the button does not show again the
    words a toast still shows."""
    page.wait_for_function("() => !document.querySelector('.pb-toast')")
    before = len(page.evaluate("window.__toasts"))
    page.locator("[data-pay-button-overlay] > div > button").click()
    page.locator("[data-pay-button-overlay]").wait_for(state="detached")
    assert toasts(page, before + 1)[before:] == [KEPT[lang]]
    shot(page, f"go-back-kept-{name}")


def test_closing_the_cashier_keeps_the_order_then_resume_or_replace(demo: Demo, tmp_path: Path, combo: Any) -> None:
    page, lang, name = combo
    page.goto(demo.buy_page(**({"lang": "en"} if lang == "en" else {})))
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    page.click("#buy-library button")
    f = page.frame_locator(OVERLAY)
    f.locator("#pay-now:enabled").click()
    first = _cashier_order(page)
    _close_overlay(page, lang, name)
    # the next tap: order-confirm offers the kept order; continue paying opens the cashier on it
    page.click("#buy-library button")
    f = page.frame_locator(OVERLAY)
    f.locator("[data-testid=resume]").wait_for()
    shot(page, f"go-back-resume-{name}")
    assert RESUME[lang] in f.locator("[data-testid=resume]").inner_text()
    f.locator("[data-testid=resume-pay]").click()
    assert _cashier_order(page) == first
    _close_overlay(page, lang, name)
    # ... or a new order placed instead closes it, and its stock goes back
    page.click("#buy-library button")
    f = page.frame_locator(OVERLAY)
    f.locator("[data-testid=resume]").wait_for()
    f.locator("#pay-now:enabled").click()
    second = _cashier_order(page)
    assert second != first
    statuses, stock = _state(tmp_path / "demo.db")
    assert statuses == {first: "FAIL", second: "PROCESS"} and stock == 99, (statuses, stock)


@pytest.mark.parametrize(("viewport", "lang"), [("phone", "zh-CN"), ("desktop", "en")])
def test_back_from_the_redirect_cashier_offers_the_same_order(demo: Demo, tmp_path: Path, browser: Any,
                                                              viewport: str, lang: str) -> None:
    ctx, page = open_page(browser, viewport, locale=lang)
    try:
        to_the_cashier_in_redirect_mode(page, demo, **({"lang": "en"} if lang == "en" else {}))
        first = parse_qs(urlsplit(page.url).query)["order"][0]
        page.go_back()  # the browser's back: order-confirm again
        page.wait_for_url(f"{demo.server}/pages/order-confirm?**")
        page.locator("[data-testid=resume]").wait_for()
        shot(page, f"go-back-redirect-resume-{viewport}-{lang}")
        assert RESUME[lang] in page.locator("[data-testid=resume]").inner_text()
        page.locator("[data-testid=resume-pay]").click()
        page.wait_for_url(f"{demo.server}/pages/cashier?**")
        assert parse_qs(urlsplit(page.url).query)["order"][0] == first
        statuses, stock = _state(tmp_path / "demo.db")
        assert statuses == {first: "PROCESS"} and stock == 99
    finally:
        ctx.close()
