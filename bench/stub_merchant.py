"""A stub merchant server for the benchmark: answers pre_create_order after verifying the callback's signature
(reference §13: RSA PKCS1v15 SHA256 over `Byte-Timestamp\\nByte-Nonce-Str\\nraw body\\n`), counts good and bad
signatures and reports them on GET /stats. Plain HTTP/1.1 on asyncio (keep-alive), so the stub costs the
machine little.

    python -m bench.stub_merchant --port P --public-key-file platform.pem
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

JSON_HEADERS = [(b"content-type", b"application/json")]


class StubMerchant:
    def __init__(self, public_pem: str) -> None:
        key = serialization.load_pem_public_key(public_pem.encode())  # loaded once, not per request
        if not isinstance(key, rsa.RSAPublicKey):
            raise SystemExit("the platform public key must be RSA")
        self.key = key
        self.stats = {"requests": 0, "good_signatures": 0, "bad_signatures": 0, "pre_create_order": 0,
                      "other": 0}

    def verify(self, headers: dict[bytes, bytes], raw: bytes) -> bool:
        try:
            ts = headers[b"byte-timestamp"]
            nonce = headers[b"byte-nonce-str"]
            sig = base64.b64decode(headers[b"byte-signature"], validate=True)
            message = ts + b"\n" + nonce + b"\n" + raw + b"\n"
            self.key.verify(sig, message, padding.PKCS1v15(), hashes.SHA256())
        except (KeyError, ValueError, InvalidSignature):
            return False
        return True

    def answer(self, headers: dict[bytes, bytes], raw: bytes) -> dict[str, Any]:
        self.stats["requests"] += 1
        if not self.verify(headers, raw):
            self.stats["bad_signatures"] += 1
            return {"err_no": 1, "err_tips": "bad signature"}
        self.stats["good_signatures"] += 1
        try:
            body = json.loads(raw)
            kind = body.get("type")
            msg = json.loads(body.get("msg") or "{}")  # msg is a JSON string: parsed twice (reference §12.3)
        except (ValueError, AttributeError):
            return {"err_no": 2, "err_tips": "malformed body"}
        if kind == "pre_create_order":
            self.stats["pre_create_order"] += 1
            out_order_no = "B" + str(msg.get("order_id", ""))
            return {"err_no": 0, "err_tips": "success", "data": {"out_order_no": out_order_no}}
        self.stats["other"] += 1
        return {"err_no": 0, "err_tips": "success", "data": {}}

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        if scope["method"] == "GET":
            if scope["path"] == "/stats":
                await self._send(send, 200, self.stats)
            else:
                await self._send(send, 404, {"err_no": 404, "err_tips": "not found"})
            return
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        headers = dict(scope["headers"])  # names are lower-case bytes in ASGI
        await self._send(send, 200, self.answer(headers, raw))

    @staticmethod
    async def _send(send: Send, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, separators=(",", ":")).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [*JSON_HEADERS, (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})


class Answerer(Protocol):
    """What HttpStub serves: `answer` for every POST, `stats` on GET /stats (the crash drill's merchant too)."""

    stats: dict[str, int]

    def answer(self, headers: dict[bytes, bytes], raw: bytes) -> dict[str, Any]: ...


class HttpStub(asyncio.Protocol):
    """Minimal HTTP/1.1 with keep-alive over asyncio: the stub should cost the shared cores as little as it can
    (uvicorn + ASGI was about 0.3 ms of CPU per callback here)."""

    def __init__(self, merchant: Answerer) -> None:
        self.merchant = merchant
        self.buf = b""
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # uvloop's transports are not asyncio.Transport subclasses

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.buf[:end].split(b"\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get(b"content-length", b"0"))
            if len(self.buf) < end + 4 + length:
                return
            body = self.buf[end + 4:end + 4 + length]
            self.buf = self.buf[end + 4 + length:]
            method, path = [*lines[0].split(b" "), b"", b""][:2]
            if method == b"GET":
                status, payload = (200, self.merchant.stats) if path == b"/stats" else (404, {"err_no": 404})
            else:
                status, payload = 200, self.merchant.answer(headers, body)
            data_out = json.dumps(payload, separators=(",", ":")).encode()
            assert self.transport is not None
            self.transport.write(b"HTTP/1.1 %d OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                                 b"Connection: keep-alive\r\n\r\n" % (status, len(data_out)) + data_out)


async def serve(merchant: Any, host: str, port: int | None, fd: int | None = None) -> None:
    """Serve `merchant` on host:port, or on the listening socket inherited as `fd` (the bench keeps it)."""
    loop = asyncio.get_running_loop()
    if fd is not None:
        server = await loop.create_server(lambda: HttpStub(merchant), sock=socket.socket(fileno=fd), backlog=1024)
    else:
        server = await loop.create_server(lambda: HttpStub(merchant), host, port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--port", type=int)
    where.add_argument("--fd", type=int, help="serve on this inherited listening socket")
    parser.add_argument("--public-key-file", required=True, help="the platform public key, PEM")
    args = parser.parse_args()
    merchant = StubMerchant(Path(args.public_key_file).read_text())
    try:
        import uvloop

        uvloop.run(serve(merchant, args.host, args.port, args.fd))
    except ImportError:
        asyncio.run(serve(merchant, args.host, args.port, args.fd))


if __name__ == "__main__":
    main()
