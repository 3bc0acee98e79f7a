"""paybutton.merchant: what a merchant's server needs, without the trade server's dependencies.

- `verify_callback(raw_body, headers, public_key_pem)` checks a callback's signature and timestamp;
- `answer`, `ack`, `refuse`, `pre_create_order_answer`, `pre_create_refund_answer`, `entry_schema`,
  `no_marketing_answer` build answers;
- `mint_buyer_token(app_id, secret, open_id)` signs a buyer token for the merchant's user;
- `OpenAPIClient(base_url, app_id, secret)` calls the platform OpenAPI (needs httpx).

Only `cryptography` and the standard library are imported here; see docs/merchant-library.md."""

from paybutton.merchant.answers import (
    ack,
    answer,
    answer_json,
    entry_schema,
    no_marketing_answer,
    pre_create_order_answer,
    pre_create_refund_answer,
    refuse,
)
from paybutton.merchant.client import OpenAPIClient, OpenAPIError
from paybutton.merchant.tokens import mint_buyer_token
from paybutton.merchant.verify import Callback, CallbackVerificationError, load_public_key, verify_callback

__all__ = [
    "Callback",
    "CallbackVerificationError",
    "OpenAPIClient",
    "OpenAPIError",
    "ack",
    "answer",
    "answer_json",
    "entry_schema",
    "load_public_key",
    "mint_buyer_token",
    "no_marketing_answer",
    "pre_create_order_answer",
    "pre_create_refund_answer",
    "refuse",
    "verify_callback",
]
