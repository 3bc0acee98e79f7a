"""client_token: 2-hour access tokens for the platform OpenAPI (reference §12.1)."""

from __future__ import annotations

import secrets

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton import ids
from paybutton.clock import Clock
from paybutton.errors import TradeError
from paybutton.tables import access_tokens, apps

# A new token leaves the previous ones valid for at most this long (as the platform does).
OLD_TOKEN_GRACE_MS = 5 * 60 * 1000


async def issue(
    conn: AsyncConnection, clock: Clock, client_key: str, client_secret: str, ttl_s: int
) -> dict[str, int | str]:
    row = (await conn.execute(select(apps.c.secret).where(apps.c.app_id == client_key))).first()
    if row is None or not secrets.compare_digest(row.secret.encode(), client_secret.encode()):
        raise TradeError("CLIENT_CREDENTIALS_INVALID")
    now = clock.now_ms()
    await conn.execute(delete(access_tokens).where(access_tokens.c.expires_at < now - 86_400_000))
    await conn.execute(
        update(access_tokens)
        .where(access_tokens.c.app_id == client_key, access_tokens.c.expires_at > now + OLD_TOKEN_GRACE_MS)
        .values(expires_at=now + OLD_TOKEN_GRACE_MS)
    )
    token = ids.access_token()
    await conn.execute(
        access_tokens.insert().values(token=token, app_id=client_key, expires_at=now + ttl_s * 1000, created_at=now)
    )
    return {"access_token": token, "expires_in": ttl_s}


async def check(conn: AsyncConnection, clock: Clock, token: str | None) -> str:
    """The app id a token belongs to; ACCESS_TOKEN_INVALID (2190002) or ACCESS_TOKEN_EXPIRED (2190008)."""
    if not token:
        raise TradeError("ACCESS_TOKEN_INVALID", "missing access-token header")
    row = (
        await conn.execute(
            select(access_tokens.c.app_id, access_tokens.c.expires_at).where(access_tokens.c.token == token)
        )
    ).first()
    if row is None:
        raise TradeError("ACCESS_TOKEN_INVALID")
    if row.expires_at <= clock.now_ms():
        raise TradeError("ACCESS_TOKEN_EXPIRED")
    return str(row.app_id)
