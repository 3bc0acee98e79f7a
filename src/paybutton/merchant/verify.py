"""Verify a callback from paybutton (reference §13): base64 RSA-PKCS1v15-SHA256 with the platform key over
`Byte-Timestamp + "\\n" + Byte-Nonce-Str + "\\n" + raw_body + "\\n"`, checked on the raw bytes as received."""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

TIMESTAMP = "byte-timestamp"
NONCE = "byte-nonce-str"
SIGNATURE = "byte-signature"
LOGID = "byte-logid"
IDENTIFY_NAME = "byte-identifyname"
MAX_TIMESTAMP_DIGITS = 12  # unix seconds have 10 digits until the year 2286; a longer header is not a time


class CallbackVerificationError(ValueError):
    """A callback that must not be trusted. `reason` is one of: missing_header, bad_timestamp, stale_timestamp,
    future_timestamp, bad_signature, malformed_body."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Callback:
    """A verified callback: its `type`, its `msg` (already parsed from the JSON string) and its headers."""

    type: str
    msg: dict[str, Any]
    version: str
    timestamp: int
    nonce: str
    logid: str
    identify_name: str
    raw_body: bytes


def load_public_key(public_key_pem: str | bytes) -> rsa.RSAPublicKey:
    """The platform public key from its PEM (as served at /api/platform/public_key or `paybutton keys show`)."""
    pem = public_key_pem.encode() if isinstance(public_key_pem, str) else public_key_pem
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the platform public key must be an RSA key")
    return key


def signing_string(timestamp: str, nonce: str, raw_body: bytes) -> bytes:
    """The bytes the platform signs: timestamp, nonce and the raw body, each followed by a newline."""
    return timestamp.encode() + b"\n" + nonce.encode() + b"\n" + raw_body + b"\n"


PublicKey = str | bytes | rsa.RSAPublicKey


def verify_callback(
    raw_body: bytes,
    headers: Mapping[str, str],
    public_key_pem: PublicKey | Sequence[PublicKey],
    *,
    tolerance_seconds: int = 300,
    now: float | None = None,
) -> Callback:
    """The parsed callback when the signature is genuine and the timestamp within `tolerance_seconds` of `now`
    (default: the current time); raises CallbackVerificationError otherwise. Header names are case-insensitive.
    Pass the body exactly as received: a re-serialised body does not verify.

    `public_key_pem` may be a list of keys (PEM or loaded): a signature by any of them is genuine. Pass the old and
    the new platform key while the operator rotates it (`paybutton keys rotate`), then drop the old one."""
    h = {k.lower(): v for k, v in headers.items()}
    for name in (TIMESTAMP, NONCE, SIGNATURE):
        if not h.get(name):
            raise CallbackVerificationError("missing_header", f"the {name} header is missing or empty")
    ts_text, nonce, sig_text = h[TIMESTAMP], h[NONCE], h[SIGNATURE]
    if not ts_text.isascii() or not ts_text.isdigit() or len(ts_text) > MAX_TIMESTAMP_DIGITS:
        raise CallbackVerificationError("bad_timestamp", f"Byte-Timestamp {ts_text[:32]!r} is not unix seconds")
    ts = int(ts_text)
    skew = ts - (time.time() if now is None else now)
    if abs(skew) > tolerance_seconds:
        reason, when = ("stale_timestamp", "ago") if skew < 0 else ("future_timestamp", "ahead")
        raise CallbackVerificationError(reason, f"signed {int(abs(skew))} s {when} (tolerance {tolerance_seconds} s)")
    candidates = [public_key_pem] if isinstance(public_key_pem, str | bytes | rsa.RSAPublicKey) else public_key_pem
    keys = [k if isinstance(k, rsa.RSAPublicKey) else load_public_key(k) for k in candidates]
    if not keys:
        raise ValueError("verify_callback needs at least one platform public key")
    try:
        signature = base64.b64decode(sig_text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise CallbackVerificationError("bad_signature", "Byte-Signature is not base64") from e
    message = signing_string(ts_text, nonce, raw_body)
    if not any(_genuine(key, signature, message) for key in keys):
        raise CallbackVerificationError("bad_signature", "Byte-Signature does not match the body and headers")
    return _parse(raw_body, ts, nonce, h)


def _genuine(key: rsa.RSAPublicKey, signature: bytes, message: bytes) -> bool:
    try:
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def _parse(raw_body: bytes, ts: int, nonce: str, h: dict[str, str]) -> Callback:
    try:
        body = json.loads(raw_body)
        msg = json.loads(body["msg"]) if isinstance(body, dict) and isinstance(body.get("msg"), str) else None
    except (ValueError, UnicodeDecodeError) as e:
        raise CallbackVerificationError("malformed_body", f"the body is not JSON: {e}") from e
    if not isinstance(msg, dict) or not isinstance(body.get("type"), str):
        raise CallbackVerificationError("malformed_body", 'expected {"version", "type", "msg": "<JSON object>"}')
    return Callback(type=body["type"], msg=msg, version=str(body.get("version", "")), timestamp=ts, nonce=nonce,
                    logid=h.get(LOGID, ""), identify_name=h.get(IDENTIFY_NAME, ""), raw_body=raw_body)
