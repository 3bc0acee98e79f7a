"""The hosted pages embed their start-up state as JSON in a <script> block: query-string values must never be
able to close that block (a crafted link would otherwise run script on the trade server's origin, where the
console lives too)."""

from __future__ import annotations

import json
import re
from typing import Any

from paybutton.demo.seed import DEMO_APP_ID, seed_demo

EVIL = "</script><script>alert(document.domain)</script>"


async def test_query_values_cannot_close_the_boot_script(running: Any) -> None:
    async with running.ctx.db.tx() as conn:
        await seed_demo(conn, running.ctx.clock, merchant_url="http://127.0.0.1:1/merchant",
                        shop_origin="http://127.0.0.1:1")
    pages = [("/pages/order-confirm", {"goods_id": EVIL}), ("/pages/refund-apply", {"order": EVIL}),
             ("/pages/refund-detail", {"refund-id": EVIL}), ("/pages/cashier", {"order": EVIL}),
             ("/pages/bridge", {})]
    for path, extra in pages:
        r = await running.client.get(path, params={"app_id": DEMO_APP_ID, **extra})
        assert r.status_code in (200, 400, 404), (path, r.status_code)
        assert "<script>alert" not in r.text, path
        boot = re.search(r'<script id="pb-boot" type="application/json">(.*?)</script>', r.text, re.S)
        if boot is not None:
            state = json.loads(boot.group(1))  # still valid JSON, with the value intact once parsed
            assert isinstance(state, dict)
            if extra:
                assert EVIL in json.dumps(state, ensure_ascii=False), path
