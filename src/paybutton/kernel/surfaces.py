"""Which surface a path belongs to, and so which envelope its errors answer in."""

from __future__ import annotations

from typing import Literal

OPENAPI_PREFIXES = ("/api/apps/", "/api/trade/", "/oauth/")
NOTIFY_PREFIX = "/pay/notify/"
# The platform answers business errors with HTTP 200 and the codes in the envelope; these transport errors keep
# their status on the OpenAPI too.
TRANSPORT_STATUSES = frozenset({405, 413, 415})

Surface = Literal["openapi", "api", "notify", "page"]
# The fulfilment tool's OpenAPI calls (issue 22; toolkit/api.py, fulfillment/tools_api.py), whose answers Douyin
# gives as {err_no, err_msg, log_id, data}: their answers, errors included, carry those keys besides the
# {data, extra} envelope.
TOOLKIT_PREFIX = "/api/apps/trade/v2/toolkit"
ERR_NO_PREFIXES = (TOOLKIT_PREFIX + "/",)


def answers_err_no(path: str) -> bool:
    return path.startswith(ERR_NO_PREFIXES)


def is_openapi(path: str) -> bool:
    return (path + "/").startswith(OPENAPI_PREFIXES)  # "/api/trade" (slash stripped) too


def surface(path: str) -> Surface:
    """openapi, api (the buyer API and our other JSON routes), notify, or page (console, pages, the rest)."""
    if is_openapi(path):
        return "openapi"
    if path.startswith(NOTIFY_PREFIX):
        return "notify"
    if path.startswith("/api/"):
        return "api"
    return "page"
