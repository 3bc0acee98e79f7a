"""Paying inside WeChat's own browser (JSAPI), in Chromium with WeChat's user agent: the cashier asks for the
payment, gets the signed getBrandWCPayRequest parameters (JSAPI调起支付, https://pay.weixin.qq.com/doc/v3/merchant/
4012791857), hands them to WeixinJSBridge (stubbed by this test: it checks paySign with the merchant's public key
through WebCrypto, as WeChat does), and then polls the order until the fake gateway's notify has paid it."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from browser_helpers import events, keep_events, open_page, shot, to_the_cashier_in_redirect_mode
from test_real_channel_pay import _attempt, real

__all__ = ["real"]
pytestmark = pytest.mark.browser

WECHAT_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Mobile/15E148 MicroMessenger/8.0.50(0x1800323d) NetType/WIFI Language/zh_CN")
BRIDGE_JS = """(() => {
  const der = Uint8Array.from(atob(%r), c => c.charCodeAt(0));
  const bytes = s => Uint8Array.from(atob(s), c => c.charCodeAt(0));
  window.WeixinJSBridge = {invoke(name, params, cb) {
    const signed = new TextEncoder().encode(
      [params.appId, params.timeStamp, params.nonceStr, params.package].join('\\n') + '\\n');
    crypto.subtle.importKey('spki', der, {name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256'}, false, ['verify'])
      .then(key => crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, bytes(params.paySign), signed))
      .then(ok => {
        window.__wxpay = {name: name, params: params, verified: ok};
        cb({err_msg: ok ? 'get_brand_wcpay_request:ok' : 'get_brand_wcpay_request:fail'});
      });
  }};
})();"""


def _der_b64(pem: str) -> str:
    return "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))


def test_wechat_jsapi_inside_wechats_browser(real: Any, browser: Any) -> None:
    demo, wx, _ = real
    ctx, page = open_page(browser, "phone", user_agent=WECHAT_UA)
    ctx.add_init_script(BRIDGE_JS % _der_b64(wx.merchant_public))  # before the first page is loaded
    keep_events(page)  # the shop leaves index.html 1 s after a paid `pay` event: keep it past that
    try:
        to_the_cashier_in_redirect_mode(page, demo)
        page.locator("input[name=channel][value=wechat]").check()
        page.locator("#confirm-pay").click()
        page.wait_for_function("window.__wxpay !== undefined")
        got = page.evaluate("window.__wxpay")
        assert got["name"] == "getBrandWCPayRequest" and got["verified"] is True, got
        params = got["params"]
        assert sorted(params) == ["appId", "nonceStr", "package", "paySign", "signType", "timeStamp"]
        assert params["appId"] == wx.appid and params["signType"] == "RSA"
        (otn,) = list(wx.trades)
        t = wx.trades[otn]
        assert t["kind"] == "jsapi" and t["openid"] and params["package"] == f"prepay_id={t['prepay']}"
        assert page.locator("[data-testid=pay-qr]").is_hidden()  # no QR, no redirect: WeChat's own cashier
        shot(page, "real-channel-wechat-jsapi")
        assert httpx.post(f"{wx.base_url}/_fake/pay/{otn}", timeout=10, trust_env=False).json()[0][0] == 204
        page.wait_for_url(lambda u: u.startswith(demo.shop + "/"))
        (pay,) = events(page, "pay")
        assert pay["status"] == "success" and pay["result"]["code"] == 0
        p = _attempt(demo, pay["orderId"])
        assert p.payment_id == otn and p.provider == "wechatpay" and p.state == "SUCCESS"
        assert time.time() - int(params["timeStamp"]) < 120
    finally:
        ctx.close()
