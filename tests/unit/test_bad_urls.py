"""URLs that make urllib's parser raise (an unbalanced [ in the host) are bad input with a clear error, never
a 500: goods photos, app callback URLs and allowed origins, and the pages' return URL."""

from __future__ import annotations

from typing import Any

import pytest

from paybutton.apps.service import _check_origins, _check_url
from paybutton.demo.seed import DEMO_APP_ID, seed_demo
from paybutton.errors import TradeError
from paybutton.goods.rules import _check_photo as check_photo_url

BROKEN = ("http://[::1", "https://a]b/x.png", "http://[", "https://[zz]/")


@pytest.mark.parametrize("url", BROKEN)
def test_broken_urls_are_invalid_parameters(url: str) -> None:
    for check in (check_photo_url, lambda v: _check_url("pre_order_url", v), lambda v: _check_origins([v])):
        with pytest.raises(TradeError) as e:
            check(url)
        assert e.value.name == "INVALID_PARAMETER"


async def test_a_broken_return_url_is_refused_by_the_pages(running: Any) -> None:
    async with running.ctx.db.tx() as conn:
        await seed_demo(conn, running.ctx.clock, merchant_url="http://127.0.0.1:1/merchant",
                        shop_origin="http://127.0.0.1:1")
    for url in BROKEN:
        r = await running.client.get("/pages/order-confirm",
                                     params={"app_id": DEMO_APP_ID, "goods_id": "demo-hotpot", "ret": url})
        assert r.status_code == 400, (url, r.status_code)
    goods = await running.client.get("/pages/order-confirm", params={"app_id": DEMO_APP_ID, "goods_id": "x"})
    assert goods.status_code == 200
