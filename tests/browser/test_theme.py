"""The pages' theme: the site's App({getThemeConfig}) first, then the app's stored theme (apps.theme, set in the
console), then the defaults (8px, #FE2C55, #ffffff)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import Demo, on_db, shot
from sqlalchemy import update

from paybutton.demo.seed import DEMO_APP_ID
from paybutton.tables import apps

pytestmark = pytest.mark.browser

OVERLAY = "[data-pay-button-overlay] iframe"
STYLE = "el => { const s = getComputedStyle(el); return [s.backgroundColor, s.color, s.borderTopLeftRadius]; }"


def _open_confirm(page: Any, demo: Demo, theme_js: str | None) -> Any:
    page.goto(demo.buy_page())
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    if theme_js is not None:
        page.evaluate(f"() => {{ getApp().getThemeConfig = {theme_js}; }}")
    page.click("#buy-library button")
    f = page.frame_locator(OVERLAY)
    f.locator("#pay-now:enabled").wait_for()
    return f


def _store_theme(db: Path, theme: dict[str, str]) -> None:
    async def work(conn: Any) -> None:
        await conn.execute(update(apps).where(apps.c.app_id == DEMO_APP_ID).values(theme=json.dumps(theme)))

    on_db(db, work)


def test_get_theme_config_styles_the_pay_button(demo: Demo, page: Any) -> None:
    f = _open_confirm(page, demo, "() => ({borderRadius: '22px', backgroundColor: '#1E6FFF', fontColor: '#FFEE00'})")
    assert f.locator("#pay-now").evaluate(STYLE) == ["rgb(30, 111, 255)", "rgb(255, 238, 0)", "22px"]
    page.wait_for_load_state("networkidle")
    shot(page, "order-confirm-themed-phone")
    # the theme travels on to the cashier
    f.locator("#pay-now").click()
    f.locator("#confirm-pay:enabled").wait_for()
    assert f.locator("#confirm-pay").evaluate(STYLE) == ["rgb(30, 111, 255)", "rgb(255, 238, 0)", "22px"]


def test_defaults_and_rpx(demo: Demo, page: Any) -> None:
    f = _open_confirm(page, demo, "undefined")  # no getThemeConfig: the defaults
    assert f.locator("#pay-now").evaluate(STYLE) == ["rgb(254, 44, 85)", "rgb(255, 255, 255)", "8px"]
    # mini-program units (750rpx = the screen width of 375px), and a colour that is none: the default stays
    g = _open_confirm(page, demo, "() => ({borderRadius: '40rpx', backgroundColor: 'not a colour'})")
    assert g.locator("#pay-now").evaluate(STYLE) == ["rgb(254, 44, 85)", "rgb(255, 255, 255)", "20px"]


def test_the_stored_theme_applies_when_the_site_gives_none(demo: Demo, page: Any, tmp_path: Path) -> None:
    _store_theme(tmp_path / "demo.db", {"borderRadius": "4px", "backgroundColor": "#00A870", "fontColor": "#000000"})
    f = _open_confirm(page, demo, "undefined")
    assert f.locator("#pay-now").evaluate(STYLE) == ["rgb(0, 168, 112)", "rgb(0, 0, 0)", "4px"]
    # the site's theme wins, field by field
    g = _open_confirm(page, demo, "() => ({backgroundColor: '#1E6FFF'})")
    assert g.locator("#pay-now").evaluate(STYLE) == ["rgb(30, 111, 255)", "rgb(0, 0, 0)", "4px"]


def test_redirect_mode_carries_the_theme(demo: Demo, page: Any) -> None:
    page.goto(demo.buy_page(display="redirect"))
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    page.evaluate("() => { getApp().getThemeConfig = () => ({borderRadius: 0, backgroundColor: 'rebeccapurple'}); }")
    page.click("#buy-library button")
    page.wait_for_url(f"{demo.server}/pages/order-confirm?**")
    page.locator("#pay-now:enabled").wait_for()
    assert page.locator("#pay-now").evaluate(STYLE) == ["rgb(102, 51, 153)", "rgb(255, 255, 255)", "0px"]
    assert page.locator(".pb-chip").first.evaluate("el => getComputedStyle(el).color") == "rgb(102, 51, 153)"
