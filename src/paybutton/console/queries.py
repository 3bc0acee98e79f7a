"""The console's reads and writes of the app itself: its sign-ins, settings, payment channels and key, and the
dashboard; plus the paging every list shares (LIMIT/OFFSET, one row more than shown to know if there is a next
page). Every statement is filtered by the signed-in app; each function opens its own connection or transaction
(the pages never do)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypedDict, TypeVar

from sqlalchemy import and_, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from paybutton.apps import service as app_service
from paybutton.callbacks import outbox as outbox_mod
from paybutton.cashier import payconfig
from paybutton.console import session as sess
from paybutton.context import Ctx
from paybutton.goods import selling
from paybutton.order.states import OrderStatus
from paybutton.refund.rules import AuditStatus, RefundStatus
from paybutton.tables import apps, goods, orders, outbox, platform_keys, refunds

PAGE = 20
MAX_PAGE_NO = 10_000
DAY_MS = 86_400_000

Row = TypeVar("Row")


class Page(TypedDict, Generic[Row]):
    """One page of a list: its rows, its number, and whether there are pages before and after it."""

    rows: list[Row]
    page: int
    has_prev: bool
    has_next: bool


def page_of(rows: list[Row], page: int) -> Page[Row]:
    """`rows` as read with LIMIT PAGE + 1: the extra row only says there is a next page."""
    return {"rows": rows[:PAGE], "page": page, "has_prev": page > 1, "has_next": len(rows) > PAGE}


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# ------------------------------------------------------------------ sign-in


@dataclass(frozen=True)
class FoundApp:
    """An app a console session names: the app as shown, the fingerprint of its credentials, and whether the
    session's sign-in row still stands."""

    view: Mapping[str, Any]
    fp: str
    live: bool


@dataclass(frozen=True)
class Credentials:
    """What signs in to an app's console, and what its sessions' fingerprint is made of."""

    app_id: str
    secret: str
    password_hash: str | None


async def find_app(ctx: Ctx, app_id: str, sid: str | None, now_ms: int) -> FoundApp | None:
    async with ctx.db.engine.connect() as conn:
        row = (await conn.execute(select(apps).where(apps.c.app_id == app_id))).first()
        live = sid is not None and await sess.alive(conn, sid, app_id, now_ms)
    if row is None:
        return None
    return FoundApp(app_service.app_view(row), sess.fingerprint(row.secret, row.console_password_hash), live)


async def _credentials(conn: AsyncConnection, app_id: str) -> Credentials | None:
    row = (await conn.execute(select(apps.c.secret, apps.c.console_password_hash)
                              .where(apps.c.app_id == app_id))).first()
    return None if row is None else Credentials(app_id, row.secret, row.console_password_hash)


async def credentials(ctx: Ctx, app_id: str) -> Credentials | None:
    async with ctx.db.engine.connect() as conn:
        return await _credentials(conn, app_id)


async def start_sign_in(ctx: Ctx, app_id: str, now_ms: int) -> str:
    """A new console_sessions row of the app; its id."""
    async with ctx.db.tx() as conn:
        return await sess.start(conn, app_id, now_ms)


async def end_sign_in(ctx: Ctx, app_id: str, sid: str) -> None:
    async with ctx.db.tx() as conn:
        await sess.end(conn, app_id, sid=sid)


# ------------------------------------------------------------------ settings, the app secret, the platform key


async def save_settings(ctx: Ctx, app_id: str, changes: dict[str, Any]) -> None:
    async with ctx.db.tx() as conn:
        await app_service.update_app(conn, ctx.clock, app_id, **changes)
    ctx.apps.forget(app_id)


async def set_password(ctx: Ctx, app_id: str, password: str) -> Credentials:
    """A new console password: every session of the app ends (the caller's goes on as a new sign-in)."""
    async with ctx.db.tx() as conn:
        await app_service.update_app(conn, ctx.clock, app_id, console_password=password)
        creds = await _credentials(conn, app_id)
        await sess.end(conn, app_id)
    assert creds is not None
    return creds


async def rotate_secret(ctx: Ctx, app_id: str) -> Credentials:
    """A new app secret; the old one, its tokens and the app's sessions end."""
    async with ctx.db.tx() as conn:
        await app_service.rotate_secret(conn, ctx.clock, app_id)
        creds = await _credentials(conn, app_id)
    assert creds is not None
    ctx.apps.forget(app_id)
    return creds


async def pay_channel(ctx: Ctx, app_id: str, channel: str) -> dict[str, str] | None:
    """One real payment channel's saved settings (with its secrets: for checking an edit, never for a page)."""
    async with ctx.db.engine.connect() as conn:
        raw = (await conn.execute(select(apps.c.pay_config).where(apps.c.app_id == app_id))).scalar()
    return payconfig.parse(raw).get(channel)


async def set_pay_channel(ctx: Ctx, app_id: str, channel: str, edit: dict[str, Any] | None) -> None:
    """Save one real payment channel's settings (None: back to the sandbox)."""
    async with ctx.db.tx() as conn:
        await app_service.set_pay_channel(conn, ctx.clock, app_id, channel, edit)
    ctx.apps.forget(app_id)


async def active_public_key(conn: AsyncConnection) -> str:
    row = (await conn.execute(select(platform_keys.c.public_pem).where(platform_keys.c.active.is_(True))
                              .order_by(platform_keys.c.id.desc()).limit(1))).first()
    return str(row.public_pem) if row else ""


async def public_key(ctx: Ctx) -> str:
    """The active platform public key (PEM), for the settings page."""
    async with ctx.db.engine.connect() as conn:
        return await active_public_key(conn)


# ------------------------------------------------------------------ dashboard


class Stats(TypedDict):
    orders_24h: int
    paid_24h: int
    gross_24h: int
    refunded_24h: int
    to_audit: int
    dead_cb: int
    on_shelf_goods: int


def on_sale_now(now_ms: int) -> ColumnElement[bool]:
    """Goods a buyer can buy now (state on_sale): the sell condition's state clauses (goods/selling.py) for one unit:
    on the shelf, inside the sale window, in stock."""
    values = {"now": now_ms, "q": 1}
    return and_(*(text(c.sql).bindparams(**{k: v for k, v in values.items() if f":{k}" in c.sql})
                  for c in selling.SELL if c.state is not None))


async def dashboard(ctx: Ctx, app_id: str) -> Stats:
    """The last 24 hours at a glance. Takings are net: what paid orders took in the window (by paid_at) less what
    refunds gave back in it (by refund_at)."""
    since = ctx.clock.now_ms() - DAY_MS
    async with ctx.db.engine.connect() as conn:
        recent = (await conn.execute(select(func.count()).select_from(orders).where(
            orders.c.app_id == app_id, orders.c.created_at >= since))).scalar_one()
        gross = (await conn.execute(
            select(func.coalesce(func.sum(orders.c.total_amount - orders.c.discount_amount), 0))
            .where(orders.c.app_id == app_id, orders.c.status == OrderStatus.SUCCESS.value,
                   orders.c.paid_at >= since))).scalar_one()
        refunded = (await conn.execute(
            select(func.coalesce(func.sum(refunds.c.refund_total_amount), 0))
            .where(refunds.c.app_id == app_id, refunds.c.status == RefundStatus.SUCCESS.value,
                   refunds.c.refund_at >= since))).scalar_one()
        to_audit = (await conn.execute(select(func.count()).select_from(refunds).where(
            refunds.c.app_id == app_id, refunds.c.status == RefundStatus.PROCESSING.value,
            refunds.c.audit_status == AuditStatus.TOAUDIT.value))).scalar_one()
        dead = (await conn.execute(select(func.count()).select_from(outbox).where(
            outbox.c.app_id == app_id, outbox.c.status == outbox_mod.DEAD))).scalar_one()
        on_shelf = (await conn.execute(select(func.count()).select_from(goods).where(  # a buyer can buy them now
            goods.c.app_id == app_id, on_sale_now(ctx.clock.now_ms())))).scalar_one()
    return {"orders_24h": int(recent), "paid_24h": int(gross) - int(refunded), "gross_24h": int(gross),
            "refunded_24h": int(refunded), "to_audit": int(to_audit),
            "dead_cb": int(dead), "on_shelf_goods": int(on_shelf)}
