"""Demo data: one merchant app with fixed credentials, library goods in every sale state (each with its own
picture, as the demo shop shows them), a merchant good."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.apps import service as app_service
from paybutton.clock import Clock
from paybutton.config import DEMO_APP_ID as DEMO_APP_ID
from paybutton.tables import apps, goods

DEMO_SECRET = "demo-secret-not-for-production"
DEMO_PASSWORD = "demo"
HOT_GOODS_ID = "demo-hotpot"
MERCHANT_GOODS_ID = "merchant-bbq-99"
DAY = 86_400_000

# The merchant good as the demo shop's getgoodsinfo describes it (the seed's own example).
MERCHANT_GOODS_INFO: dict[str, Any] = {
    "currentPrice": 9900,
    "goodsName": "循礼门M+丨【释集烤肉】99元 原价206.4元超值套餐",
    "goodsPhoto": "/static/demo/bbq.svg",
    "goodsLabels": [{"type": "EXPIRED_RETURNS"}, {"type": "REFUND_ANYTIME"}, {"type": "BOOK_IN_ADVANCE", "value": 2}],
    "minLimits": 1,
    "maxLimits": 2,
    "dateRule": "周一至周日可用",
    "validation": {"phoneNumber": {"required": True}},
    "extra": {},
}


def _goods(now: int) -> list[dict[str, Any]]:
    base = {"photo_url": "/static/demo/hotpot.svg", "min_limits": 1, "max_limits": 5, "date_rule": "周一至周日可用",
            "phone_required": False, "biz_line": 1, "on_shelf": True, "valid_days": 30, "sold": 0}
    return [
        {**base, "goods_id": HOT_GOODS_ID, "name": "双人火锅套餐", "price": 16800, "stock": 100,
         "sale_start": now - DAY, "sale_end": now + 30 * DAY,
         "labels": [{"type": "EXPIRED_RETURNS"}, {"type": "REFUND_ANYTIME"}, {"type": "BOOK_IN_ADVANCE", "value": 1}]},
        {**base, "goods_id": "demo-upcoming", "name": "周末早鸟套餐", "price": 5900, "stock": 50,
         "photo_url": "/static/demo/breakfast.svg",
         "sale_start": now + 2 * DAY, "sale_end": now + 9 * DAY, "labels": [{"type": "RESERVATION_FREE"}]},
        {**base, "goods_id": "demo-ended", "name": "中秋限定月饼", "price": 12800, "stock": 20,
         "photo_url": "/static/demo/mooncake.svg",
         "sale_start": now - 30 * DAY, "sale_end": now - DAY, "labels": [{"type": "NON_REFUNDABLE"}]},
        {**base, "goods_id": "demo-soldout", "name": "招牌牛排单人餐", "price": 8800, "stock": 0,
         "photo_url": "/static/demo/steak.svg",
         "sale_start": now - DAY, "sale_end": now + 30 * DAY, "labels": [{"type": "REFUNDABLE_DAYS", "value": 7}]},
    ]


async def seed_demo(conn: AsyncConnection, clock: Clock, *, merchant_url: str, shop_origin: str) -> dict[str, Any]:
    """Create (or refresh) the demo app and goods. Sale windows are set relative to now on every start."""
    urls: dict[str, str | None] = {
        "pre_order_url": f"{merchant_url}/callbacks/pre_create_order",
        "payment_notify_url": f"{merchant_url}/callbacks/payment",
        "refund_url": f"{merchant_url}/callbacks/refund",
        "marketing_url": f"{merchant_url}/callbacks/marketing",
        "settle_url": f"{merchant_url}/callbacks/settle",
        "login_url": f"{shop_origin}/demo-login",
    }
    exists = (await conn.execute(select(apps.c.app_id).where(apps.c.app_id == DEMO_APP_ID))).first()
    if exists is None:
        await app_service.create_app(
            conn, clock, name="释集烤肉 · paybutton 演示店", app_id=DEMO_APP_ID, secret=DEMO_SECRET,
            allowed_origins=[shop_origin], console_password=DEMO_PASSWORD)
        await app_service.update_app(conn, clock, DEMO_APP_ID, **urls)
        # The demo settles 核销 D+0: a settle (and its callback) follows `paybutton verify` within a sweep.
        await app_service.update_app(conn, clock, DEMO_APP_ID, settle_mode="verify", settle_days=0)
    else:
        await app_service.update_app(conn, clock, DEMO_APP_ID, allowed_origins=[shop_origin], **urls)
    now = clock.now_ms()
    for g in _goods(now):
        row = dict(g, app_id=DEMO_APP_ID, labels=json.dumps(g["labels"], ensure_ascii=False), updated_at=now)
        found = (await conn.execute(select(goods.c.stock).where(
            goods.c.app_id == DEMO_APP_ID, goods.c.goods_id == g["goods_id"]))).first()
        if found is None:
            await conn.execute(goods.insert().values(**row, created_at=now))
        else:
            row.pop("stock")
            row.pop("sold")
            await conn.execute(update(goods).where(goods.c.app_id == DEMO_APP_ID, goods.c.goods_id == g["goods_id"])
                               .values(**row))
    return {"app_id": DEMO_APP_ID, "secret": DEMO_SECRET, "goods": [g["goods_id"] for g in _goods(now)],
            "merchant_goods_id": MERCHANT_GOODS_ID}
