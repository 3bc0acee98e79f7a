"""GET /pages/pay-qr: the cashier's QR for WeChat Native's code_url, drawn only for such payment URLs."""

from __future__ import annotations

import io
from typing import Any

import segno


async def test_pay_qr_draws_wechat_code_urls_only(running: Any) -> None:
    url = "weixin://wxpay/bizpayurl?pr=Xr3kY9aB2c"
    ok = await running.client.get("/pages/pay-qr", params={"d": url})
    assert ok.status_code == 200 and ok.headers["content-type"] == "image/svg+xml"
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="svg", scale=5, border=2, title="WeChat Pay")
    assert ok.content == buf.getvalue()  # the QR of exactly that URL
    for bad in ("https://evil.example/", "weixin://wxpay/bizpayurl?pr=a b", "pbv1:123456789012", ""):
        r = await running.client.get("/pages/pay-qr", params={"d": bad})
        assert r.status_code == 400 and "weixin://wxpay" in r.text
