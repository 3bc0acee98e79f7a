"""Buyer tokens for the merchant's users (what `tt.login` fetches from the merchant's login URL)."""

from __future__ import annotations

from paybutton.buyer_token import mint

DEFAULT_TTL_SECONDS = 86400


def mint_buyer_token(app_id: str, secret: str, open_id: str, ttl_seconds: int = DEFAULT_TTL_SECONDS,
                     now: float | None = None) -> str:
    """A `pbt1.…` buyer token for `open_id` (the merchant's id of its user, 1-128 characters), signed with the
    app secret. Mint it on the merchant's server only: the secret never goes to a browser."""
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    return mint(app_id, secret, open_id, ttl_seconds=ttl_seconds, now=now)
