"""A payment channel that lives outside the server process, for the crash test: a tiny HTTP channel (run in the
test process) and HttpChannelCashier, the Cashier the server process talks to it with. The server loads the
cashier through the test hook PAYBUTTON_TEST_CASHIER=http_channel:HttpChannelCashier and finds the channel at
PAYBUTTON_TEST_CHANNEL_URL. Charges are idempotent by out_trade_no, as a real channel's are."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any, Literal

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from paybutton.cashier.base import (
    ChargeRequest,
    ChargeResult,
    NotifyAnswer,
    NotifyEvent,
    NotifyRejected,
    Outcome,
    QueryResult,
    RefundResult,
    TradeState,
)


class HttpChannel:
    """The channel: every charge succeeds at once; `charges` counts the money that moved."""

    def __init__(self) -> None:
        self.trades: dict[str, dict[str, Any]] = {}
        self.charges = 0
        self.queries = 0
        self.lock = threading.Lock()

    async def charge(self, request: Request) -> JSONResponse:
        d = await request.json()
        with self.lock:
            t = self.trades.get(d["out_trade_no"])
            if t is None:
                self.charges += 1
                t = {"amount": d["amount"], "pay_id": f"hc-{self.charges}"}
                self.trades[d["out_trade_no"]] = t
        return JSONResponse(t)

    async def query(self, request: Request) -> JSONResponse:
        with self.lock:
            self.queries += 1
            t = self.trades.get(request.path_params["no"])
        return JSONResponse({"state": "PAID", **t} if t else {"state": "CLOSED"})

    def asgi(self) -> Starlette:
        return Starlette(routes=[Route("/charge", self.charge, methods=["POST"]),
                                 Route("/query/{no}", self.query, methods=["GET"])])


class HttpChannelCashier:
    name = "httpchannel"
    sandbox = False

    def __init__(self) -> None:
        self.url = os.environ["PAYBUTTON_TEST_CHANNEL_URL"]

    async def charge(self, req: ChargeRequest) -> ChargeResult:
        async with httpx.AsyncClient(trust_env=False, timeout=5) as c:
            r = await c.post(f"{self.url}/charge", json={"out_trade_no": req.out_trade_no, "amount": req.amount})
        return ChargeResult(Outcome.SUCCESS, r.json()["pay_id"])

    async def query(self, out_trade_no: str) -> QueryResult:
        async with httpx.AsyncClient(trust_env=False, timeout=5) as c:
            d = (await c.get(f"{self.url}/query/{out_trade_no}")).json()
        return QueryResult(TradeState(d["state"]), d.get("pay_id"), d.get("amount"))

    async def close(self, out_trade_no: str) -> None:
        return None

    async def refund(self, *, refund_id: str, order_id: str, amount: int, channel_pay_id: str | None,
                     out_trade_no: str | None = None, total: int | None = None) -> RefundResult:
        return RefundResult(False, None, "httpchannel: no refunds")

    def parse_notify(self, kind: Literal["payment", "refund"], headers: Mapping[str, str],
                     body: bytes) -> NotifyEvent:
        raise NotifyRejected("httpchannel sends no notifies")

    def notify_answer(self, ok: bool) -> NotifyAnswer:
        return NotifyAnswer(200 if ok else 400, b"", "text/plain")
