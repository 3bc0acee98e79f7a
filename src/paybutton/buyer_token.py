"""Buyer tokens: short-lived, HMAC-SHA256-signed with the app secret by the merchant's server (or the demo
login). Standard library only, so the merchant library can mint them without the server installed.

Format: pbt1.<base64url(JSON {"app": app_id, "sub": open_id, "exp": unix seconds})>.<base64url(HMAC)>"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

PREFIX = "pbt1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint(app_id: str, secret: str, open_id: str, ttl_seconds: int = 86400, now: float | None = None) -> str:
    if not open_id or len(open_id) > 128:
        raise ValueError("open_id must be 1-128 characters")
    exp = int((time.time() if now is None else now) + ttl_seconds)
    payload = _b64(json.dumps({"app": app_id, "sub": open_id, "exp": exp}, separators=(",", ":")).encode())
    mac = hmac.new(secret.encode(), f"{PREFIX}.{payload}".encode(), hashlib.sha256).digest()
    return f"{PREFIX}.{payload}.{_b64(mac)}"


def peek_app(token: str) -> str | None:
    """The app a token claims to be for (unverified), so the server knows which secret to check with."""
    try:
        prefix, payload, _ = token.split(".")
        if prefix != PREFIX:
            return None
        app = json.loads(_unb64(payload)).get("app")
        return app if isinstance(app, str) else None
    except (ValueError, json.JSONDecodeError, UnicodeDecodeError):
        return None


def verify(token: str, secret: str, now: float | None = None) -> tuple[str, str] | None:
    """(app_id, open_id) when the token is genuine and unexpired, else None."""
    try:
        prefix, payload, mac = token.split(".")
    except ValueError:
        return None
    if prefix != PREFIX:
        return None
    want = hmac.new(secret.encode(), f"{PREFIX}.{payload}".encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(want, _unb64(mac)):
            return None
        claims = json.loads(_unb64(payload))
    except (ValueError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(claims, dict) or int(claims.get("exp", 0)) < (time.time() if now is None else now):
        return None
    app, sub = claims.get("app"), claims.get("sub")
    if not isinstance(app, str) or not isinstance(sub, str):
        return None
    return app, sub
