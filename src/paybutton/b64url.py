"""base64url without padding (RFC 4648 §5, as in JWTs): the encoding of buyer tokens. Standard library only, so
the merchant library can use it without the server installed."""

from __future__ import annotations

import base64


def encode(data: bytes) -> str:
    """Bytes as base64url text, the trailing '=' padding left off."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def decode(text: str) -> bytes:
    """base64url text with or without its padding back to bytes (binascii.Error, a ValueError, when it is not)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
