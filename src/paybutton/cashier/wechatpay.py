"""WeChat Pay API v3 behind the Cashier port, with the `wechatpayv3` SDK (unmodified).

Native (a QR, desktop) and H5 (a redirect, phones) prepay; query, close, refund and refund query by the merchant's
numbers; the payment and refund notifies verified with WeChat Pay's platform public key and decrypted with the
APIv3 key. The SDK is synchronous (requests): every call runs in a thread with a deadline, and a channel that does
not answer gives UNKNOWN (charges) or pending (refunds), never an exception.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal
from urllib.parse import quote

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from wechatpayv3 import WeChatPay, WeChatPayType

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

log = logging.getLogger("paybutton.cashier.wechatpay")

NOTIFY_MAX_AGE_SECONDS = 300  # a notify signed longer ago than this (or this far ahead) is a replay
CHINA = timezone(timedelta(hours=8))
_PAID = {"SUCCESS", "REFUND"}
_WAITING = {"NOTPAY", "USERPAYING"}
_HEADERS = ("Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial",
            "Wechatpay-Signature-Type")


class ChannelDown(Exception):
    """No usable answer: a timeout, a connection error, a 5xx or an answer whose signature does not verify."""


class ChannelUnreachable(ChannelDown):
    """No connection was made (refused, no route, DNS, connect timeout): the request never left, so WeChat Pay has
    no trade for it and nothing can have been charged. A definite failure, unlike a timeout after sending."""


def nothing_sent(e: BaseException) -> bool:
    """True when `requests` failed before a byte of the request was sent (connecting), not after."""
    if isinstance(e, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(e, requests.exceptions.ConnectionError):
        reason = getattr(e.args[0], "reason", e.args[0]) if e.args else None
        return isinstance(reason, (NewConnectionError, ConnectTimeoutError))
    return False


def rfc3339(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(CHINA).isoformat(timespec="seconds")


class WechatPayCashier:
    name = "wechatpay"
    sandbox = False

    def __init__(self, cfg: Mapping[str, str], *, refund_notify_url: str = "", timeout: float = 10.0,
                 now: Callable[[], float] = time.time) -> None:
        self._mchid = cfg["mchid"]
        self._appid = cfg["appid"]
        self._key_id = cfg["platform_public_key_id"]
        self._refund_notify_url = refund_notify_url
        self._timeout = timeout
        self._now = now
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._pay = WeChatPay(
            wechatpay_type=WeChatPayType.NATIVE, mchid=cfg["mchid"], private_key=cfg["private_key"],
            cert_serial_no=cfg["cert_serial_no"], appid=cfg["appid"], apiv3_key=cfg["apiv3_key"],
            timeout=(min(5.0, timeout), timeout), public_key=cfg["platform_public_key"],
            public_key_id=cfg["platform_public_key_id"])
        # The SDK's one gateway setting (the real one by default); tests point it at a local fake.
        self._pay._core._gate_way = cfg.get("gateway", "https://api.mch.weixin.qq.com").rstrip("/")

    async def _call(self, fn: Callable[..., tuple[int, Any]], /, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        try:
            code, text = await asyncio.wait_for(asyncio.to_thread(fn, **kwargs), self._timeout + 1)
        except Exception as e:  # requests' timeouts and connection errors, the SDK's failed verification, ...
            kind = ChannelUnreachable if nothing_sent(e) else ChannelDown
            raise kind(f"{type(e).__name__}: {str(e)[:200]}") from None
        if code >= 500:
            raise ChannelDown(f"HTTP {code}")
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        try:
            body = json.loads(text) if text else {}
        except ValueError:
            raise ChannelDown(f"HTTP {code}: not JSON") from None
        return code, body if isinstance(body, dict) else {}

    async def charge(self, req: ChargeRequest) -> ChargeResult:
        h5 = req.client == "phone"
        kwargs: dict[str, Any] = {
            "description": (req.description or req.order_id)[:127],
            "out_trade_no": req.out_trade_no,
            "amount": {"total": req.amount, "currency": "CNY"},
            "notify_url": req.notify_url,
            "pay_type": WeChatPayType.H5 if h5 else WeChatPayType.NATIVE,
        }
        if req.expire_at_ms:
            kwargs["time_expire"] = rfc3339(req.expire_at_ms)
        if h5:
            kwargs["scene_info"] = {"payer_client_ip": req.client_ip, "h5_info": {"type": "Wap"}}
        if not req.notify_url:
            return ChargeResult(Outcome.FAIL, message="wechatpay: no notify URL (set the public base URL)")
        try:
            code, body = await self._call(self._pay.pay, **kwargs)
        except ChannelUnreachable as e:
            log.warning("wechatpay prepay %s: unreachable (%s); failed, nothing sent", req.out_trade_no, e)
            return ChargeResult(Outcome.FAIL, message=f"WeChat Pay cannot be reached: {e}", unavailable=True)
        except ChannelDown as e:
            log.warning("wechatpay prepay %s: no answer (%s)", req.out_trade_no, e)
            return ChargeResult(Outcome.UNKNOWN, message="WeChat Pay did not answer; the payment is being checked")
        if code != 200:
            return ChargeResult(Outcome.FAIL, message=f"WeChat Pay refused: {body.get('code')} {body.get('message')}")
        url = body.get("h5_url" if h5 else "code_url")
        if not isinstance(url, str) or not url:
            return ChargeResult(Outcome.UNKNOWN, message="WeChat Pay answered without a payment URL")
        if h5 and req.return_url:
            url += ("&" if "?" in url else "?") + "redirect_url=" + quote(req.return_url, safe="")
        return ChargeResult(Outcome.PENDING, action=PayAction("redirect" if h5 else "qr", url))

    async def query(self, out_trade_no: str) -> QueryResult:
        try:
            code, body = await self._call(self._pay.query, out_trade_no=out_trade_no)
        except ChannelDown as e:
            return QueryResult(TradeState.UNKNOWN, message=str(e))
        if code == 404 or body.get("code") == "ORDER_NOT_EXIST":
            return QueryResult(TradeState.CLOSED, message="no such trade at WeChat Pay")
        if code != 200:
            return QueryResult(TradeState.UNKNOWN, message=f"{body.get('code')} {body.get('message')}")
        state = str(body.get("trade_state", ""))
        amount = body.get("amount", {}).get("total")
        pay_id = body.get("transaction_id")
        if state in _PAID:
            return QueryResult(TradeState.PAID, pay_id, amount)
        if state in _WAITING:
            return QueryResult(TradeState.WAITING, None, amount)
        return QueryResult(TradeState.CLOSED, None, amount, message=state)

    async def close(self, out_trade_no: str) -> None:
        try:
            code, body = await self._call(self._pay.close, out_trade_no=out_trade_no)
            if code not in (200, 204):
                log.info("wechatpay close %s: %s %s", out_trade_no, code, body.get("code"))
        except ChannelDown as e:
            log.warning("wechatpay close %s: %s", out_trade_no, e)

    async def refund(self, *, refund_id: str, order_id: str, amount: int, channel_pay_id: str | None,
                     out_trade_no: str | None = None, total: int | None = None) -> RefundResult:
        if total is None and out_trade_no:
            total = (await self.query(out_trade_no)).amount
        if total is None:
            return RefundResult(False, message="wechatpay: the payment's total is unknown")
        kwargs: dict[str, Any] = {"out_refund_no": refund_id,
                                  "amount": {"refund": amount, "total": total, "currency": "CNY"}}
        if channel_pay_id:
            kwargs["transaction_id"] = channel_pay_id
        else:
            kwargs["out_trade_no"] = out_trade_no
        if self._refund_notify_url:
            kwargs["notify_url"] = self._refund_notify_url
        try:
            code, body = await self._call(self._pay.refund, **kwargs)
        except ChannelDown as e:
            log.warning("wechatpay refund %s: no answer (%s)", refund_id, e)
            return RefundResult(True, None, "WeChat Pay did not answer; the refund query settles it", pending=True)
        return self._refund_result(code, body)

    async def query_refund(self, refund_id: str) -> RefundResult:
        """How a refund stands now (for a pending one): ok, refused, or still pending."""
        try:
            code, body = await self._call(self._pay.query_refund, out_refund_no=refund_id)
        except ChannelDown as e:
            return RefundResult(True, None, str(e), pending=True)
        if code == 404:
            return RefundResult(False, message="no such refund at WeChat Pay")
        return self._refund_result(code, body)

    @staticmethod
    def _refund_result(code: int, body: dict[str, Any]) -> RefundResult:
        if code != 200:
            return RefundResult(False, message=f"WeChat Pay refused the refund: {body.get('code')} "
                                               f"{body.get('message')}")
        status = body.get("status")
        rid = body.get("refund_id")
        if status == "SUCCESS":
            return RefundResult(True, rid)
        if status == "PROCESSING":
            return RefundResult(True, rid, "processing", pending=True)
        return RefundResult(False, rid, f"WeChat Pay: refund {status}")

    def parse_notify(self, kind: Literal["payment", "refund"], headers: Mapping[str, str],
                     body: bytes) -> NotifyEvent:
        low = {k.lower(): v for k, v in headers.items()}
        h = {name: low.get(name.lower(), "") for name in _HEADERS}
        if not h["Wechatpay-Signature"] or not h["Wechatpay-Timestamp"] or not h["Wechatpay-Nonce"]:
            raise NotifyRejected("missing Wechatpay-* signature headers")
        if h["Wechatpay-Serial"] != self._key_id:
            raise NotifyRejected(f"signed with an unknown platform key {h['Wechatpay-Serial'][:40]!r}")
        try:
            ts = int(h["Wechatpay-Timestamp"])
        except ValueError:
            raise NotifyRejected("bad Wechatpay-Timestamp") from None
        now = self._now()
        if abs(now - ts) > NOTIFY_MAX_AGE_SECONDS:
            raise NotifyRejected(f"stale notify (signed {int(now - ts)} s ago)")
        mark = h["Wechatpay-Nonce"] + ":" + h["Wechatpay-Signature"][:32]
        try:
            data = self._pay.callback(h, body)
        except Exception as e:  # an unsupported algorithm or a body that is not JSON
            raise NotifyRejected(f"unreadable notify: {type(e).__name__}") from None
        if not data:
            raise NotifyRejected("bad signature or undecryptable resource")
        self._forget_old(now)
        if mark in self._seen:
            raise NotifyRejected("replayed notify (nonce already used)")
        self._seen[mark] = now
        res = data.get("resource")
        if not isinstance(res, dict):
            raise NotifyRejected("no resource")
        if res.get("mchid") not in (None, self._mchid):
            raise NotifyRejected("notify for another merchant")
        expected = "TRANSACTION" if kind == "payment" else "REFUND"
        if str(data.get("event_type", "")).split(".")[0] != expected:
            raise NotifyRejected(f"not a {kind} notify: {data.get('event_type')}")
        amount: dict[str, Any] = res["amount"] if isinstance(res.get("amount"), dict) else {}
        if kind == "payment":
            if res.get("appid") not in (None, self._appid):
                raise NotifyRejected("notify for another appid")
            return NotifyEvent("payment", str(res.get("out_trade_no", "")), amount.get("total"),
                               res.get("transaction_id"), paid=res.get("trade_state") == "SUCCESS", raw=res)
        return NotifyEvent("refund", str(res.get("out_trade_no", "")), amount.get("refund"),
                           res.get("transaction_id"), out_refund_no=res.get("out_refund_no"),
                           channel_refund_id=res.get("refund_id"), ok=res.get("refund_status") == "SUCCESS",
                           raw=res)

    def _forget_old(self, now: float) -> None:
        while self._seen:
            key, at = next(iter(self._seen.items()))
            if now - at <= 2 * NOTIFY_MAX_AGE_SECONDS:
                break
            self._seen.pop(key)

    def notify_answer(self, ok: bool) -> NotifyAnswer:
        if ok:
            return NotifyAnswer(204, b"", "text/plain")
        return NotifyAnswer(500, json.dumps({"code": "FAIL", "message": "失败"}, ensure_ascii=False).encode(),
                            "application/json")
