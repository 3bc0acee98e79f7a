"""A merchant server for tests, over real HTTP: records every callback, checks its signature with its own
implementation of the reference §13 algorithm (not paybutton's), and answers as each test tells it."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def independent_verify(public_pem: str, headers: dict[str, str], raw_body: bytes) -> bool:
    """Reference §13: verify RSA_PKCS1v15_SHA256(platform_public_key, ts + "\\n" + nonce + "\\n" + body + "\\n")."""
    key = serialization.load_pem_public_key(public_pem.encode())
    message = (
        headers["byte-timestamp"].encode() + b"\n" + headers["byte-nonce-str"].encode() + b"\n" + raw_body + b"\n"
    )
    try:
        key.verify(base64.b64decode(headers["byte-signature"]), message, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr]
    except (InvalidSignature, KeyError, ValueError):
        return False
    return True


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    raw: bytes
    body: dict[str, Any]
    msg: dict[str, Any]
    signature_ok: bool


Answer = Callable[[Received], Awaitable[Response] | Response]


def ok(data: dict[str, Any] | None = None) -> Response:
    return JSONResponse({"err_no": 0, "err_tips": "success", "data": data or {}})


def refuse(err_no: int = 1, tips: str = "refused") -> Response:
    return JSONResponse({"err_no": err_no, "err_tips": tips})


@dataclass
class MerchantStub:
    """Answers by callback type; default: pre_create_order -> out_order_no 'M' + order_id; others -> ok."""

    public_pem: str = ""
    received: list[Received] = field(default_factory=list)
    answers: dict[str, Answer] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of_type(self, kind: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.body.get("type") == kind]

    async def handle(self, request: Request) -> Response:
        raw = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            body = json.loads(raw)
            msg = json.loads(body.get("msg", "{}"))
        except (ValueError, AttributeError):
            body, msg = {}, {}
        rec = Received(request.url.path, headers, raw, body, msg,
                       independent_verify(self.public_pem, headers, raw) if self.public_pem else False)
        with self.lock:
            self.received.append(rec)
        kind = body.get("type", "")
        answer = self.answers.get(kind)
        if answer is None:
            if kind == "pre_create_order":
                return ok({"out_order_no": "M" + msg.get("order_id", ""), "pay_expire_seconds": 300})
            return ok()
        result = answer(rec)
        if asyncio.iscoroutine(result):
            result = await result
        assert isinstance(result, Response)
        return result

    def asgi(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self.handle, methods=["POST"])])
