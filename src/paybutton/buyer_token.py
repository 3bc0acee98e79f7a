"""Buyer tokens: short-lived, HMAC-SHA256-signed with the app secret by the merchant's server (or the demo
login). Standard library only, so the merchant library can mint them without the server installed.

Format: pbt1.<base64url(JSON {"app": app_id, "sub": open_id, "exp": unix seconds})>.<base64url(HMAC)>"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from paybutton import b64url
from paybutton.inputs import BIGINT_MAX, ID_LIMITS, bad_text

PREFIX = "pbt1"
MAX_OPEN_ID = ID_LIMITS["open_id"]  # orders.open_id is VARCHAR(128)
MAX_TOKEN = 1024  # characters: a real token is about 150


def mint(app_id: str, secret: str, open_id: str, ttl_seconds: int = 86400, now: float | None = None) -> str:
    if not open_id or len(open_id) > MAX_OPEN_ID or bad_text(open_id):
        raise ValueError(f"open_id must be 1-{MAX_OPEN_ID} characters of valid text")
    exp = int((time.time() if now is None else now) + ttl_seconds)
    payload = b64url.encode(json.dumps({"app": app_id, "sub": open_id, "exp": exp}, separators=(",", ":")).encode())
    mac = hmac.new(secret.encode(), f"{PREFIX}.{payload}".encode(), hashlib.sha256).digest()
    return f"{PREFIX}.{payload}.{b64url.encode(mac)}"


def peek_app(token: str) -> str | None:
    """The app a token claims to be for (unverified), so the server knows which secret to check with."""
    try:
        prefix, payload, _ = token.split(".")
        if prefix != PREFIX:
            return None
        if len(token) > MAX_TOKEN:
            return None
        claims = json.loads(b64url.decode(payload))
        app = claims.get("app") if isinstance(claims, dict) else None
        return app if isinstance(app, str) and 0 < len(app) <= ID_LIMITS["app_id"] and not bad_text(app) else None
    except (ValueError, json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return None


def verify(token: str, secret: str, now: float | None = None) -> tuple[str, str] | None:
    """(app_id, open_id) when the token is genuine and unexpired, else None."""
    if len(token) > MAX_TOKEN:
        return None
    try:
        prefix, payload, mac = token.split(".")
    except ValueError:
        return None
    if prefix != PREFIX:
        return None
    want = hmac.new(secret.encode(), f"{PREFIX}.{payload}".encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(want, b64url.decode(mac)):
            return None
        claims = json.loads(b64url.decode(payload))
    except (ValueError, json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return None
    return _claims(claims, time.time() if now is None else now)


def _claims(claims: object, now: float) -> tuple[str, str] | None:
    """A signed payload is still only data: exp an integer in range and not past, app and sub valid ids."""
    if not isinstance(claims, dict):
        return None
    exp, app, sub = claims.get("exp"), claims.get("app"), claims.get("sub")
    if not isinstance(exp, int) or isinstance(exp, bool) or not 0 < exp <= BIGINT_MAX or exp < now:
        return None
    if not isinstance(app, str) or not 0 < len(app) <= ID_LIMITS["app_id"] or bad_text(app):
        return None
    if not isinstance(sub, str) or not 0 < len(sub) <= MAX_OPEN_ID or bad_text(sub):
        return None
    return app, sub
