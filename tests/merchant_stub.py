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


# ---------------------------------------------------------------- marketing (query / calculate / query+calculate)


@dataclass
class StubOffer:
    """An offer of the stub merchant: `amount` fen off once the goods line reaches `min_total` fen."""

    id: str
    range: str  # "goods" or "order"
    amount: int
    min_total: int = 0
    type: int = 1

    def wire(self, reason: str | None = None) -> dict[str, Any]:
        o: dict[str, Any] = {"id": self.id, "type": self.type, "subtype": 0, "title": f"offer {self.id}",
                             "note": f"{self.amount} off from {self.min_total}", "value": self.amount}
        if reason:
            o["reason"] = reason
        return o


@dataclass
class MarketingStub:
    """Answers the three marketing extension points for a list of offers (chosen offers stack, each capped by what
    is left to pay). Independent of the demo merchant's implementation. `default` picks the ids query_and_calculate
    applies on first load (default: every usable offer)."""

    offers: list[StubOffer]
    default: list[str] | None = None

    def install(self, stub: MerchantStub) -> None:
        stub.answers["query_marketing_info"] = lambda r: ok(self.query(r.msg["goods_info"][0]))
        stub.answers["calculate_price"] = lambda r: ok(self.calculate(
            r.msg["goods_calculation_info"][0],
            [m["id"] for m in r.msg["goods_calculation_info"][0]["using_marketing"]]
            + [m["id"] for m in r.msg["order_calculation_info"]["using_marketing"]]))
        stub.answers["query_and_calculate"] = lambda r: ok(self.combined(r.msg))

    def usable(self, total: int) -> list[StubOffer]:
        return [o for o in self.offers if total >= o.min_total]

    def query(self, goods: dict[str, Any]) -> dict[str, Any]:
        total = goods["price"] * goods["quantity"]
        ok_ids = {o.id for o in self.usable(total)}
        return {
            "goods_valid_marketing_info": [{"goods_id": goods["goods_id"], "marketing_info": [
                o.wire() for o in self.offers if o.range == "goods" and o.id in ok_ids]}],
            "order_valid_marketing_info": [o.wire() for o in self.offers if o.range == "order" and o.id in ok_ids],
            "order_invalid_marketing_info": [o.wire("not reached") for o in self.offers
                                             if o.range == "order" and o.id not in ok_ids],
        }

    def calculate(self, goods: dict[str, Any], chosen: list[str]) -> dict[str, Any]:
        total = goods["price"] * goods["quantity"]
        left = total
        g: list[dict[str, Any]] = []
        o: list[dict[str, Any]] = []
        for offer in self.usable(total):
            if offer.id in chosen:
                amount = min(offer.amount, left)
                left -= amount
                (g if offer.range == "goods" else o).append(
                    {"id": offer.id, "type": offer.type, "subtype": 0, "discount_amount": amount,
                     "discount_range": 1 if offer.range == "goods" else 2, "title": f"offer {offer.id}"})
        gd = sum(x["discount_amount"] for x in g)
        od = sum(x["discount_amount"] for x in o)
        return {"calculation_type": 1,
                "goods_discount_detail": [{"goods_id": goods["goods_id"], "quantity": goods["quantity"],
                                           "total_amount": total, "total_discount_amount": gd,
                                           "marketing_detail_info": g}],
                "order_discount_detail": {"order_total_discount_amount": gd + od, "goods_total_discount_amount": gd,
                                          "marketing_detail_info": o}}

    def combined(self, msg: dict[str, Any]) -> dict[str, Any]:
        goods = msg["goods_marketing_info"][0]
        total = goods["price"] * goods["quantity"]
        if msg["need_default_marketing"]:
            chosen = self.default if self.default is not None else [o.id for o in self.usable(total)]
        else:
            chosen = ([m["id"] for m in goods["selected_marketing"]]
                      + [m["id"] for m in msg["order_marketing_info"]["selected_marketing"]])
        return {**self.query(goods), "price_calculation_detail": self.calculate(goods, chosen)}
