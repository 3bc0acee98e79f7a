"""WeChat Pay API v3 behind the Cashier port, with the `wechatpayv3` SDK (unmodified).

Native (a QR, desktop) and H5 (a redirect, phones) prepay; query, close, refund and refund query by the merchant's
numbers; the payment and refund notifies verified with WeChat Pay's platform public key and decrypted with the
APIv3 key. The SDK is synchronous (requests): every call runs in a thread with a deadline, and a channel that does
not answer gives UNKNOWN (charges) or pending (refunds), never an exception.

Rules from WeChat Pay's documents:
- `description` is string[1,127] (bytes, UTF-8), and only 1-3-byte UTF-8 characters are accepted (Native 下单
  https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter3_4_1.shtml, 请求参数 description; 基本规则 字符集
  https://pay.weixin.qq.com/docs/merchant/development/interface-rules/basic-rules.html; 4-byte characters such as
  emoji are refused with PARAM_ERROR): `description_of` drops them and cuts at a character boundary;
- notifies are signed with the WeChat Pay public key (Wechatpay-Serial = its id, PUB_KEY_ID_...) or, before and
  while a merchant switches, with a platform certificate (Wechatpay-Serial = the certificate's serial): the key is
  chosen by the serial (如何从平台证书切换成微信支付公钥 https://pay.weixin.qq.com/doc/v3/merchant/4012154180,
  3.1 验签场景 / 回调场景); an unknown serial is refused (the reconciler's query settles the attempt);
- the same notify may come again: "同样的通知可能会多次发送给商户系统。商户系统必须能够正确处理重复的通知" (支付通知
  https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter3_4_5.shtml, 通知规则): a verified duplicate is answered
  success.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote

import requests
from cryptography import x509
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
    ShareLine,
    ShareResult,
    TradeState,
)
from paybutton.clock import BEIJING

log = logging.getLogger("paybutton.cashier.wechatpay")

NOTIFY_MAX_AGE_SECONDS = 300  # a notify signed longer ago than this (or this far ahead) is a replay
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


DESCRIPTION_MAX_BYTES = 127


def description_of(name: str) -> str:
    """A goods name as WeChat Pay's `description`: 4-byte UTF-8 characters (emoji) dropped, at most 127 bytes (cut
    at a character boundary), never empty."""
    kept = "".join(ch for ch in name if len(ch.encode()) <= 3 and ch.isprintable())
    kept = " ".join(kept.split())
    out = kept.encode()[:DESCRIPTION_MAX_BYTES].decode("utf-8", "ignore")
    return out or "-"


def certificates(pems: str) -> dict[str, x509.Certificate]:
    """Platform certificates (PEM, one or more) -> {serial in upper hex: certificate}. Raises ValueError."""
    out = {format(c.serial_number, "X"): c for c in x509.load_pem_x509_certificates(pems.encode())}
    if not out:
        raise ValueError("no certificate")
    return out


def rfc3339(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(BEIJING).isoformat(timespec="seconds")


class WechatPayCashier:
    name = "wechatpay"
    sandbox = False

    def __init__(self, cfg: Mapping[str, str], *, refund_notify_url: str = "", timeout: float = 10.0,
                 now: Callable[[], float] = time.time) -> None:
        self._mchid = cfg["mchid"]
        self._appid = cfg["appid"]
        self._key_id = cfg["platform_public_key_id"]
        self._certs = certificates(cfg["platform_certificates"]) if cfg.get("platform_certificates") else {}
        self._refund_notify_url = refund_notify_url
        self._timeout = timeout
        self._now = now
        self._pay = WeChatPay(
            wechatpay_type=WeChatPayType.NATIVE, mchid=cfg["mchid"], private_key=cfg["private_key"],
            cert_serial_no=cfg["cert_serial_no"], appid=cfg["appid"], apiv3_key=cfg["apiv3_key"],
            timeout=(min(5.0, timeout), timeout), public_key=cfg["platform_public_key"],
            public_key_id=cfg["platform_public_key_id"])
        # The SDK's one gateway setting (the real one by default); tests point it at a local fake.
        self._pay._core._gate_way = cfg.get("gateway", "https://api.mch.weixin.qq.com").rstrip("/")
        # The SDK verifies a serial that is not the public key id with its platform certificates: the configured
        # ones (parse_notify refuses any other serial first, so the SDK never downloads certificates).
        self._pay._core._certificates.extend(self._certs.values())

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

    def _prepay_args(self, req: ChargeRequest) -> dict[str, Any]:
        kinds = {"phone": WeChatPayType.H5, "wechat": WeChatPayType.JSAPI}
        kwargs: dict[str, Any] = {
            "description": description_of(req.description or req.order_id),
            "out_trade_no": req.out_trade_no,
            "amount": {"total": req.amount, "currency": "CNY"},
            "notify_url": req.notify_url,
            "pay_type": kinds.get(req.client, WeChatPayType.NATIVE),
        }
        if req.expire_at_ms:
            kwargs["time_expire"] = rfc3339(req.expire_at_ms)
        if req.profit_sharing:  # 下单 请求参数 settle_info.profit_sharing: the money may be shared (分账)
            kwargs["settle_info"] = {"profit_sharing": True}
        if req.client == "phone":
            kwargs["scene_info"] = {"payer_client_ip": req.client_ip, "h5_info": {"type": "Wap"}}
        if req.client == "wechat":  # JSAPI 下单 请求参数 payer.openid (https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter3_1_1.shtml)
            kwargs["payer"] = {"openid": req.payer_openid}
        return kwargs

    async def charge(self, req: ChargeRequest) -> ChargeResult:
        if not req.notify_url:
            return ChargeResult(Outcome.FAIL, message="wechatpay: no notify URL (set the public base URL)")
        if req.client == "wechat" and not req.payer_openid:
            return ChargeResult(Outcome.FAIL, message="wechatpay: JSAPI needs the buyer's openid")
        try:
            code, body = await self._call(self._pay.pay, **self._prepay_args(req))
        except ChannelUnreachable as e:
            log.warning("wechatpay prepay %s: unreachable (%s); failed, nothing sent", req.out_trade_no, e)
            return ChargeResult(Outcome.FAIL, message=f"WeChat Pay cannot be reached: {e}", unavailable=True)
        except ChannelDown as e:
            log.warning("wechatpay prepay %s: no answer (%s)", req.out_trade_no, e)
            return ChargeResult(Outcome.UNKNOWN, message="WeChat Pay did not answer; the payment is being checked")
        if code != 200:
            return ChargeResult(Outcome.FAIL, message=f"WeChat Pay refused: {body.get('code')} {body.get('message')}")
        if req.client == "wechat":
            prepay_id = body.get("prepay_id")
            if not isinstance(prepay_id, str) or not prepay_id:
                return ChargeResult(Outcome.UNKNOWN, message="WeChat Pay answered without a prepay_id")
            return ChargeResult(Outcome.PENDING, action=PayAction("jsapi", "", self.bridge_params(prepay_id)))
        h5 = req.client == "phone"
        url = body.get("h5_url" if h5 else "code_url")
        if not isinstance(url, str) or not url:
            return ChargeResult(Outcome.UNKNOWN, message="WeChat Pay answered without a payment URL")
        if h5 and req.return_url:
            url += ("&" if "?" in url else "?") + "redirect_url=" + quote(req.return_url, safe="")
        return ChargeResult(Outcome.PENDING, action=PayAction("redirect" if h5 else "qr", url))

    def bridge_params(self, prepay_id: str) -> dict[str, str]:
        """WeixinJSBridge.invoke('getBrandWCPayRequest', ...)'s arguments (JSAPI调起支付,
        https://pay.weixin.qq.com/doc/v3/merchant/4012791857): appId, timeStamp (seconds), nonceStr, package
        "prepay_id=...", signType "RSA" and paySign: SHA256withRSA with the merchant's private key over
        "appId\ntimeStamp\nnonceStr\npackage\n", Base64."""
        stamp, nonce, package = str(int(self._now())), secrets.token_hex(16), f"prepay_id={prepay_id}"
        return {"appId": self._appid, "timeStamp": stamp, "nonceStr": nonce, "package": package, "signType": "RSA",
                "paySign": self._pay.sign([self._appid, stamp, nonce, package])}

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

    async def share(self, *, out_order_no: str, channel_pay_id: str, lines: list[ShareLine], finish: bool,
                    names: Mapping[str, str]) -> ShareResult:
        """请求分账 POST /v3/profitsharing/orders (https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter8_1_1.shtml):
        each receiver added first (添加分账接收方 /v3/profitsharing/receivers/add, chapter8_1_8; adding one again is
        accepted), type MERCHANT_ID, its description required; the same out_order_no again is the same request."""
        try:
            for line in lines:
                code, body = await self._call(self._pay.profitsharing_add_receiver, account_type="MERCHANT_ID",
                                              account=line.account, relation_type="PARTNER",
                                              name=names.get(line.account) or line.account)
                if code != 200:
                    return ShareResult("FAILED", message=f"WeChat Pay refused the receiver {line.account}: "
                                                         f"{body.get('code')} {body.get('message')}")
            code, body = await self._call(
                self._pay.profitsharing_order, transaction_id=channel_pay_id, out_order_no=out_order_no,
                unfreeze_unsplit=finish, receivers=[{"type": "MERCHANT_ID", "account": x.account, "amount": x.amount,
                                                     "description": x.description} for x in lines])
        except ChannelDown as e:
            return ShareResult("PROCESSING", message=f"WeChat Pay did not answer: {e}", unknown=True)
        return self._share_result(code, body)

    async def query_share(self, out_order_no: str, channel_pay_id: str) -> ShareResult:
        """查询分账结果 GET /v3/profitsharing/orders/{out_order_no}?transaction_id= (chapter8_1_2)."""
        try:
            code, body = await self._call(self._pay.profitsharing_order_query, transaction_id=channel_pay_id,
                                          out_order_no=out_order_no)
        except ChannelDown as e:
            return ShareResult("PROCESSING", message=f"WeChat Pay did not answer: {e}", unknown=True)
        return self._share_result(code, body)

    @staticmethod
    def _share_result(code: int, body: dict[str, Any]) -> ShareResult:
        """state PROCESSING / FINISHED; each receiver's result PENDING / SUCCESS / CLOSED (with fail_reason)."""
        if code != 200:
            return ShareResult("FAILED", message=f"WeChat Pay refused the sharing: {body.get('code')} "
                                                 f"{body.get('message')}")
        oid = body.get("order_id")
        closed = [r for r in body.get("receivers") or [] if isinstance(r, dict) and r.get("result") == "CLOSED"]
        if closed:
            return ShareResult("FAILED", oid, "WeChat Pay closed the share to " + ", ".join(
                f"{r.get('account')} ({r.get('fail_reason')})" for r in closed))
        if body.get("state") == "FINISHED":
            return ShareResult("FINISHED", oid)
        return ShareResult("PROCESSING", oid, "processing")

    def parse_notify(self, kind: Literal["payment", "refund"], headers: Mapping[str, str],
                     body: bytes) -> NotifyEvent:
        low = {k.lower(): v for k, v in headers.items()}
        h = {name: low.get(name.lower(), "") for name in _HEADERS}
        if not h["Wechatpay-Signature"] or not h["Wechatpay-Timestamp"] or not h["Wechatpay-Nonce"]:
            raise NotifyRejected("missing Wechatpay-* signature headers")
        if not self._known_serial(h["Wechatpay-Serial"]):
            raise NotifyRejected(f"signed with an unknown platform key or certificate {h['Wechatpay-Serial'][:40]!r}"
                                 "; the reconciler's query settles it")
        try:
            ts = int(h["Wechatpay-Timestamp"])
        except ValueError:
            raise NotifyRejected("bad Wechatpay-Timestamp") from None
        now = self._now()
        if abs(now - ts) > NOTIFY_MAX_AGE_SECONDS:
            raise NotifyRejected(f"stale notify (signed {int(now - ts)} s ago)")
        try:
            data = self._pay.callback(h, body)
        except Exception as e:  # an unsupported algorithm or a body that is not JSON
            raise NotifyRejected(f"unreadable notify: {type(e).__name__}") from None
        if not data:
            raise NotifyRejected("bad signature or undecryptable resource")
        # A byte-identical duplicate within the age limit is verified like the first and answered success: the core
        # takes a notify once (paying.on_payment_notify, refund settling), so a duplicate changes nothing.
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

    def _known_serial(self, serial: str) -> bool:
        """The WeChat Pay public key's id, or the serial of a configured platform certificate (hex, any case)."""
        if serial == self._key_id:
            return True
        return bool(serial) and serial.upper().lstrip("0") in {k.lstrip("0") for k in self._certs}

    def notify_answer(self, ok: bool) -> NotifyAnswer:
        if ok:
            return NotifyAnswer(204, b"", "text/plain")
        return NotifyAnswer(500, json.dumps({"code": "FAIL", "message": "失败"}, ensure_ascii=False).encode(),
                            "application/json")
