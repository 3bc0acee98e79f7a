"""Logids and the success envelope of the platform OpenAPI (reference §12.4)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.types import Scope

from paybutton import ids
from paybutton.kernel.ports import ctx_of


def logid_of(request: Request) -> str:
    """The request's logid (PlatformPathMiddleware gives every request one; a new one otherwise)."""
    lid = getattr(request.state, "logid", None)
    if lid is None:
        lid = ids.logid()
        request.state.logid = lid
    return str(lid)


def scope_logid(scope: Scope) -> str:
    """The logid of an ASGI scope ("" before PlatformPathMiddleware set one)."""
    return str(scope.get("state", {}).get("logid", ""))


def envelope(request: Request, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """The success envelope of the platform OpenAPI (reference §12.4)."""
    ctx = ctx_of(request)
    body = dict(data or {})
    body.setdefault("error_code", 0)
    body.setdefault("description", "")
    return {
        "data": body,
        "extra": {
            "error_code": 0,
            "description": "",
            "sub_error_code": 0,
            "sub_description": "",
            "logid": logid_of(request),
            "now": ctx.clock.now_ms() // 1000,
        },
    }
