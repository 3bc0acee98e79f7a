"""Use cases for merchant apps and the platform key. Services take a connection and never commit.

Reading one app (AppRow, app_view, get_app) is the kernel's (kernel/approws.py): the buyer token and Ctx.app()
need it below the domains."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton import audit, ids
from paybutton.apps import settle_rules
from paybutton.cashier import payconfig
from paybutton.clock import Clock
from paybutton.errors import TradeError

# Re-exported: every caller that reads apps through this module keeps doing so.
from paybutton.kernel.approws import AppRow as AppRow
from paybutton.kernel.approws import app_view as app_view
from paybutton.kernel.approws import get_app as get_app
from paybutton.kernel.signing import generate_key_pair
from paybutton.tables import access_tokens, apps, console_sessions, platform_keys

CHANNELS = ("douyin", "wechat", "alipay", "bankcard")
URL_FIELDS = ("pre_order_url", "payment_notify_url", "refund_url", "marketing_url", "login_url")
MAX_PAY_EXPIRE = 48 * 3600
MAX_AUDIT_SECONDS = 30 * 86400
THEME_KEYS = ("borderRadius", "backgroundColor", "fontColor")
COLOR_RE = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_RADIUS = re.compile(r"(?:[0-9]|[1-3][0-9]|40)px")


async def ensure_platform_key(conn: AsyncConnection, clock: Clock) -> tuple[str, str]:
    """The active platform key pair, generated on first use (once, even when several workers start at once)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(7270001)"))
    row = (
        await conn.execute(
            select(platform_keys.c.private_pem, platform_keys.c.public_pem)
            .where(platform_keys.c.active.is_(True))
            .order_by(platform_keys.c.id.desc())
            .limit(1)
        )
    ).first()
    if row:
        return row.private_pem, row.public_pem
    private_pem, public_pem = generate_key_pair()
    await conn.execute(
        platform_keys.insert().values(
            private_pem=private_pem, public_pem=public_pem, active=True, created_at=clock.now_ms()
        )
    )
    return private_pem, public_pem


async def rotate_platform_key(conn: AsyncConnection, clock: Clock) -> str:
    await conn.execute(update(platform_keys).values(active=False))
    private_pem, public_pem = generate_key_pair()
    await conn.execute(
        platform_keys.insert().values(
            private_pem=private_pem, public_pem=public_pem, active=True, created_at=clock.now_ms()
        )
    )
    await audit.record(conn, app_id=audit.PLATFORM, action="platform_key.rotate", target="platform_key",
                       after={"public_key_sha256": hashlib.sha256(public_pem.encode()).hexdigest()[:16]},
                       at_ms=clock.now_ms())
    return public_pem


def _check_url(name: str, value: str | None) -> str | None:
    if value in (None, ""):
        return None
    assert value is not None
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unbalanced [ in the host
        raise TradeError("INVALID_PARAMETER", f"{name} must be an http(s) URL") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise TradeError("INVALID_PARAMETER", f"{name} must be an http(s) URL")
    return value


def _check_origins(origins: list[str]) -> list[str]:
    out = []
    for o in origins:
        try:
            p = urlsplit(o)
        except ValueError:
            p = urlsplit("")
        if p.scheme not in ("http", "https") or not p.netloc or p.path not in ("", "/"):
            raise TradeError("INVALID_PARAMETER", f"allowed origin {o!r} must look like https://shop.example")
        out.append(f"{p.scheme}://{p.netloc}")
    return out


def check_theme(theme: Any) -> dict[str, str]:
    """The pages' theme {borderRadius: "0px".."40px", backgroundColor: "#rgb"/"#rrggbb", fontColor: likewise}."""
    if not isinstance(theme, dict) or set(theme) != set(THEME_KEYS):
        raise TradeError("INVALID_PARAMETER", f"theme must have exactly {', '.join(THEME_KEYS)}", field="theme")
    if not isinstance(theme["borderRadius"], str) or not _RADIUS.fullmatch(theme["borderRadius"]):
        raise TradeError("INVALID_PARAMETER", "borderRadius must be 0px..40px", field="borderRadius")
    for k in ("backgroundColor", "fontColor"):
        if not isinstance(theme[k], str) or not COLOR_RE.fullmatch(theme[k]):
            raise TradeError("INVALID_PARAMETER", f"{k} must be a colour like #FE2C55", field=k)
    return {k: theme[k] for k in THEME_KEYS}


def hash_password(password: str) -> str:
    salt = secrets.token_hex(8)
    digest = hashlib.scrypt(password.encode(), salt=salt.encode(), n=2**14, r=8, p=1).hex()
    return f"scrypt${salt}${digest}"


def check_password(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    try:
        _, salt, digest = stored.split("$")
    except ValueError:
        return False
    got = hashlib.scrypt(password.encode(), salt=salt.encode(), n=2**14, r=8, p=1).hex()
    return secrets.compare_digest(got, digest)


async def create_app(
    conn: AsyncConnection,
    clock: Clock,
    *,
    name: str,
    app_id: str | None = None,
    secret: str | None = None,
    allowed_origins: list[str] | None = None,
    pay_expire_seconds: int = 300,
    need_refund_audit: bool = False,
    console_password: str | None = None,
    delivery_type: int = 1,
    **urls: str | None,
) -> AppRow:
    if not name or len(name) > 128:
        raise TradeError("INVALID_PARAMETER", "name must be 1-128 characters")
    if not 1 <= pay_expire_seconds <= MAX_PAY_EXPIRE:
        raise TradeError("INVALID_PARAMETER", "pay_expire_seconds must be in 1..172800")
    _check_delivery_type(delivery_type)
    unknown = set(urls) - set(URL_FIELDS)
    if unknown:
        raise TradeError("INVALID_PARAMETER", f"unknown settings {sorted(unknown)}")
    aid = app_id or ids.app_id()
    if not (aid.startswith("tt") and len(aid) <= 32 and all(c in "0123456789abcdef" for c in aid[2:])):
        raise TradeError("INVALID_PARAMETER", "app_id must be 'tt' followed by hex digits")
    now = clock.now_ms()
    values: dict[str, Any] = {
        "app_id": aid,
        "name": name,
        "secret": secret or ids.secret(),
        "allowed_origins": json.dumps(_check_origins(allowed_origins or [])),
        "pay_expire_seconds": pay_expire_seconds,
        "need_refund_audit": need_refund_audit,
        "refund_audit_seconds": 3 * 86400,
        "channels": json.dumps(list(CHANNELS)),
        "delivery_type": delivery_type,
        "suspended": False,
        "console_password_hash": hash_password(console_password) if console_password else None,
        "merchant_uid": ids.merchant_uid(),
        "created_at": now,
        "updated_at": now,
    }
    for f in URL_FIELDS:
        values[f] = _check_url(f, urls.get(f))
    existing = (await conn.execute(select(apps.c.app_id).where(apps.c.app_id == aid))).first()
    if existing:
        raise TradeError("INVALID_PARAMETER", f"app {aid} already exists")
    await conn.execute(apps.insert().values(**values))
    made = await get_app(conn, aid)
    await audit.record(conn, app_id=aid, action="app.create", target=aid, after=audited(made), at_ms=now)
    return made


def _check_delivery_type(v: Any) -> int:
    """The app's orders' delivery_type (reference §1.4): 1 抖音码 (platform codes: delivery_prepare +
    delivery_verify, the default) or 0 三方码 (the merchant's own codes: push_delivery)."""
    if isinstance(v, bool) or v not in (0, 1):
        raise TradeError("INVALID_PARAMETER", "delivery_type must be 0 (三方码) or 1 (抖音码)")
    return int(v)


async def update_app(conn: AsyncConnection, clock: Clock, app_id: str, **changes: Any) -> AppRow:
    before = await get_app(conn, app_id)
    values: dict[str, Any] = {}
    for k, v in changes.items():
        if v is None:
            continue
        if k in URL_FIELDS or k == "settle_url":
            values[k] = _check_url(k, v)
        elif k in settle_rules.FIELDS:
            values[k] = settle_rules.check(k, v)
        elif k == "allowed_origins":
            values[k] = json.dumps(_check_origins(list(v)))
        elif k == "pay_expire_seconds":
            if not 1 <= int(v) <= MAX_PAY_EXPIRE:
                raise TradeError("INVALID_PARAMETER", "pay_expire_seconds must be in 1..172800")
            values[k] = int(v)
        elif k == "refund_audit_seconds":
            if not 60 <= int(v) <= MAX_AUDIT_SECONDS:
                raise TradeError("INVALID_PARAMETER", "refund_audit_seconds must be in 60..2592000")
            values[k] = int(v)
        elif k == "theme":
            values[k] = json.dumps(check_theme(v), separators=(",", ":"))
        elif k == "delivery_type":
            values[k] = _check_delivery_type(v)
        elif k in ("need_refund_audit", "suspended"):
            values[k] = bool(v)
        elif k == "name":
            values[k] = str(v)[:128]
        elif k == "channels":
            chans = list(v)
            if not set(chans) <= set(CHANNELS):
                raise TradeError("INVALID_PARAMETER", f"channels must be among {list(CHANNELS)}")
            values[k] = json.dumps(chans)
        elif k == "console_password":
            if not 8 <= len(str(v)) <= 128:
                raise TradeError("INVALID_PARAMETER", "the console password must be 8-128 characters",
                                 field="console_password")
            values["console_password_hash"] = hash_password(str(v))
        else:
            raise TradeError("INVALID_PARAMETER", f"unknown setting {k}")
    if not values:
        return before
    values["updated_at"] = clock.now_ms()
    await conn.execute(update(apps).where(apps.c.app_id == app_id).values(**values))
    after = await get_app(conn, app_id)
    was, now = audit.changed(audited(before), audited(after))
    if "console_password_hash" in values:
        now["changed"] = ["console_password"]  # only that it changed
    if was or now:
        await audit.record(conn, app_id=app_id, action="app.update", target=app_id, before=was, after=now,
                           at_ms=values["updated_at"])
    return after


async def rotate_secret(conn: AsyncConnection, clock: Clock, app_id: str) -> str:
    """A new app secret (the "key"); returns it. What the old one vouched for ends with it: the app's access tokens
    are revoked, buyer tokens signed with it no longer verify, and every console session of the app ends."""
    await get_app(conn, app_id)
    new_secret = ids.secret()
    await conn.execute(update(apps).where(apps.c.app_id == app_id).values(secret=new_secret,
                                                                          updated_at=clock.now_ms()))
    await conn.execute(delete(access_tokens).where(access_tokens.c.app_id == app_id))
    await conn.execute(delete(console_sessions).where(console_sessions.c.app_id == app_id))
    await audit.record(conn, app_id=app_id, action="app.rotate_secret", target=app_id,
                       after={"changed": ["secret"]}, at_ms=clock.now_ms())  # only that it changed
    return new_secret


def audited(app: Mapping[str, Any]) -> dict[str, Any]:
    """An app as the audit trail keeps it: its settings (audit.record masks the secret-named ones)."""
    return {k: v for k, v in app.items() if k not in ("pay_secrets", "created_at", "updated_at")}


def public_view(app: Mapping[str, Any]) -> dict[str, Any]:
    """An app dict fit to print or serialise: without the channel secrets."""
    return {k: v for k, v in app.items() if k != "pay_secrets"}


async def set_pay_channel(conn: AsyncConnection, clock: Clock, app_id: str, channel: str,
                          settings: dict[str, Any] | None) -> AppRow:
    """Save (checked; an empty secret keeps the saved one) or, with None, clear one real channel's settings."""
    if channel not in payconfig.FIELDS:
        raise TradeError("INVALID_PARAMETER", f"unknown pay channel {channel!r} (wechat or alipay)", field=channel)
    row = (await conn.execute(select(apps.c.pay_config).where(apps.c.app_id == app_id))).first()
    if row is None:
        raise TradeError("APP_NOT_FOUND", app_id)
    config = payconfig.parse(row.pay_config)
    before = payconfig.masked(config).get(channel)
    if settings is None:
        config.pop(channel, None)
    else:
        config[channel] = payconfig.check_channel(channel, payconfig.merge(config.get(channel), settings))
    await conn.execute(update(apps).where(apps.c.app_id == app_id)
                       .values(pay_config=payconfig.dump(config), updated_at=clock.now_ms()))
    after = await get_app(conn, app_id)
    await audit.record(conn, app_id=app_id, action="app.pay_channel", target=channel, before=before,
                       after=after["pay_config"].get(channel), at_ms=clock.now_ms())
    return after


async def list_apps(conn: AsyncConnection) -> list[AppRow]:
    rows = (await conn.execute(select(apps).order_by(apps.c.created_at))).all()
    return [app_view(r) for r in rows]
