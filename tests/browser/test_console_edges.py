"""The console's edges of issue 18, in a real browser at phone and desktop width, in Chinese and English: a fixed
callback URL reaches callbacks already queued and a replayed dead letter (item 8), the payment channel forms keep
what was typed and mark every field (item 9), texts a merchant can act on, a confirmed "agree", a filter that
stays, and a dashboard that counts goods a buyer can buy (item 10), and verify messages that say which and when
(item 11)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_helpers import check_page, describe
from browser_helpers import DESKTOP, PHONE, Demo, shot
from listening import free_port
from playwright.sync_api import expect
from test_console_flows import HOUR, Buyer, OffsetClock, outbox_row, reload_until

from paybutton.buyer_token import mint
from paybutton.demo.seed import DEMO_APP_ID, DEMO_SECRET

pytestmark = pytest.mark.browser

# (size, language): each test runs at both sizes, one of them in each language
VIEWS = [pytest.param(PHONE, "zh-CN", id="phone-zh"), pytest.param(DESKTOP, "en", id="desktop-en")]


def _console(page: Any, demo: Demo, size: dict[str, int], lang: str) -> str:
    page.set_viewport_size(size)
    page.goto(f"{demo.server}/console/lang/{lang}?next=/console")
    return demo.server + "/console"


def _name(size: dict[str, int], lang: str, what: str) -> str:
    return f"console-edges-{what}-{lang}-{'phone' if size == PHONE else 'desktop'}"


def _zh(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh-CN" else en


def _set_payment_url(page: Any, c: str, url: str) -> None:
    page.goto(c + "/settings")
    page.fill("input[name=payment_notify_url]", url)
    page.click("[data-testid=save-settings]")
    expect(page.locator("[data-testid=ok]")).to_have_count(1)  # the answer page may still be loading after the click


@pytest.mark.parametrize(("size", "lang"), VIEWS)
def test_a_fixed_callback_url_reaches_queued_callbacks_and_replays(
        demo_factory: Any, page: Any, live_factory: Any, tmp_path: Path, size: dict[str, int], lang: str) -> None:
    """Issue 18 item 8."""
    clock = OffsetClock()
    demo: Demo = demo_factory(clock=clock, run_workers=True, dispatch_interval_seconds=0.1,
                              sweep_interval_seconds=0.2)
    c = _console(page, demo, size, lang)
    down = f"http://127.0.0.1:{free_port()}/callbacks/payment"
    _set_payment_url(page, c, down)
    buyer = Buyer(demo, "edge-cb-buyer")
    db = tmp_path / "demo.db"
    try:
        first = buyer.buy("demo-hotpot", 1)
        deadline, seen = time.time() + 60, -1
        while True:  # the first one becomes a dead letter (its retries are hours apart: the clock is moved on)
            dead_id, status, attempts = outbox_row(db, first["order_id"])
            if status == "DEAD":
                break
            assert time.time() < deadline, f"still {status} after {attempts} attempts"
            if attempts != seen:
                seen = attempts
                clock.advance(6 * HOUR)
            time.sleep(0.05)
        buyer.close()  # days have passed on the server's clock: a token of the buyer as the server sees it now
        buyer.http.headers["Authorization"] = "Bearer " + mint(DEMO_APP_ID, DEMO_SECRET, "edge-cb-buyer",
                                                             now=clock.now_ms() / 1000)
        buyer.http = httpx.Client(base_url=demo.server, headers=buyer.http.headers, timeout=10)
        second = buyer.buy("demo-hotpot", 1)
        deadline = time.time() + 20
        while outbox_row(db, second["order_id"])[2] < 1:  # queued, tried once at the old URL, waiting to retry
            assert time.time() < deadline
            time.sleep(0.05)
        queued_id = outbox_row(db, second["order_id"])[0]
    finally:
        buyer.close()

    # the merchant's server is up on another address, and the merchant fixes the URL in the console
    from paybutton.demo.merchant import merchant_app

    received: list[dict[str, Any]] = []
    public_pem = httpx.get(f"{demo.server}/api/platform/public_key").text
    up = live_factory(merchant_app(public_pem, received)).url + "/callbacks/payment"
    _set_payment_url(page, c, up)

    # the callback already queued goes to the fixed URL at its next attempt; the log shows both URLs
    clock.advance(60)
    page.goto(f"{c}/callbacks/{queued_id}")
    reload_until(page, "[data-testid=callback][data-status=DONE]")
    urls = page.locator("[data-testid=attempt-url]").all_inner_texts()
    assert urls[-1] == up and set(urls[:-1]) == {down}, urls  # each attempt where it went
    assert page.locator("[data-testid=url]").inner_text() == up
    shot(page, _name(size, lang, "callback-two-urls"))

    # the dead letter: the page says where a replay goes (the URL now), the replay goes there, numbered on
    page.goto(f"{c}/callbacks/{dead_id}")
    assert page.locator("[data-testid=next-url]").inner_text() == up
    page.click("[data-testid=replay]")
    status = page.locator("[data-testid=callback]").get_attribute("data-status")
    banner = {"PENDING": _zh(lang, "已重新排队,正在发送到应用当前的地址", "Queued again: sending to the app's URL now"),
              "DONE": _zh(lang, "重新发送成功:商家已应答", "Replayed: delivered")}
    assert page.locator("[data-testid=ok]").inner_text() == banner[status]  # what it says is where it stands
    reload_until(page, "[data-testid=callback][data-status=DONE]")
    assert page.locator("[data-testid=ok]").inner_text() == banner["DONE"]
    rows = page.locator("[data-testid=attempt-log] tbody tr")
    assert rows.count() == 22
    last = rows.nth(21)
    assert last.locator("td").first.inner_text() == "22" and last.get_attribute("data-ok") == "1"
    assert last.locator("[data-testid=attempt-url]").inner_text() == up
    assert sorted(r["msg"]["order_id"] for r in received if r["type"] == "payment") == sorted(
        [first["order_id"], second["order_id"]])
    shot(page, _name(size, lang, "replayed"))


@pytest.mark.parametrize(("size", "lang"), VIEWS)
def test_the_pay_channel_forms_keep_what_was_typed_and_mark_every_field(
        demo: Demo, page: Any, size: dict[str, int], lang: str) -> None:
    """Issue 18 item 9."""
    from fakes.wechat_gateway import FakeWechat

    wcfg = FakeWechat(base_url="http://127.0.0.1:9").merchant_config()
    c = _console(page, demo, size, lang)
    page.goto(c + "/settings")
    form = page.locator("[data-testid=pay-wechat-form]")
    typed = {**wcfg, "mchid": "19000x", "apiv3_key": "short", "cert_serial_no": "zz"}
    for name, value in typed.items():
        form.locator(f"[name={name}]").fill(value)
    form.locator("[data-testid=save-pay-wechat]").click()
    form = page.locator("[data-testid=pay-wechat-form]")
    errors = {name: form.locator(f"[data-testid=error-pay-wechat-{name}]") for name in
              ("mchid", "apiv3_key", "cert_serial_no")}
    assert errors["mchid"].inner_text() == _zh(lang, "mchid 只能是数字", "mchid is digits only")
    assert errors["apiv3_key"].inner_text() == _zh(lang, "apiv3_key 是商户平台上设置的 APIv3 密钥:正好 32 个字符",
                                                   "apiv3_key is the APIv3 key set on the merchant platform: "
                                                   "exactly 32 characters")
    assert errors["cert_serial_no"].is_visible()
    assert form.locator("[data-testid=pay-wechat-error]").inner_text() == _zh(
        lang, "有 3 处需要修正,见各项下方的说明", "3 fields need fixing: see the notes under them")
    # what was typed stays (the public key too), the secrets do not: the form says to type them again
    for name in ("mchid", "appid", "cert_serial_no", "platform_public_key_id", "gateway"):
        assert form.locator(f"[name={name}]").input_value() == typed[name], name
    assert form.locator("[name=platform_public_key]").input_value().strip() == wcfg["platform_public_key"].strip()
    assert form.locator("[name=private_key]").input_value() == ""
    assert form.locator("[name=apiv3_key]").input_value() == ""
    assert form.locator("[data-testid=retype-pay-wechat-private_key]").is_visible()
    assert form.locator("[name=mchid]").get_attribute("aria-invalid") == "true"
    assert form.locator("[name=mchid]").evaluate("e => e === document.activeElement")
    shot(page, _name(size, lang, "pay-form-errors"))
    bad = check_page(page, f"{lang} pay form with errors")
    assert not bad, describe(bad)
    # fixed: saved
    form.locator("[name=mchid]").fill(wcfg["mchid"])
    form.locator("[name=cert_serial_no]").fill(wcfg["cert_serial_no"])
    form.locator("[name=apiv3_key]").fill(wcfg["apiv3_key"])
    form.locator("[name=private_key]").fill(wcfg["private_key"])
    form.locator("[data-testid=save-pay-wechat]").click()
    saved = _zh(lang, "支付通道配置已保存", "Payment channel settings saved")
    assert page.locator("[data-testid=ok]").inner_text() == saved
    assert page.locator("[data-testid=pay-wechat-state]").inner_text() == _zh(lang, "已配置", "Configured")


@pytest.mark.parametrize(("size", "lang"), VIEWS)
def test_console_texts_a_merchant_can_act_on(demo_factory: Any, page: Any, size: dict[str, int], lang: str) -> None:
    """Issue 18 item 10: the goods form's errors in the merchant's words, "agree" confirmed on a page of its own,
    the 待审核 filter kept after an audit action, and the dashboard's count of goods a buyer can buy now."""
    demo: Demo = demo_factory(run_workers=True, dispatch_interval_seconds=0.1, sweep_interval_seconds=0.2)
    c = _console(page, demo, size, lang)

    # the dashboard: of the demo's four goods on the shelf, one can be bought now (the others: upcoming, ended,
    # sold out); its link lists that one
    assert page.locator("[data-testid=on_shelf_goods]").inner_text() == "1"
    page.click("a.pc-stat[href='/console/goods?shelf=now']")
    assert page.locator("tr[data-goods-id]").evaluate_all("rs => rs.map(r => r.dataset.goodsId)") == ["demo-hotpot"]

    # the goods form: every error in words a merchant can act on, none naming a code field
    page.goto(c + "/goods/new")
    form = page.locator("[data-testid=goods-form]")
    form.locator("input[name=goods_id]").fill("edge-1")
    form.locator("input[name=name]").fill("edge")
    form.locator("input[name=price]").fill("1.234")
    form.locator("input[name=stock]").fill("abc")
    form.locator("input[name=sale_start]").fill("2026-12-02T10:00")
    form.locator("input[name=sale_end]").fill("2026-12-01T10:00")
    page.click("[data-testid=save]")
    got = {k: page.locator(f"[data-testid=error-{k}]").inner_text() for k in ("price", "stock", "sale_start")}
    assert got == {
        "price": _zh(lang, "价格最多两位小数(精确到分),例如 88.80",
                     "A price has at most 2 decimals (to the fen), e.g. 88.80"),
        "stock": _zh(lang, "库存须为 0 或正整数,例如 20", "Stock is a whole number, 0 or more, e.g. 20"),
        "sale_start": _zh(lang, "开售时间须早于停售时间", "The sale must start before it ends"),
    }
    shot(page, _name(size, lang, "goods-form-words"))
    form.locator("input[name=price]").fill("0")
    page.click("[data-testid=save]")
    assert page.locator("[data-testid=error-price]").inner_text() == _zh(
        lang, "价格须至少 ¥0.01:商品不能免费或为负数", "The price must be at least ¥0.01: a good cannot be free")

    # refunds under audit: "agree" asks first, and the 待审核 filter stays through every action
    page.goto(c + "/settings")
    page.locator("input[name=need_refund_audit]").check()
    page.click("[data-testid=save-settings]")
    buyer = Buyer(demo, "edge-audit-buyer")
    try:
        order = buyer.buy("demo-hotpot", 2)
        units = [i["item_order_id"] for i in order["item_orders"]]
        r_agree, r_deny = buyer.refund(order["order_id"], units[0]), buyer.refund(order["order_id"], units[1])
    finally:
        buyer.close()
    filtered = c + "/refunds?audit=TOAUDIT"
    page.goto(filtered)
    reload_until(page, f"[data-refund-id={r_agree}] [data-testid=agree]")
    reload_until(page, f"[data-refund-id={r_deny}] [data-testid=deny]")
    page.locator(f"[data-refund-id={r_deny}] [data-testid=deny]").click()  # no reason: refused, filter kept
    assert page.locator(f"[data-refund-id={r_deny}] [data-testid=audit-error]").inner_text() == _zh(
        lang, "拒绝时请填写理由", "Give a reason to deny")
    assert page.locator("select[name=audit]").input_value() == "TOAUDIT"
    page.locator(f"[data-refund-id={r_agree}] [data-testid=agree]").click()
    confirm = page.locator("[data-testid=agree-confirm]")
    assert confirm.get_attribute("data-refund-id") == r_agree
    assert page.locator("[data-testid=confirm-amount]").inner_text() == "¥168.00"
    shot(page, _name(size, lang, "agree-confirm"))
    bad = check_page(page, f"{lang} agree confirmation")
    assert not bad, describe(bad)
    page.click("[data-testid=agree-cancel]")  # cancelled: back to the filtered list, nothing decided
    assert page.url == filtered + "&page=1"
    assert page.locator(f"[data-refund-id={r_agree}] [data-testid=agree]").count() == 1
    page.locator(f"[data-refund-id={r_agree}] [data-testid=agree]").click()
    page.click("[data-testid=agree-confirmed]")
    assert page.locator("[data-testid=ok]").inner_text() == _zh(lang, "审核已提交", "Audit recorded")
    assert page.locator("select[name=audit]").input_value() == "TOAUDIT"
    assert page.locator(f"[data-refund-id={r_agree}]").count() == 0  # no longer waiting for the audit
    assert page.locator(f"[data-refund-id={r_deny}]").count() == 1
    shot(page, _name(size, lang, "refunds-filter-kept"))


@pytest.mark.parametrize(("size", "lang"), VIEWS)
def test_verify_says_redeemed_or_refunded_and_when(demo_factory: Any, page: Any, tmp_path: Path,
                                                   size: dict[str, int], lang: str) -> None:
    """Issue 18 item 11: an already redeemed code and a refunded code both said "not in a redeemable state"."""
    import sqlite3

    from paybutton.fulfillment.not_redeemable import beijing

    demo: Demo = demo_factory(run_workers=True, dispatch_interval_seconds=0.1, sweep_interval_seconds=0.2)
    c = _console(page, demo, size, lang)
    buyer = Buyer(demo, "edge-verify-buyer")
    try:
        order = buyer.buy("demo-hotpot", 2)
        oid = order["order_id"]
        units = [i["item_order_id"] for i in order["item_orders"]]
        buyer.refund(oid, units[1])
    finally:
        buyer.close()
    db = tmp_path / "demo.db"

    def item(iid: str) -> tuple[str, int, int | None]:
        with sqlite3.connect(db) as conn:
            code, status, at = conn.execute("SELECT voucher_code, status, verified_at FROM item_orders "
                                            "WHERE item_order_id = ?", (iid,)).fetchone()
        return str(code), int(status), at

    deadline = time.time() + 20
    while item(units[1])[1] != 102:  # the refund goes through (no audit)
        assert time.time() < deadline, "the refund never finished"
        time.sleep(0.1)
    used, gone = item(units[0])[0], item(units[1])[0]
    page.goto(c + "/verify")
    page.fill("input[name=code]", used)
    page.click("button.pc-wide")
    expect(page.locator("[data-testid=verified]")).to_have_count(1)
    when = beijing(int(item(units[0])[2] or 0))
    page.fill("input[name=code]", used)
    page.click("button.pc-wide")
    assert page.locator("[data-testid=error]").inner_text() == _zh(
        lang, f"券码不在可核销状态:券码 {used} 已于 {when}(北京时间)核销过,不能再次核销",
        f"the voucher is not in a redeemable state: code {used} was already redeemed on {when} (Beijing time)")
    shot(page, _name(size, lang, "verify-redeemed"))
    with sqlite3.connect(db) as conn:
        (refunded_at,) = conn.execute("SELECT refund_at FROM refunds WHERE order_id = ?", (oid,)).fetchone()
    page.fill("input[name=code]", gone)
    page.click("button.pc-wide")
    assert page.locator("[data-testid=error]").inner_text() == _zh(
        lang, f"券码不在可核销状态:券码 {gone} 已于 {beijing(refunded_at)}(北京时间)退款,不能核销",
        f"the voucher is not in a redeemable state: code {gone} was refunded on {beijing(refunded_at)} (Beijing time)")
    shot(page, _name(size, lang, "verify-refunded"))
