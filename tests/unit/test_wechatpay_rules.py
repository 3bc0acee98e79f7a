"""WeChat Pay's documented rules, against the strict fake: description's character set and length, notify_url,
the request headers, notifies signed with a platform certificate (chosen by Wechatpay-Serial), an unknown serial."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import httpx
import pytest
from fakes import keys
from fakes.receiver import Receiver
from fakes.wechat_gateway import FakeWechat
from fakes.wechat_rules import prepay_problem
from test_wechatpay_channel import World, req

from paybutton.cashier import payconfig
from paybutton.cashier.base import Outcome, TradeState
from paybutton.cashier.wechatpay import WechatPayCashier, description_of
from paybutton.errors import TradeError


def world(live_factory: Any, **extra: str) -> World:
    fake = FakeWechat()
    fake.base_url = live_factory(fake.app()).url
    receiver = Receiver()
    rurl = live_factory(receiver.app()).url
    cfg = payconfig.check_channel("wechat", {**fake.merchant_config(), **extra})
    # 10 s only guards against a hang: a loaded machine's answers may take over 1 s
    receiver.cashier = WechatPayCashier(cfg, refund_notify_url=f"{rurl}/notify/refund", timeout=10.0)
    return World(fake, receiver.cashier, receiver, f"{rurl}/notify")


def test_description_drops_four_byte_characters_and_keeps_127_bytes() -> None:
    assert description_of("Latte ☕ 🍰 cake") == "Latte ☕ cake"  # ☕ is 3 bytes, 🍰 is 4
    long = description_of("拿铁" * 100)
    assert len(long.encode()) <= 127 and long == "拿铁" * 21  # 126 bytes: cut at a character boundary
    assert description_of("🍰🍰") == "-"


async def test_an_emoji_goods_name_is_paid(live_factory: Any) -> None:
    w = world(live_factory)
    name = "Birthday cake 🎂 with candles 🕯️ " + "好" * 60
    assert prepay_problem("native", {"description": name, "out_trade_no": "wxatt-emoji", "notify_url": "https://a.b/n"})
    r = await w.cashier.charge(dataclasses.replace(req(w, "wxatt-emoji"), description=name))
    assert r.outcome is Outcome.PENDING, r.message
    sent = w.fake.trades["wxatt-emoji"]["description"]
    assert "🎂" not in sent and len(sent.encode()) <= 127 and sent.startswith("Birthday cake")


@pytest.mark.parametrize(("url", "problem"), [
    ("http://shop.example/notify", "notify_url 必须为https"),
    ("https://shop.example/notify?app=1", "notify_url 不能携带参数"),
])
def test_the_fake_holds_the_notify_url_rules(url: str, problem: str) -> None:
    body = {"description": "Latte", "out_trade_no": "wxatt-url", "notify_url": url}
    assert prepay_problem("native", body) == problem
    assert prepay_problem("native", {**body, "notify_url": "https://shop.example/notify"}) is None
    assert prepay_problem("native", {**body, "notify_url": "https://a.b/n", "out_trade_no": "x1"}) == \
        "out_trade_no 格式错误"
    assert prepay_problem("native", {**body, "notify_url": "https://a.b/n", "time_expire": "2026-01-01 10:00:00"}) \
        == "time_expire 格式错误"


async def test_requests_without_accept_or_user_agent_are_refused(live_factory: Any) -> None:
    w = world(live_factory)
    async with httpx.AsyncClient() as client:
        got = await client.get(f"{w.fake.base_url}/v3/pay/transactions/out-trade-no/x?mchid=1",
                               headers={"User-Agent": "t"})
        assert got.status_code == 401 and "Accept" in got.json()["message"]
        got = await client.get(f"{w.fake.base_url}/v3/pay/transactions/out-trade-no/x?mchid=1",
                               headers={"Accept": "application/json", "User-Agent": ""})
        assert got.status_code == 401 and "User-Agent" in got.json()["message"]


async def test_a_certificate_signed_notify_is_verified_by_its_serial(live_factory: Any) -> None:
    plain = world(live_factory)  # only the public key configured: the certificate's serial is unknown
    await plain.cashier.charge(req(plain, "wxatt-cert"))
    await plain.fake.pay("wxatt-cert", notify=False)
    n = await plain.fake.deliver(plain.fake.payment_notice("wxatt-cert", url=plain.notify_url, signer="certificate"))
    assert n.status == 500 and plain.receiver.refused[0].startswith("signed with an unknown platform key")
    assert (await plain.cashier.query("wxatt-cert")).state is TradeState.PAID  # the reconciler still catches up
    both = world(live_factory, platform_certificates=plain.fake.certificate_pem)
    await both.cashier.charge(req(both, "wxatt-cert2"))
    await both.fake.pay("wxatt-cert2", notify=False)
    by_cert = await both.fake.deliver(both.fake.payment_notice("wxatt-cert2", url=both.notify_url,
                                                               signer="certificate"))
    by_key = await both.fake.deliver(both.fake.payment_notice("wxatt-cert2", url=both.notify_url))
    assert (by_cert.status, by_key.status) == (204, 204), both.receiver.refused
    assert [e.paid for e in both.receiver.events] == [True, True]
    forged = both.fake.payment_notice("wxatt-cert2", url=both.notify_url, signer="certificate",
                                      private=both.fake.platform_private)  # the certificate's serial, another key
    assert (await both.fake.deliver(forged)).status == 500


def test_platform_certificates_are_checked_in_the_settings() -> None:
    fake = FakeWechat()
    with pytest.raises(TradeError) as e:
        payconfig.check_channel("wechat", {**fake.merchant_config(), "gateway": "https://x.test",
                                           "platform_certificates": "not a certificate"})
    assert e.value.detail.get("field") == "wechat.platform_certificates" or "platform_certificates" in str(e.value)
    cfg = payconfig.check_channel("wechat", {**fake.merchant_config(), "gateway": "https://x.test",
                                             "platform_certificates": fake.certificate_pem})
    assert cfg["platform_certificates"].startswith("-----BEGIN CERTIFICATE-----")
    assert payconfig.masked({"wechat": cfg})["wechat"]["platform_certificates"].startswith("set (")
    assert payconfig.field_errors("wechat", {**cfg, "platform_certificates": "x"}) == {
        "platform_certificates": "cert_pems"}


async def test_jsapi_inside_wechat_prepays_with_the_openid_and_signs_the_bridge_params(live_factory: Any) -> None:
    w = world(live_factory)
    base = req(w, "wxatt-jsapi")
    no_openid = await w.cashier.charge(dataclasses.replace(base, client="wechat"))
    assert no_openid.outcome is Outcome.FAIL and "openid" in no_openid.message and not w.fake.trades
    assert prepay_problem("jsapi", {"description": "x", "out_trade_no": "wxatt-j", "notify_url": "https://a.b/n"}) \
        == "缺少参数 payer.openid"
    r = await w.cashier.charge(dataclasses.replace(base, client="wechat", payer_openid="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"))
    assert r.outcome is Outcome.PENDING and r.action is not None and r.action.kind == "jsapi", r.message
    p = dict(r.action.params or {})
    t = w.fake.trades["wxatt-jsapi"]
    assert t["kind"] == "jsapi" and t["openid"] == "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
    assert p["appId"] == w.fake.appid and p["package"] == f"prepay_id={t['prepay']}" and p["signType"] == "RSA"
    assert p["timeStamp"].isdigit() and abs(int(p["timeStamp"]) - time.time()) < 60 and 1 <= len(p["nonceStr"]) <= 32
    signed = f"{p['appId']}\n{p['timeStamp']}\n{p['nonceStr']}\n{p['package']}\n".encode()
    assert keys.verify(w.fake.merchant_public, signed, p["paySign"])  # JSAPI调起支付: SHA256withRSA, merchant key
