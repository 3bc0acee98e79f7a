"""The console's signed session cookie (itsdangerous), its secret derived from the platform key, and CSRF tokens."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from paybutton.apps import service as app_service
from paybutton.context import Ctx

COOKIE = "pb_console"
LANG_COOKIE = "pb_console_lang"
MAX_AGE = 12 * 3600
_SALT = "paybutton.console.session"


def session_secret(ctx: Ctx) -> bytes:
    """HMAC of a fixed label under a value only the platform private key can produce (a deterministic PKCS#1 v1.5
    signature over a string no callback ever signs): every worker started with the same key agrees, and
    rotating the key signs every console out at the next start."""
    material = ctx.signer.sign(b"paybutton console session secret", 0, "console-session").signature
    return hmac.new(material.encode(), b"paybutton console session v1", hashlib.sha256).digest()


def _serializer(request: Request, ctx: Ctx) -> URLSafeTimedSerializer:
    state = request.app.state
    ser: URLSafeTimedSerializer | None = getattr(state, "console_serializer", None)
    if ser is None:
        ser = URLSafeTimedSerializer(session_secret(ctx), salt=_SALT)
        state.console_serializer = ser
    return ser


@dataclass
class Session:
    """What the cookie holds: a CSRF token always; the signed-in app and its credential fingerprint after sign-in."""

    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    app_id: str | None = None
    fp: str | None = None
    dirty: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"c": self.csrf, "a": self.app_id, "f": self.fp}


def load(request: Request, ctx: Ctx) -> Session:
    raw = request.cookies.get(COOKIE)
    if raw:
        try:
            data = _serializer(request, ctx).loads(raw, max_age=MAX_AGE)
        except BadSignature:
            data = None
        if isinstance(data, dict) and isinstance(data.get("c"), str):
            a, f = data.get("a"), data.get("f")
            return Session(csrf=data["c"], app_id=a if isinstance(a, str) else None,
                           fp=f if isinstance(f, str) else None)
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
