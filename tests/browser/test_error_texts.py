"""The error events carry errors.py's code and text, in the button's language: the scripts type neither (their
`E` tables are generated from errors.py, tests/unit/test_js_errors.py); here the browser shows what reaches
bind:error, from the button itself and from a hosted page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_helpers import Demo, add_button, errors_of, on_db
from sqlalchemy import update
from test_refund import buy_two

from paybutton.errors import REGISTRY
from paybutton.pages.routes import INPUT_MAX
from paybutton.tables import orders

pytestmark = pytest.mark.browser

MODE2 = {"bind:getgoodsinfo": "okInfo", "bind:placeorder": "okPlace", "bind:pay": "okPay"}


def _text(name: str, lang: str) -> str:
    spec = REGISTRY[name]
    return spec.en if lang == "en" else spec.zh


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_button_errors_carry_the_registry_code_and_text(shared_demo: Demo, page: Any, lang: str) -> None:
    page.goto(shared_demo.buy_page())
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    add_button(page, "mode", mode="7", lang=lang)  # MODE_INVALID
    add_button(page, "no-order", order_status="1", lang=lang)  # ORDER_ID_INVALID
    add_button(page, "refused", mode="2", goods_id="demo-hotpot", goods_type="1", lang=lang,
               **{**MODE2, "bind:placeorder": "rejectPlace"})
    page.wait_for_selector("#refused button[data-state=on_sale]")
    page.click("#refused button")  # PLACEORDER_FAILED, with the hook's reason after the registry's text
    got = {id_: errors_of(page, id_)[0] for id_ in ("mode", "no-order", "refused")}
    assert {k: (e["errNo"], e["errMsg"]) for k, e in got.items()} == {
        "mode": (REGISTRY["MODE_INVALID"].err_no, _text("MODE_INVALID", lang)),
        "no-order": (REGISTRY["ORDER_ID_INVALID"].err_no, _text("ORDER_ID_INVALID", lang)),
        "refused": (REGISTRY["PLACEORDER_FAILED"].err_no, _text("PLACEORDER_FAILED", lang) + ": not signed in"),
    }
    assert all(e["errLogId"] for e in got.values())


REFUND_BUTTON_JS = """([orderId, lang]) => { const b = document.createElement('pay-button'); b.id = 'legacy';
  b.setAttribute('order-status', '1'); b.setAttribute('order-id', orderId); b.setAttribute('lang', lang);
  window.__events = window.__events || [];
  b.addEventListener('error', e => window.__events.push(e.detail));
  document.querySelector('main').appendChild(b); }"""


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_a_hosted_pages_error_in_the_buttons_language(demo: Demo, page: Any, tmp_path: Path, lang: str) -> None:
    """refund-apply finds a 1.0 order without refund-total-amount: LEGACY_REFUND_AMOUNT_MISSING's code and text,
    in the language of the button that opened the page."""
    order_id = buy_two(page, demo)

    async def make_legacy(conn: Any) -> None:
        await conn.execute(update(orders).where(orders.c.order_id == order_id).values(legacy=True))

    on_db(tmp_path / "demo.db", make_legacy)
    page.evaluate(REFUND_BUTTON_JS, [order_id, lang])
    page.locator("#legacy button[data-state=ready]").click()
    page.wait_for_function("window.__events.length >= 1")
    (err,) = page.evaluate("window.__events")
    spec = REGISTRY["LEGACY_REFUND_AMOUNT_MISSING"]
    assert (err["errNo"], err["errMsg"]) == (spec.err_no, _text(spec.name, lang))


def test_order_confirm_takes_a_mobile_number_as_the_server_does(demo: Demo, page: Any) -> None:
    """order/rules.py's normalise_phone takes +86, spaces and dashes: so does order-confirm (G.mobile), and it sends
    the plain number."""
    page.goto(demo.buy_page(display="redirect"))
    page.wait_for_selector("#buy-merchant button[data-state=on_sale]")
    page.click("#buy-merchant button")
    page.wait_for_url(f"{demo.server}/pages/order-confirm?**")
    assert page.locator("#contact").get_attribute("maxlength") == str(INPUT_MAX["contact"])
    page.fill("#phone", "+86 129 0013 8000")  # not a mobile number: said at once
    page.locator("#pay-now:enabled").click()
    assert page.locator("[data-testid=msg]").inner_text() == "请输入正确的手机号"
    page.fill("#phone", "+86 139-0013-8000")
    with page.expect_request(lambda r: r.url.endswith("/api/buyer/v1/orders") and r.method == "POST") as sent:
        page.locator("#pay-now:enabled").click()
    assert sent.value.post_data_json["phone_num"] == "13900138000"
    page.wait_for_url(f"{demo.server}/pages/cashier?**")
