"""The console's signed session cookie (itsdangerous), its secret derived from the platform key, CSRF tokens,
the server-side sign-in rows (console_sessions) and the sign-in throttle."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response

from paybutton.apps import service as app_service
from paybutton.context import Ctx
from paybutton.kernel.signing import Signer
from paybutton.tables import console_sessions

COOKIE = "pb_console"
LANG_COOKIE = "pb_console_lang"
MAX_AGE = 12 * 3600
MAX_SESSIONS_PER_APP = 200  # beyond this, an app's oldest sign-ins end (bounds the table, e.g. demo auto sign-ins)
_SALT = "paybutton.console.session"


def session_secret(ctx: Ctx) -> bytes:
    """HMAC of a fixed label under a value only the platform private key can produce (a deterministic PKCS#1 v1.5
    signature over a string no callback ever signs): every worker with the same key agrees, and rotating the key
    signs every console out as soon as the servers load the new key."""
    material = ctx.signer.sign(b"paybutton console session secret", 0, "console-session").signature
    return hmac.new(material.encode(), b"paybutton console session v1", hashlib.sha256).digest()


def _serializer(request: Request, ctx: Ctx) -> URLSafeTimedSerializer:
    state = request.app.state
    made: tuple[Signer, URLSafeTimedSerializer] | None = getattr(state, "console_serializer", None)
    if made is None or made[0] is not ctx.signer:  # made again when the platform key was reloaded
        made = (ctx.signer, URLSafeTimedSerializer(session_secret(ctx), salt=_SALT))
        state.console_serializer = made
    return made[1]


@dataclass
class Session:
    """What the cookie holds: a CSRF token always; after sign-in the app, its credential fingerprint and the id of
    the sign-in's console_sessions row."""

    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    app_id: str | None = None
    fp: str | None = None
    sid: str | None = None
    dirty: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"c": self.csrf, "a": self.app_id, "f": self.fp, "s": self.sid}


def load(request: Request, ctx: Ctx) -> Session:
    raw = request.cookies.get(COOKIE)
    if raw:
        try:
            data = _serializer(request, ctx).loads(raw, max_age=MAX_AGE)
        except BadSignature:
            data = None
        if isinstance(data, dict) and isinstance(data.get("c"), str):
            a, f, s = data.get("a"), data.get("f"), data.get("s")
            return Session(csrf=data["c"], app_id=a if isinstance(a, str) else None,
                           fp=f if isinstance(f, str) else None, sid=s if isinstance(s, str) else None)
    return Session(dirty=True)


def save(request: Request, ctx: Ctx, session: Session, response: Response) -> None:
    """Write the cookie: HttpOnly, SameSite=Lax, Secure when served over https, path /console."""
    response.set_cookie(COOKIE, _serializer(request, ctx).dumps(session.as_dict()), max_age=MAX_AGE, path="/console",
                        httponly=True, samesite="lax", secure=request.url.scheme == "https")


def csrf_ok(session: Session, token: str | None) -> bool:
    return bool(token) and secrets.compare_digest(session.csrf.encode(), str(token).encode())


def fingerprint(secret: str, password_hash: str | None) -> str:
    """Changes when the app's secret or console password changes, which ends every session of that app."""
    return hashlib.sha256(f"{secret}\n{password_hash or ''}".encode()).hexdigest()[:24]


async def check_credentials(secret: str, password_hash: str | None, password: str) -> bool:
    """The app's console password, or its secret (the "key"). Constant-time compares; no default password (an app
    without one signs in with its key only)."""
    if not password:
        return False
    by_key = secrets.compare_digest(secret.encode(), password.encode())
    # scrypt takes tens of milliseconds: off the event loop (and after the database connection is given back)
    by_password = await asyncio.to_thread(app_service.check_password, password_hash, password)
    return by_key or by_password


async def start(conn: AsyncConnection, app_id: str, now_ms: int) -> str:
    """A new sign-in row (expired ones are swept on the way); returns its id for the cookie."""
    await conn.execute(delete(console_sessions).where(console_sessions.c.expires_at <= now_ms))
    sid = secrets.token_urlsafe(32)
    await conn.execute(console_sessions.insert().values(id=sid, app_id=app_id, expires_at=now_ms + MAX_AGE * 1000,
                                                        created_at=now_ms))
    keep = (select(console_sessions.c.id).where(console_sessions.c.app_id == app_id)
            .order_by(console_sessions.c.created_at.desc(), console_sessions.c.id).limit(MAX_SESSIONS_PER_APP))
    await conn.execute(delete(console_sessions).where(console_sessions.c.app_id == app_id, console_sessions.c.id != sid,
                                                      console_sessions.c.id.not_in(keep)))
    return sid


async def alive(conn: AsyncConnection, sid: str | None, app_id: str, now_ms: int) -> bool:
    """Whether the sign-in still stands: not signed out, not ended by a password or secret change, not expired."""
    if not sid:
        return False
    row = (await conn.execute(select(console_sessions.c.expires_at).where(
        console_sessions.c.id == sid, console_sessions.c.app_id == app_id))).first()
    return row is not None and row.expires_at > now_ms


async def end(conn: AsyncConnection, app_id: str, *, sid: str | None = None, keep: str | None = None) -> None:
    """End one sign-in (`sid`), or every sign-in of the app but `keep`."""
    where = [console_sessions.c.app_id == app_id]
    if sid is not None:
        where.append(console_sessions.c.id == sid)
    if keep is not None:
        where.append(console_sessions.c.id != keep)
    await conn.execute(delete(console_sessions).where(*where))


@dataclass
class Throttle:
    """Sign-in attempts per (client address, app id), in this process's memory. An attempt is counted when it
    starts, before the password is checked, so parallel guesses count too: after LIMIT attempts within WINDOW
    seconds, sign-in for that app from that client is refused for LOCK seconds; a success clears that count.
    Every attempt also counts for the client address alone (IP_LIMIT), which bounds guesses spread over many app
    ids. At most MAX_KEYS keys are kept (least recently used dropped first), so a flood of made-up app ids costs
    constant memory and constant time per attempt. Each server process counts on its own."""

    LIMIT = 5
    IP_LIMIT = 30
    WINDOW = 300.0
    LOCK = 60.0
    MAX_KEYS = 10_000
    _tries: OrderedDict[tuple[str, str], list[float]] = field(default_factory=OrderedDict)
    _locked: OrderedDict[tuple[str, str], float] = field(default_factory=OrderedDict)

    def attempt(self, key: tuple[str, str], now: float | None = None) -> int:
        """Count a sign-in attempt; 0 when it may go ahead, else the seconds left of the lock (not counted)."""
        t = time.monotonic() if now is None else now
        ip_key = (key[0], "*")
        wait = max(self._wait(key, t), self._wait(ip_key, t))
        if wait:
            return wait
        self._count(key, t, self.LIMIT)
        self._count(ip_key, t, self.IP_LIMIT)
        return 0

    def succeeded(self, key: tuple[str, str]) -> None:
        self._tries.pop(key, None)
        self._locked.pop(key, None)

    def _wait(self, key: tuple[str, str], t: float) -> int:
        until = self._locked.get(key, 0.0)
        if until <= t:
            self._locked.pop(key, None)
            return 0
        return math.ceil(until - t)

    def _count(self, key: tuple[str, str], t: float, limit: int) -> None:
        recent = [x for x in self._tries.pop(key, []) if x > t - self.WINDOW] + [t]
        if len(recent) >= limit:
            self._locked[key] = t + self.LOCK
            self._locked.move_to_end(key)
            recent = []
        self._tries[key] = recent
        for table in (self._tries, self._locked):
            while len(table) > self.MAX_KEYS:
                table.popitem(last=False)
