"""Alipay behind the Cashier port, with fzlee's `python-alipay-sdk` (unmodified; see docs/integration-guide.md for
why this SDK).

`alipay.trade.page.pay` (desktop) and `alipay.trade.wap.pay` (phones) build a signed URL to the gateway: the charge
itself moves no money and needs no network; the buyer pays on Alipay's page and Alipay's async notify (RSA2, verified
with the Alipay public key) or `alipay.trade.query` says so. Refunds (`alipay.trade.refund`, out_request_no = the
refund id) are answered at once, but only `fund_change: Y` means the money moved: `N` is confirmed with
`alipay.trade.fastpay.refund.query` (refund_status REFUND_SUCCESS), pending until then. Close is `alipay.trade.close`.
The SDK is synchronous: calls run in a thread with a deadline, and a gateway that does not answer gives UNKNOWN /
pending, never an exception.

Rules from Alipay's documents (https://docs.open.alipay.com/api_1/alipay.trade.page.pay, 请求参数;
https://docs.open.alipay.com/203/107090, 请求参数; 公共请求参数 of each API):
- `timestamp` is "yyyy-MM-dd HH:mm:ss" in Beijing time (the SDK uses the host's zone: overridden here);
- `product_code` FAST_INSTANT_TRADE_PAY (page pay), QUICK_WAP_WAY (wap pay);
- `subject` at most 256 characters, without / = & (特殊字符);
- ACQ.TRADE_NOT_EXIST from alipay.trade.query: the buyer has not opened the page yet (the trade is created then);
  after the attempt's time_expire it never can be (QueryResult.absent; the reconciler ends it);
- a WAIT_BUYER_PAY notify (sent when the merchant turned it on) is not final (异步通知 交易状态说明,
  https://opendocs.alipay.com/open/270/105902); TRADE_SUCCESS and TRADE_FINISHED are paid;
- the notify's app_id and seller_id must be the merchant's (异步通知 验签: "校验通知中的 seller_id ... 是否为
  out_trade_no 这笔单据的对应的操作方", "验证 app_id 是否为该商家本身").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
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
    ShareLine,
    ShareResult,
    TradeState,
)
from paybutton.clock import BEIJING
from paybutton.money import yuan

log = logging.getLogger("paybutton.cashier.alipay")
_PAID = {"TRADE_SUCCESS", "TRADE_FINISHED"}
WAP_PRODUCT_CODE = "QUICK_WAP_WAY"  # alipay.trade.wap.pay 请求参数 product_code (the SDK sends QUICK_WAP_PAY)
SUBJECT_MAX = 256
_SUBJECT_FORBIDDEN = str.maketrans({"/": " ", "=": " ", "&": " "})


class _BeijingAliPay(AliPay):  # type: ignore[misc]  # the SDK has no types
    """The SDK, with the public `timestamp` in Beijing time whatever the host's zone (公共请求参数 timestamp)."""

    def build_body(self, method: str, biz_content: Any = None, **kwargs: Any) -> dict[str, Any]:
        data: dict[str, Any] = super().build_body(method, biz_content, **kwargs)
        data["timestamp"] = datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        return data


def subject_of(name: str) -> str:
    """A goods name as Alipay's `subject`: no / = &, at most 256 characters."""
    return " ".join(name.translate(_SUBJECT_FORBIDDEN).split())[:SUBJECT_MAX] or "-"


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
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


class AlipayCashier:
    name = "alipay"
    sandbox = False

    def __init__(self, cfg: Mapping[str, str], *, timeout: float = 10.0) -> None:
        self._app_id = cfg["app_id"]
        self._seller_id = cfg.get("seller_id", "")
        self._timeout = timeout
        self._ali = _BeijingAliPay(
            appid=cfg["app_id"], app_notify_url=None, app_private_key_string=cfg["app_private_key"],
            alipay_public_key_string=cfg["alipay_public_key"], sign_type="RSA2", config=AliPayConfig(timeout=timeout))
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
        subject = subject_of(req.description or req.order_id)
        try:
            if req.client != "desktop":  # phones and WeChat's browser: wap pay
                query = self._ali.api_alipay_trade_wap_pay(
                    subject, req.out_trade_no, yuan(req.amount), return_url=req.return_url or None,
                    notify_url=req.notify_url or None, quit_url=req.return_url or None,
                    product_code=WAP_PRODUCT_CODE, **extra)
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
                return QueryResult(TradeState.WAITING, message="not opened at Alipay yet", absent=True)
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
        if r.get("code") != "10000":
            return RefundResult(False, message=f"Alipay refused the refund: {r.get('sub_code')} {r.get('sub_msg')}")
        if r.get("fund_change") == "Y":
            return RefundResult(True, f"{r.get('trade_no')}:{refund_id}")
        # fund_change N: the money has not moved (yet), or this is a retry of a refund already done: ask
        # (alipay.trade.refund 响应参数 fund_change: "本次退款是否发生了资金变化"; https://docs.open.alipay.com/api_1/
        # alipay.trade.refund, 退款结果确认)
        q = await self.query_refund(refund_id, out_trade_no or "", trade_no=channel_pay_id)
        if q.ok and not q.pending:
            return q
        return RefundResult(True, None, "Alipay accepted the refund (fund_change N); confirming by query",
                            pending=True)

    async def query_refund(self, refund_id: str, out_trade_no: str, *, trade_no: str | None = None) -> RefundResult:
        """How a refund stands (alipay.trade.fastpay.refund.query, https://docs.open.alipay.com/api_1/
        alipay.trade.fastpay.refund.query, 响应参数 refund_status: "REFUND_SUCCESS 退款处理成功; 未返回该字段
        表示退款请求未收到或者退款失败"): REFUND_SUCCESS is done; a refund found without it is pending; none found
        is not done."""
        ids: dict[str, str] = {"trade_no": trade_no} if trade_no else {"out_trade_no": out_trade_no}
        try:
            r = await self._call(self._ali.api_alipay_trade_fastpay_refund_query, out_request_no=refund_id, **ids)
        except ChannelDown as e:
            return RefundResult(True, None, str(e), pending=True)
        if r.get("code") != "10000":
            return RefundResult(True, None, f"{r.get('sub_code')}", pending=True)
        if r.get("refund_status") == "REFUND_SUCCESS":
            return RefundResult(True, f"{r.get('trade_no')}:{refund_id}")
        if r.get("refund_amount") or r.get("out_request_no"):
            return RefundResult(True, None, "Alipay: the refund is not done yet", pending=True)
        return RefundResult(False, message="no such refund at Alipay")

    async def share(self, *, out_order_no: str, channel_pay_id: str, lines: list[ShareLine], finish: bool,
                    names: Mapping[str, str]) -> ShareResult:
        """统一收单交易结算 alipay.trade.order.settle (https://opendocs.alipay.com/open/02o6e7, 请求参数):
        out_request_no (ours), trade_no, royalty_parameters [{royalty_type transfer, trans_in_type userId, trans_in
        2088..., amount in yuan, desc}], extend_params.royalty_finish "true" on the last one (the rest unfrozen).
        The receivers must be bound first (alipay.trade.royalty.relation.bind: the merchant's setup)."""
        params = [{"royalty_type": "transfer", "trans_in_type": "userId", "trans_in": x.account,
                   "amount": yuan(x.amount), "desc": x.description} for x in lines]
        extra = {"extend_params": {"royalty_finish": "true"}} if finish else {}
        try:
            r = await self._call(self._ali.api_alipay_trade_order_settle, out_request_no=out_order_no,
                                 trade_no=channel_pay_id, royalty_parameters=params, **extra)
        except ChannelDown as e:
            return ShareResult("PROCESSING", message=f"Alipay did not answer: {e}", unknown=True)
        if r.get("code") != "10000":
            return ShareResult("FAILED", message=f"Alipay refused the sharing: {r.get('sub_code')} "
                                                 f"{r.get('sub_msg')}")
        return ShareResult("PROCESSING", r.get("settle_no"), "accepted; confirming by query")

    async def query_share(self, out_order_no: str, channel_pay_id: str) -> ShareResult:
        """交易分账查询 alipay.trade.order.settle.query (https://opendocs.alipay.com/open/02pj6l, 响应参数
        royalty_detail_list[].state: SUCCESS / FAIL (error_code, error_desc) / PROCESSING)."""
        body = self._ali.build_body("alipay.trade.order.settle.query",
                                    {"out_request_no": out_order_no, "trade_no": channel_pay_id})
        try:
            r = await self._call(self._ali.verified_sync_response, data=body,
                                 response_type="alipay_trade_order_settle_query_response")
        except ChannelDown as e:
            return ShareResult("PROCESSING", message=f"Alipay did not answer: {e}", unknown=True)
        if r.get("code") != "10000":
            return ShareResult("PROCESSING", message=f"{r.get('sub_code')} {r.get('sub_msg')}", unknown=True)
        details = [d for d in r.get("royalty_detail_list") or [] if isinstance(d, dict)]
        failed = [d for d in details if d.get("state") == "FAIL"]
        if failed:
            return ShareResult("FAILED", r.get("settle_no"), "Alipay failed the share to " + ", ".join(
                f"{d.get('trans_in')} ({d.get('error_code')} {d.get('error_desc')})" for d in failed))
        if details and all(d.get("state") == "SUCCESS" for d in details):
            return ShareResult("FINISHED", r.get("settle_no"))
        return ShareResult("PROCESSING", r.get("settle_no"), "processing")

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
        if self._seller_id and params.get("seller_id") != self._seller_id:
            raise NotifyRejected(f"notify for another seller_id {params.get('seller_id', '')[:20]!r}")
        if params.get("notify_type", "trade_status_sync") != "trade_status_sync":
            raise NotifyRejected(f"unknown notify_type {params.get('notify_type')!r}")
        otn = params.get("out_trade_no", "")
        if not otn:
            raise NotifyRejected("no out_trade_no")
        if kind == "refund" and params.get("out_biz_no") and params.get("gmt_refund"):
            # refund_fee is the trade's total refunded so far, not this refund's amount: not compared
            return NotifyEvent("refund", otn, None, params.get("trade_no"),
                               out_refund_no=params["out_biz_no"],
                               channel_refund_id=f"{params.get('trade_no')}:{params['out_biz_no']}", ok=True,
                               raw=params)
        status = params.get("trade_status", "")
        if status not in _PAID | {"WAIT_BUYER_PAY", "TRADE_CLOSED"}:
            raise NotifyRejected(f"unknown trade_status {status!r}")
        return NotifyEvent("payment", otn, fen(params.get("total_amount")), params.get("trade_no"),
                           paid=status in _PAID, raw=params, final=status != "WAIT_BUYER_PAY")

    def notify_answer(self, ok: bool) -> NotifyAnswer:
        return NotifyAnswer(200, b"success" if ok else b"fail", "text/plain")
