"""One-time handover codes: how a buyer token reaches a hosted page opened in redirect mode (or the next page of a
journey) without ever being in a URL, where it would stay in the history, in a copied link or in a `Referer`.

The pay-button (holding the token) asks for a code bound to the token and the page's state; only the code goes
into the address (in the fragment, which no request carries). The page exchanges it once, within TTL_MS, for the
token and the state, and removes it from the address. A code is kept as a SHA-256 only; exchanging it clears the
token and the state and marks it used, so a replay is told apart from an expired code for KEEP_USED_MS."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.errors import TradeError
from paybutton.tables import handover_codes as hc

TTL_MS = 120_000  # a page load on a slow phone, with room to spare
KEEP_USED_MS = 3_600_000  # a used or expired code is remembered this long (then it is unknown: "expired")
MAX_STATE = 32_768  # characters of the state's JSON (goods info, the refund's item list, the theme, ...)
CODE_PATTERN = r"^[A-Za-z0-9_-]{43}$"  # secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Handover:
    token: str
    state: dict[str, Any]


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


async def issue(conn: AsyncConnection, now_ms: int, app_id: str, token: str, state: dict[str, Any]) -> str:
    """A new code for `token` (already verified) and the page's `state` (any token in it is dropped)."""
    body = json.dumps({k: v for k, v in state.items() if k != "token"}, ensure_ascii=False, separators=(",", ":"))
    if len(body) > MAX_STATE:
        raise TradeError("INVALID_PARAMETER", f"state: at most {MAX_STATE} characters of JSON")
    await conn.execute(delete(hc).where(hc.c.expires_at < now_ms - KEEP_USED_MS))
    code = secrets.token_urlsafe(32)
    await conn.execute(hc.insert().values(code_hash=_hash(code), app_id=app_id, token=token, state=body,
                                          expires_at=now_ms + TTL_MS, created_at=now_ms))
    return code


async def exchange(conn: AsyncConnection, now_ms: int, app_id: str, code: str) -> Handover:
    """The token and state behind `code`, once. HANDOVER_CODE_INVALID (detail.reason `used` or `expired`) otherwise;
    a code of another app, or one never issued, is `expired` too (nothing tells a guesser more)."""
    h = _hash(code)
    row = (await conn.execute(select(hc.c.app_id, hc.c.token, hc.c.state, hc.c.expires_at, hc.c.used_at)
                              .where(hc.c.code_hash == h))).first()
    if row is None or row.app_id != app_id or (row.used_at is None and row.expires_at <= now_ms):
        raise TradeError("HANDOVER_CODE_INVALID", reason="expired")
    if row.used_at is not None:
        raise TradeError("HANDOVER_CODE_INVALID", reason="used")
    # guarded: of two exchanges at once, one wins
    done = await conn.execute(update(hc).where(hc.c.code_hash == h, hc.c.used_at.is_(None))
                              .values(used_at=now_ms, token=None, state=None))
    if done.rowcount != 1:
        raise TradeError("HANDOVER_CODE_INVALID", reason="used")
    return Handover(token=row.token, state=json.loads(row.state))
