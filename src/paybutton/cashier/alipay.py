"""Alipay behind the Cashier port, with fzlee's `python-alipay-sdk` (unmodified; see docs/integration-guide.md for
why this SDK).

`alipay.trade.page.pay` (desktop) and `alipay.trade.wap.pay` (phones) build a signed URL to the gateway: the charge
itself moves no money and needs no network; the buyer pays on Alipay's page and Alipay's async notify (RSA2, verified
with the Alipay public key) or `alipay.trade.query` says so. Refunds (`alipay.trade.refund`, out_request_no = the
refund id) are answered at once; close is `alipay.trade.close`. The SDK is synchronous: calls run in a thread with a
deadline, and a gateway that does not answer gives UNKNOWN / pending, never an exception.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from urllib.parse import parse_qsl

from alipay import AliPay
from alipay.utils import AliPayConfig

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
from paybutton.money import yuan

log = logging.getLogger("paybutton.cashier.alipay")
CHINA = timezone(timedelta(hours=8))
_PAID = {"TRADE_SUCCESS", "TRADE_FINISHED"}


class ChannelDown(Exception):
    pass


def fen(value: Any) -> int | None:
    """'12.34' -> 1234 (exact)."""
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    cents = d * 100
    return int(cents) if cents == cents.to_integral_value() else None


def china_time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


class AlipayCashier:
    name = "alipay"
    sandbox = False

    def __init__(self, cfg: Mapping[str, str], *, timeout: float = 10.0) -> None:
        self._app_id = cfg["app_id"]
        self._timeout = timeout
        self._ali = AliPay(appid=cfg["app_id"], app_notify_url=None, app_private_key_string=cfg["app_private_key"],
                           alipay_public_key_string=cfg["alipay_public_key"], sign_type="RSA2",
                           config=AliPayConfig(timeout=timeout))
        # The SDK's gateway setting (the real one by default); tests point it at a local fake.
        self.gateway = cfg.get("gateway", "https://openapi.alipay.com/gateway.do")
        self._ali._gateway = self.gateway

    async def _call(self, fn: Callable[..., Any], /, **kwargs: Any) -> dict[str, Any]:
        try:
            out = await asyncio.wait_for(asyncio.to_thread(fn, **kwargs), self._timeout + 1)
        except Exception as e:  # urllib errors, timeouts, AliPayException (no sign), AliPayValidationError
            raise ChannelDown(f"{type(e).__name__}: {str(e)[:200]}") from None
        return out if isinstance(out, dict) else {}

    async def charge(self, req: ChargeRequest) -> ChargeResult:
        extra: dict[str, Any] = {}
        if req.expire_at_ms:
            extra["time_expire"] = china_time(req.expire_at_ms)
        subject = (req.description or req.order_id)[:128]
        try:
            if req.client == "phone":
                query = self._ali.api_alipay_trade_wap_pay(
                    subject, req.out_trade_no, yuan(req.amount), return_url=req.return_url or None,
                    notify_url=req.notify_url or None, quit_url=req.return_url or None, **extra)
            else:
                query = self._ali.api_alipay_trade_page_pay(
                    subject, req.out_trade_no, yuan(req.amount), return_url=req.return_url or None,
                    notify_url=req.notify_url or None, **extra)
        except Exception as e:  # a key the SDK cannot sign with
            return ChargeResult(Outcome.FAIL, message=f"alipay: cannot sign the payment ({type(e).__name__})")
        return ChargeResult(Outcome.PENDING, action=PayAction("redirect", f"{self.gateway}?{query}"))

    async def query(self, out_trade_no: str) -> QueryResult:
        try:
            r = await self._call(self._ali.api_alipay_trade_query, out_trade_no=out_trade_no)
        except ChannelDown as e:
            return QueryResult(TradeState.UNKNOWN, message=str(e))
        if r.get("code") != "10000":
            if r.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
                # Alipay creates the trade when the buyer opens its page: until then it "does not exist" but can
                # still be paid, up to time_expire (the order's deadline).
                return QueryResult(TradeState.WAITING, message="not opened at Alipay yet")
            return QueryResult(TradeState.UNKNOWN, message=f"{r.get('sub_code')} {r.get('sub_msg')}")
        status = r.get("trade_status")
        amount = fen(r.get("total_amount"))
        if status in _PAID:
            return QueryResult(TradeState.PAID, r.get("trade_no"), amount)
        if status == "WAIT_BUYER_PAY":
            return QueryResult(TradeState.WAITING, None, amount)
        return QueryResult(TradeState.CLOSED, None, amount, message=str(status))

    async def close(self, out_trade_no: str) -> None:
        try:
            r = await self._call(self._ali.api_alipay_trade_close, out_trade_no=out_trade_no)
            if r.get("code") != "10000":
                log.info("alipay close %s: %s", out_trade_no, r.get("sub_code"))
        except ChannelDown as e:
            log.warning("alipay close %s: %s", out_trade_no, e)

    async def refund(self, *, refund_id: str, order_id: str, amount: int, channel_pay_id: str | None,
                     out_trade_no: str | None = None, total: int | None = None) -> RefundResult:
        kwargs: dict[str, Any] = {"refund_amount": yuan(amount), "out_request_no": refund_id}
        if channel_pay_id:
            kwargs["trade_no"] = channel_pay_id
        else:
            kwargs["out_trade_no"] = out_trade_no
        try:
            r = await self._call(self._ali.api_alipay_trade_refund, **kwargs)
        except ChannelDown as e:
            log.warning("alipay refund %s: no answer (%s)", refund_id, e)
            return RefundResult(True, None, "Alipay did not answer; the refund query settles it", pending=True)
        if r.get("code") == "10000":
            return RefundResult(True, f"{r.get('trade_no')}:{refund_id}")
        return RefundResult(False, message=f"Alipay refused the refund: {r.get('sub_code')} {r.get('sub_msg')}")

    async def query_refund(self, refund_id: str, out_trade_no: str) -> RefundResult:
        """How a refund whose answer was lost stands (alipay.trade.fastpay.refund.query)."""
        try:
            r = await self._call(self._ali.api_alipay_trade_fastpay_refund_query, out_request_no=refund_id,
                                 out_trade_no=out_trade_no)
        except ChannelDown as e:
            return RefundResult(True, None, str(e), pending=True)
        if r.get("code") == "10000" and r.get("refund_status", "REFUND_SUCCESS") == "REFUND_SUCCESS" \
                and r.get("refund_amount"):
            return RefundResult(True, f"{r.get('trade_no')}:{refund_id}")
        if r.get("code") == "10000":
            return RefundResult(False, message="no such refund at Alipay")
        return RefundResult(True, None, f"{r.get('sub_code')}", pending=True)

    def parse_notify(self, kind: Literal["payment", "refund"], headers: Mapping[str, str],
                     body: bytes) -> NotifyEvent:
        """Alipay's async notify (a form). Alipay notifies a refund of a paid trade to the payment's notify_url as
        another trade_status_sync (with `out_biz_no`, the refund id, and `gmt_refund`): at the payment route it is
        read as what it says about the trade (paid, so a replay of a settled payment, answered `success`); the
        refund itself was answered at once by alipay.trade.refund. Asked for kind "refund", such a notify is read
        as the refund's end."""
        try:
            params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
        except (UnicodeDecodeError, ValueError):
            raise NotifyRejected("not a form body") from None
        sign = params.pop("sign", "")
        if not sign:
            raise NotifyRejected("unsigned notify")
        if params.get("sign_type", "RSA2") != "RSA2":
            raise NotifyRejected(f"sign_type {params.get('sign_type')!r} is not RSA2")
        try:
            good = self._ali.verify(dict(params), sign)
        except Exception as e:  # a malformed signature
            raise NotifyRejected(f"unverifiable signature: {type(e).__name__}") from None
        if not good:
            raise NotifyRejected("bad signature")
        if params.get("app_id") != self._app_id:
            raise NotifyRejected("notify for another app_id")
        if params.get("notify_type", "trade_status_sync") != "trade_status_sync":
            raise NotifyRejected(f"unknown notify_type {params.get('notify_type')!r}")
        otn = params.get("out_trade_no", "")
        if not otn:
            raise NotifyRejected("no out_trade_no")
        if kind == "refund" and params.get("out_biz_no") and params.get("gmt_refund"):
            return NotifyEvent("refund", otn, fen(params.get("refund_fee")), params.get("trade_no"),
                               out_refund_no=params["out_biz_no"],
                               channel_refund_id=f"{params.get('trade_no')}:{params['out_biz_no']}", ok=True,
                               raw=params)
        status = params.get("trade_status", "")
        if status not in _PAID | {"WAIT_BUYER_PAY", "TRADE_CLOSED"}:
            raise NotifyRejected(f"unknown trade_status {status!r}")
        return NotifyEvent("payment", otn, fen(params.get("total_amount")), params.get("trade_no"),
                           paid=status in _PAID, raw=params)

    def notify_answer(self, ok: bool) -> NotifyAnswer:
        return NotifyAnswer(200, b"success" if ok else b"fail", "text/plain")
