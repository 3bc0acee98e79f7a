"""The merchant app row as every layer reads it (AppRow), and the one query that loads it by id.

The apps domain (apps/service.py) creates and changes apps; reading one is needed below the domains too: the
buyer token verifies with the app's secret, and Ctx.app() caches this row for the order path."""

from __future__ import annotations

import json
from typing import Any, TypedDict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.cashier import payconfig
from paybutton.errors import TradeError
from paybutton.tables import apps


class AppRow(TypedDict):
    """An apps row as the code uses it: JSON columns parsed, no password hash, the channel settings masked
    (pay_config, fit to show) and whole (pay_secrets, for the cashier registry only)."""

    app_id: str
    name: str
    secret: str
    allowed_origins: list[str]
    pre_order_url: str | None
    payment_notify_url: str | None
    refund_url: str | None
    marketing_url: str | None
    login_url: str | None
    pay_expire_seconds: int
    need_refund_audit: bool
    refund_audit_seconds: int
    channels: list[str]
    delivery_type: int
    suspended: bool
    theme: dict[str, str] | None
    pay_config: dict[str, dict[str, str]]
    merchant_uid: str  # the seller (query_order's seller_uid)
    settle_mode: str  # manual | verify | pay (issue 21)
    settle_days: int  # the N of D+N
    rake_bps: int  # the platform's fee, basis points of what settles
    settle_url: str | None
    created_at: int
    updated_at: int
    pay_secrets: payconfig.PaySecrets


def app_view(row: Any) -> AppRow:
    """The AppRow of a full `apps` row (keys in the table's column order, as callers print them)."""
    m = row._mapping
    raw = m["pay_config"]
    return AppRow(
        app_id=m["app_id"], name=m["name"], secret=m["secret"],
        allowed_origins=json.loads(m["allowed_origins"]),
        pre_order_url=m["pre_order_url"], payment_notify_url=m["payment_notify_url"], refund_url=m["refund_url"],
        marketing_url=m["marketing_url"], login_url=m["login_url"],
        pay_expire_seconds=m["pay_expire_seconds"], need_refund_audit=m["need_refund_audit"],
        refund_audit_seconds=m["refund_audit_seconds"], channels=json.loads(m["channels"]),
        delivery_type=m["delivery_type"], suspended=m["suspended"],
        theme=json.loads(m["theme"]) if m["theme"] else None,
        pay_config=payconfig.masked(payconfig.parse(raw)),  # what may be shown: no secret
        merchant_uid=m["merchant_uid"] or "", settle_mode=m["settle_mode"], settle_days=m["settle_days"],
        rake_bps=m["rake_bps"], settle_url=m["settle_url"],
        created_at=m["created_at"], updated_at=m["updated_at"],
        pay_secrets=payconfig.PaySecrets(raw),  # for the cashier registry only; never printed
    )


async def get_app(conn: AsyncConnection, app_id: str) -> AppRow:
    """The app `app_id`; APP_NOT_FOUND when there is none."""
    row = (await conn.execute(select(apps).where(apps.c.app_id == app_id))).first()
    if row is None:
        raise TradeError("APP_NOT_FOUND", app_id)
    return app_view(row)
