"""The outermost ASGI middleware: each request's id (logs.py), its metrics (route template, method, status,
latency) and, when asked, one access line. It runs before anything else, so every answer (errors, the edge's
refusals, FastOrders) carries `X-Request-Id` and is counted."""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from paybutton.telemetry import metrics
from paybutton.telemetry.logs import REQUEST_ID, request_id_from

access = logging.getLogger("paybutton.access")

# Answered before routing (api/fast_orders.py): no route in the scope, the path is the template.
PRE_ROUTED = frozenset({"/api/buyer/v1/orders", "/api/buyer/v1/orders/"})
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# (route, method, status) -> its counter and histogram (few keys: templates, methods, statuses).
_series: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def route_of(scope: Scope) -> str:
    """The route's template (`/api/buyer/v1/orders/{order_id}`), never the raw path: few label values."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    if scope.get("path") in PRE_ROUTED:
        return "/api/buyer/v1/orders"
    return "unmatched"


class Observe:
    def __init__(self, app: ASGIApp, *, access_log: bool = False) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        rid = request_id_from(header.decode("latin-1") if header is not None else None)
        scope.setdefault("state", {})["logid"] = rid
        token = REQUEST_ID.set(rid)
        status = 500  # what the client gets when nothing was sent (the server's own 500)
        t0 = time.perf_counter()

        async def send_with_id(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._done(scope, status, time.perf_counter() - t0)
            REQUEST_ID.reset(token)

    def _done(self, scope: Scope, status: int, seconds: float) -> None:
        route = route_of(scope)
        method = scope["method"] if scope["method"] in METHODS else "OTHER"
        key = (route, method, status)
        series = _series.get(key)
        if series is None:  # the label lookups once per route, method and status (the order path is hot)
            series = _series[key] = (metrics.HTTP_REQUESTS.labels(route=route, method=method, status=str(status)),
                                     metrics.HTTP_LATENCY.labels(route=route, method=method))
        series[0].inc()
        series[1].observe(seconds)
        if self.access_log:
            access.info("%s %s %d %.1f ms", method, scope["path"], status, seconds * 1000,
                        extra={"method": method, "route": route, "path": scope["path"], "status": status,
                               "duration_ms": round(seconds * 1000, 1)})
