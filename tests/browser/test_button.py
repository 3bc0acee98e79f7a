"""What the <pay-button> shows (mode 1 statuses, mode 2 goods states) and the bind:error codes it raises."""

from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import Demo, add_button, button_text, errors_of

pytestmark = pytest.mark.browser


@pytest.fixture
def shop(shared_demo: Demo, page: Any) -> Any:
    page.goto(shared_demo.buy_page())
    page.wait_for_selector("#buy-library button[data-state=on_sale]")
    return page


MODE2 = {"bind:getgoodsinfo": "okInfo", "bind:placeorder": "okPlace", "bind:pay": "okPay"}


@pytest.mark.parametrize(("goods_id", "state", "zh", "en"), [
    ("demo-upcoming", "upcoming", "即将开始", "Starting soon"),
    ("demo-hotpot", "on_sale", "立即抢购", "Buy now"),
    ("demo-ended", "ended", "已结束", "Ended"),
    ("demo-soldout", "sold_out", "已售罄", "Sold out"),
])
def test_mode2_library_goods_states(shop: Any, goods_id: str, state: str, zh: str, en: str) -> None:
    add_button(shop, "b-zh", mode="{{2}}", goods_type="{{1}}", goods_id=goods_id, **MODE2)
    add_button(shop, "b-en", mode="2", goods_type="1", goods_id=goods_id, lang="en", **MODE2)
    assert button_text(shop, "b-zh", state) == zh
    assert button_text(shop, "b-en", state) == en
    if state == "upcoming":
        assert "开抢" in shop.locator("#b-zh button small").inner_text()


def test_mode2_merchant_goods_always_buy_now(shop: Any) -> None:
    assert button_text(shop, "buy-merchant", "on_sale") == "立即抢购"


@pytest.mark.parametrize(("status", "zh", "en"), [
    ("0", "继续支付", "Continue paying"), ("1", "申请退款", "Apply for refund"), ("2", "退款中", "Refunding"),
    ("3", "退款成功", "Refunded"), ("4", "退款失败", "Refund failed"),
])
def test_mode1_status_texts(shop: Any, status: str, zh: str, en: str) -> None:
    ref = {"order_id": "out-1"} if status in "01" else {"refund_id": "rf-1"}
    add_button(shop, "b-zh", order_status="{{" + status + "}}", **ref)
    add_button(shop, "b-en", order_status=status, lang="en", **ref)
    assert button_text(shop, "b-zh", "ready") == zh
    assert button_text(shop, "b-en", "ready") == en


@pytest.mark.parametrize(("attrs", "err_no"), [
    ({"mode": "3"}, 21500),
    ({"mode": "{{2}}", "goods_type": "1", **MODE2}, 21501),
    ({"mode": "2", "goods_id": "x" * 65, "goods_type": "1", **MODE2}, 21501),
    ({"mode": "2", "goods_id": "demo-hotpot", "goods_type": "3", **MODE2}, 21502),
    ({"mode": "2", "goods_id": "demo-hotpot", "goods_type": "1", "bind:placeorder": "okPlace", "bind:pay": "okPay"},
     21503),
    ({"mode": "2", "goods_id": "demo-hotpot", "goods_type": "1", "bind:getgoodsinfo": "okInfo", "bind:pay": "okPay"},
     21504),
    ({"mode": "2", "goods_id": "demo-hotpot", "goods_type": "1", "bind:getgoodsinfo": "okInfo",
      "bind:placeorder": "okPlace"}, 21516),
    ({"order_status": "5", "order_id": "o"}, 21521),
    ({"order_status": "1"}, 21522),
    ({"order_status": "3"}, 21523),
])
def test_attribute_errors_on_connect(shop: Any, attrs: dict[str, str], err_no: int) -> None:
    add_button(shop, "bad", **attrs)
    (err,) = errors_of(shop, "bad")
    assert err["errNo"] == err_no
    assert err["errMsg"] and err["errLogId"]
    assert shop.locator("#bad button[data-state=invalid]").count() == 1


def test_attribute_errors_on_change(shop: Any) -> None:
    add_button(shop, "b", order_status="0", order_id="out-1")
    button_text(shop, "b", "ready")
    shop.evaluate("document.getElementById('b').setAttribute('mode', 'x')")
    assert errors_of(shop, "b")[0]["errNo"] == 21500
    shop.evaluate("const b = document.getElementById('b'); b.setAttribute('mode', '1'); b.setAttribute('order-id', '')")
    assert errors_of(shop, "b", 2)[1]["errNo"] == 21522
    shop.evaluate("document.getElementById('b').setAttribute('order-id', 'out-2')")
    assert button_text(shop, "b", "ready") == "继续支付"


def test_error_text_comes_from_the_registry(shop: Any) -> None:
    add_button(shop, "b", mode="9", lang="en")
    assert errors_of(shop, "b")[0]["errMsg"] == "mode is invalid"
    add_button(shop, "c", mode="9")
    assert errors_of(shop, "c")[0]["errMsg"] == "mode 非法"


@pytest.mark.parametrize(("hook", "goods_type", "err_no"), [
    ("rejectInfo", "1", 21509), ("numberInfo", "1", 21512), ("badLimits", "1", 21512),
    ("fourLabels", "2", 21511), ("clashLabels", "2", 21511),
    # goods/rules.py's label rules, which placing the order applies again: caught by the button first
    ("twiceLabels", "2", 21511), ("bigLabelValue", "2", 21511), ("valuedPlainLabel", "2", 21511),
])
def test_getgoodsinfo_failures(shop: Any, hook: str, goods_type: str, err_no: int) -> None:
    add_button(shop, "b", mode="2", goods_id="demo-hotpot", goods_type=goods_type, **{
        **MODE2, "bind:getgoodsinfo": hook})
    assert errors_of(shop, "b")[0]["errNo"] == err_no
    shop.wait_for_selector("#b button[data-state=failed]")
    shop.click("#b button")  # a tap after the failure
    assert errors_of(shop, "b", 2)[1]["errNo"] == 21514


def test_tap_while_loading(shop: Any) -> None:
    add_button(shop, "b", mode="2", goods_id="demo-hotpot", goods_type="1",
               **{**MODE2, "bind:getgoodsinfo": "neverInfo"})
    shop.wait_for_selector("#b button[data-state=loading]")
    shop.click("#b button")
    assert errors_of(shop, "b")[0]["errNo"] == 21513


def test_placeorder_rejected(shop: Any) -> None:
    add_button(shop, "b", mode="2", goods_id="demo-hotpot", goods_type="1",
               **{**MODE2, "bind:placeorder": "rejectPlace"})
    shop.wait_for_selector("#b button[data-state=on_sale]")
    shop.click("#b button")
    assert errors_of(shop, "b")[0]["errNo"] == 21510
    assert shop.locator("[data-pay-button-overlay]").count() == 0


def test_hooks_by_property_and_listener(shop: Any) -> None:
    """el.bindNAME = fn and addEventListener count as bound; hook answers may be plain values."""
    shop.evaluate("""() => {
      const el = document.createElement('pay-button');
      el.id = 'p'; el.setAttribute('mode', '2');
      el.setAttribute('goods-id', 'demo-hotpot'); el.setAttribute('goods-type', '1');
      el.bindgetgoodsinfo = (e) => { window.__seen = [e.type, e.detail.goodsId, e.currentTarget === el]; return {}; };
      el.bindplaceorder = () => undefined;
      el.addEventListener('pay', () => {});
      el.__errs = []; el.addEventListener('error', e => el.__errs.push(e.detail));
      document.querySelector('main').appendChild(el);
    }""")
    assert button_text(shop, "p", "on_sale") == "立即抢购"
    assert shop.evaluate("window.__seen") == ["getgoodsinfo", "demo-hotpot", True]
    assert shop.evaluate("document.getElementById('p').__errs") == []


def test_other_origins_cannot_drive_the_pages(demo: Demo, page: Any) -> None:
    """The bridge and the hosted pages answer only the app's allowed origins (the trade server's own is not one)."""
    page.goto(f"{demo.server}/healthz")
    answered = page.evaluate("""(server) => new Promise(resolve => {
      const f = document.createElement('iframe');
      f.src = server + '/pages/bridge?app_id=tt5eed000000000001';
      f.onload = () => {
        window.addEventListener('message', e => { if (e.data && e.data.pb === 'reply') resolve('answered'); });
        f.contentWindow.postMessage({pb: 'call', id: 1, method: 'GET', path: '/api/errors'}, '*');
        setTimeout(() => resolve('silent'), 1000);
      };
      document.body.appendChild(f);
    })""", demo.server)
    assert answered == "silent"
    page.goto(f"{demo.server}/pages/order-confirm?app_id=tt5eed000000000001&goods_id=demo-hotpot&goods_type=1"
              f"&ret=http://evil.example/")
    assert "该页面不能返回到这个地址" in page.content()  # a zh-CN browser: the refusal in its language
