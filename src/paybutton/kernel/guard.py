"""The edge: every HTTP request passes here once, before routing and authentication.

- The body is read while it streams in, up to `max_body_bytes` (order placement: its own smaller limit); a
  Content-Length over it is refused before reading, a stream that passes it is refused at that byte, and the
  connection is closed. Memory stays flat whatever a client sends.
- JSON routes (the OpenAPI, the buyer API) take a body only as application/json (or +json): others get 415.
  The console and the hosted pages post HTML forms; the payment-channel notifies (/pay/notify/) take what the
  channel sends: both keep the size limit, not the JSON rule.
- Everything that enters is checked once by paybutton.inputs: the path, the query string, every header for
  NUL, the JSON body in one parse and one walk (the parsed body is left in scope["state"]["json_body"] for the
  order fast path, which then does not parse it again), form fields.

Errors answer in the route's own envelope (render.py, the renderer every error path uses): the OpenAPI
envelope (HTTP 200, except the transport errors 405, 413 and 415, which carry their status), the buyer API's
errNo/errMsg with the real status, or a small HTML page for the console and the pages."""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paybutton import inputs
from paybutton.errors import TradeError
from paybutton.kernel.render import render_scope, send_rendered
from paybutton.kernel.surfaces import surface

log = logging.getLogger("paybutton")

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_HEADER_CTL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_PATH_CTL = re.compile("[\x00-\x1f\x7f]")


def is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class EdgeGuard:
    def __init__(self, app: ASGIApp, max_body: int, limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_body = max_body
        self.limits = limits or {}  # path -> a smaller limit for that route

    def limit_for(self, path: str) -> int:
        return min(self.max_body, self.limits.get(path.rstrip("/") or "/", self.max_body))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, bytes] = {}
        for k, v in scope["headers"]:
            headers[k.lower()] = v
        try:
            body = await self._admit(scope, headers, receive)
        except TradeError as err:
            await send_rendered(send, render_scope(scope, err, surface(scope["path"])),
                                close=err.name == "BODY_TOO_LARGE")  # the rest of the body is never read
            return
        if body is None:
            await self.app(scope, receive, send)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _admit(self, scope: Scope, headers: dict[bytes, bytes], receive: Receive) -> bytes | None:
        """The body (None when the request has none), or TradeError."""
        path: str = scope["path"]
        where = surface(path)
        self._check_head(scope, headers)
        if scope["method"] not in BODY_METHODS:
            return None
        limit = self.limit_for(path)
        length = headers.get(b"content-length")
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        if length is not None:
            try:
                size = int(length)
            except ValueError:
                raise TradeError("INVALID_PARAMETER", "Content-Length is not a number") from None
            if size > limit:
                raise TradeError("BODY_TOO_LARGE", f"at most {limit} bytes")
        elif not chunked:
            size = 0
        else:
            size = -1
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        json_route = where in ("openapi", "api")
        if json_route and size != 0 and not is_json_type(content_type):
            raise TradeError("UNSUPPORTED_MEDIA_TYPE", f"got {content_type[:60] or 'none'}")
        body = await self._read(receive, limit)
        if not body:
            return body
        if json_route:
            if not is_json_type(content_type):
                raise TradeError("UNSUPPORTED_MEDIA_TYPE", f"got {content_type[:60] or 'none'}")
            try:
                parsed, normalised = inputs.loads_normalised(body)
            except inputs.Refused as e:
                raise TradeError("INVALID_PARAMETER", str(e)) from None
            except ValueError:
                raise TradeError("PARSE_ERROR") from None
            scope.setdefault("state", {})["json_body"] = parsed
            if normalised:  # the routes behind parse again: give them the normalised numbers (rare)
                body = json.dumps(parsed, ensure_ascii=False).encode()
        elif content_type.split(";", 1)[0].strip().lower() == "application/x-www-form-urlencoded":
            try:
                inputs.check_pairs(parse_qsl(body.decode("latin-1"), keep_blank_values=True), "form", ids=False)
            except inputs.Refused as e:
                raise TradeError("INVALID_PARAMETER", str(e)) from None
        return body

    @staticmethod
    def _check_head(scope: Scope, headers: dict[bytes, bytes]) -> None:
        try:
            inputs.check_text(scope["path"], "path")
            if _PATH_CTL.search(scope["path"]):
                raise inputs.Refused("path: control characters are not allowed")
            qs: bytes = scope.get("query_string", b"")
            if qs:
                pairs = parse_qsl(qs.decode("latin-1"), keep_blank_values=True)
                inputs.check_pairs(pairs, "query", ids=surface(scope["path"]) != "page")
        except inputs.Refused as e:
            raise TradeError("INVALID_PARAMETER", str(e)) from None
        for k, v in scope["headers"]:
            if _HEADER_CTL.search(v):
                raise TradeError("INVALID_PARAMETER", f"header {k.decode('latin-1')}: control characters")

    @staticmethod
    async def _read(receive: Receive, limit: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise TradeError("PARSE_ERROR", "the client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise TradeError("BODY_TOO_LARGE", f"at most {limit} bytes")
            if chunk:
                chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)


def parsed_body(scope: Scope) -> Any:
    """The JSON body the edge parsed and checked (the order fast path uses it instead of parsing again)."""
    return scope.get("state", {}).get("json_body")
