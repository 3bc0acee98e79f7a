"""GET /pages/voucher-qr: the voucher card's QR per unit, drawn only for voucher QR data."""

from __future__ import annotations

import io
from typing import Any

import segno


async def test_voucher_qr_draws_only_voucher_data(running: Any) -> None:
    ok = await running.client.get("/pages/voucher-qr", params={"d": "pbv1:123456789012"})
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("image/svg+xml")
    assert "max-age" in ok.headers["cache-control"]
    # the SVG is the QR of exactly that data (segno draws the same matrix for the same data and options)
    buf = io.BytesIO()
    segno.make("pbv1:123456789012", error="m").save(buf, kind="svg", scale=3, border=1, title="pbv1:123456789012")
    assert ok.content == buf.getvalue()
    for bad in ("https://example.com/", "pbv1:", "pbv1:12 34", "pbv2:1234", "pbv1:" + "1" * 33):
        r = await running.client.get("/pages/voucher-qr", params={"d": bad})
        assert r.status_code in (400, 422), (bad, r.status_code)
        assert not r.headers["content-type"].startswith("image/")
    missing = await running.client.get("/pages/voucher-qr")
    assert missing.status_code == 400  # the validation error envelope, as everywhere
