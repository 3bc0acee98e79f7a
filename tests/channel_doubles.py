"""Test channels behind the Cashier port (no mocks inside the server: these are whole Cashier implementations).

CountingCashier wraps the sandbox and counts the charges that moved money, at the cashier. HmacChannel is a small
channel of its own: trades kept in memory (WAITING until "the buyer pays", then PAID), QR actions, pending refunds,
and notifies signed with HMAC-SHA256 over the raw body (header X-Test-Signature), which parse_notify verifies."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any, Literal

from paybutton.cashier.base import (
    ChargeRequest,
    ChargeResult,
    NotifyAnswer,
    NotifyEvent,
    NotifyRejected,
    Outcome,
    PayAction,
    QueryResult,
    RefundResult,
    TradeState,
)
from paybutton.cashier.sandbox import SandboxCashier


class CountingCashier:
    """The sandbox, counting successful charges; each charge takes `delay` seconds (a real channel's round trip)."""

    name = "sandbox"
    sandbox = True

    def __init__(self, inner: SandboxCashier, delay: float = 0.05) -> None:
        self.inner = inner
        self.delay = delay
        self.charges: list[str] = []
        self.successes = 0

    async def charge(self, req: ChargeRequest) -> ChargeResult:
        await asyncio.sleep(self.delay)
        self.charges.append(req.out_trade_no)
        got = await self.inner.charge(req)
        if got.outcome is Outcome.SUCCESS:
            self.successes += 1
        return got

    async def query(self, out_trade_no: str) -> QueryResult:
        return await self.inner.query(out_trade_no)

    async def close(self, out_trade_no: str) -> None:
        await self.inner.close(out_trade_no)

    async def refund(self, **kw: Any) -> RefundResult:
        return await self.inner.refund(**kw)

    def parse_notify(self, kind: Literal["payment", "refund"], headers: Mapping[str, str],
                     body: bytes) -> NotifyEvent:
        return self.inner.parse_notify(kind, headers, body)

    def notify_answer(self, ok: bool) -> NotifyAnswer:
        return self.inner.notify_answer(ok)


def sign(secret: bytes, body: bytes) -> str:
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


class HmacChannel:
    """A channel with a buyer step: charge -> PENDING with a QR; `buyer_pays` moves the money; notifies are
    HMAC-signed JSON. `lost_answer` makes the next charge move the money and then time out."""

    name = "hmacpay"
    sandbox = False

    def __init__(self, secret: bytes = b"test-notify-secret") -> None:
        self.secret = secret
        self.trades: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.charge_calls = 0
        self.closed: list[str] = []
        self.lost_answer = False

    async def charge(self, req: ChargeRequest) -> ChargeResult:
        self.charge_calls += 1
        self.trades.setdefault(req.out_trade_no, {"amount": req.amount, "state": TradeState.WAITING,
                                                      "pay_id": None})
        if self.lost_answer:
            self.lost_answer = False
            self.buyer_pays(req.out_trade_no)
            raise TimeoutError("the channel's answer was lost")
        return ChargeResult(Outcome.PENDING, None, "", PayAction("qr", f"hmacpay://qr/{req.out_trade_no}"))

    def buyer_pays(self, out_trade_no: str) -> None:
        t = self.trades[out_trade_no]
        if t["state"] is TradeState.WAITING:
            t.update(state=TradeState.PAID, pay_id=f"hp-{out_trade_no}")

    async def query(self, out_trade_no: str) -> QueryResult:
        t = self.trades.get(out_trade_no)
        if t is None:
            return QueryResult(TradeState.CLOSED, message="no such trade")
        return QueryResult(t["state"], t["pay_id"], t["amount"])

    async def close(self, out_trade_no: str) -> None:
        self.closed.append(out_trade_no)
        t = self.trades.get(out_trade_no)
        if t is not None and t["state"] is TradeState.WAITING:
            t["state"] = TradeState.CLOSED

    async def refund(self, *, refund_id: str, order_id: str, amount: int, channel_pay_id: str | None,
                     out_trade_no: str | None = None, total: int | None = None) -> RefundResult:
        t = self.trades.get(out_trade_no or "")
        if t is None or t["state"] is not TradeState.PAID or total != t["amount"]:
            return RefundResult(False, None, "hmacpay: no such paid trade")
        self.refunds.setdefault(refund_id, {"out_trade_no": out_trade_no, "amount": amount})
        return RefundResult(False, None, "", pending=True)

    def notify_body(self, **fields: Any) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(fields).encode()
        return body, {"X-Test-Signature": sign(self.secret, body), "Content-Type": "application/json"}

    def parse_notify(self, kind: Literal["payment", "refund"], headers: Mapping[str, str],
                     body: bytes) -> NotifyEvent:
        got = headers.get("x-test-signature", "")
        if not hmac.compare_digest(got, sign(self.secret, body)):
            raise NotifyRejected("bad signature")
        try:
            d = json.loads(body)
        except ValueError as e:
            raise NotifyRejected("bad body") from e
        if kind == "refund":
            return NotifyEvent("refund", d["out_trade_no"], d.get("amount"), out_refund_no=d["out_refund_no"],
                               channel_refund_id=d.get("refund_id"), ok=d["ok"], raw=d)
        return NotifyEvent("payment", d["out_trade_no"], d.get("amount"), channel_pay_id=d.get("pay_id"),
                           paid=d["paid"], raw=d)

    def notify_answer(self, ok: bool) -> NotifyAnswer:
        return NotifyAnswer(200 if ok else 400, b'{"code":"SUCCESS"}' if ok else b'{"code":"FAIL"}',
                            "application/json")
