"""A fake Alipay open-platform gateway (https://openapi.alipay.com/gateway.do), from Alipay's published documents.

Every request is checked as Alipay does: `sign` (RSA2, SHA256withRSA) over the parameters other than sign (a
notify's: other than sign and sign_type), sorted by name and joined as k=v&..., verified with the app's public
key. Answers are `{"<method>_response": {...}, "sign": "..."}` with the sign over the exact response node; async
notifies are forms signed the same way with Alipay's key and expect the body `success`.

Scriptable: `mode` "ok" | "timeout"; `refund_mode` "success" | "fail" | "slow" (answered `fund_change: N`, the
refund stays without refund_status until `finish_refund`). The buyer pays on the page the page/wap pay URL opens
(button #ali-pay), or through `pay(out_trade_no)` / POST /_fake/pay/{out_trade_no}; `notify_status(otn, status)`
sends a WAIT_BUYER_PAY or TRADE_FINISHED notify. A page opened after its time_expire creates no trade.

Rules held as the documents give them:
- 公共请求参数 (each API's page, e.g. https://docs.open.alipay.com/api_1/alipay.trade.page.pay): charset
  utf-8; sign_type RSA2; timestamp "yyyy-MM-dd HH:mm:ss" (Beijing time: a timestamp more than 10 minutes from
  Beijing's clock is refused as isv.invalid-timestamp, 公共错误码 https://docs.open.alipay.com/common/105806);
- alipay.trade.page.pay 请求参数: product_code FAST_INSTANT_TRADE_PAY; alipay.trade.wap.pay 请求参数
  (https://docs.open.alipay.com/203/107090): product_code QUICK_WAP_WAY; subject at most
  256 characters, "不可使用特殊字符，如 /，=，& 等"; out_trade_no at most 64 of letters, digits and _;
  time_expire "yyyy-MM-dd HH:mm:ss" (Beijing time); total_amount 0.01-100000000 with two decimals;
- alipay.trade.refund 响应参数 fund_change, and alipay.trade.fastpay.refund.query 响应参数 refund_status
  (https://docs.open.alipay.com/api_1/alipay.trade.fastpay.refund.query): REFUND_SUCCESS when done, absent
  until then.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from fakes import alipay_bills, alipay_sharing, keys


def sign_content(params: dict[str, str], *, request: bool = False) -> bytes:
    """A request signs every parameter but `sign`; a notify or return every one but `sign` and `sign_type`."""
    skip = ("sign",) if request else ("sign", "sign_type")
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in skip and v != "").encode()


@dataclass
class Notice:
    url: str
    params: dict[str, str]
    status: int = 0
    answer: bytes = b""


CHINA = dt.timezone(dt.timedelta(hours=8))
PRODUCT_CODES = {"alipay.trade.page.pay": "FAST_INSTANT_TRADE_PAY", "alipay.trade.wap.pay": "QUICK_WAP_WAY"}


def beijing(text: str) -> dt.datetime | None:
    """A "yyyy-MM-dd HH:mm:ss" Beijing time, or None if not in that format."""
    try:
        return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
    except (TypeError, ValueError):
        return None


def request_problem(params: dict[str, str], biz: dict[str, Any]) -> str | None:
    """What Alipay refuses in a request's public or page pay parameters (module doc), else None."""
    at = beijing(params.get("timestamp", ""))
    if params.get("charset", "").lower() != "utf-8" or at is None:
        return "isv.invalid-timestamp" if at is None else "isv.invalid-charset"
    if abs((dt.datetime.now(CHINA) - at).total_seconds()) > 600:
        return "isv.invalid-timestamp"
    method = params.get("method", "")
    if method in PRODUCT_CODES:
        subject = str(biz.get("subject", ""))
        if biz.get("product_code") != PRODUCT_CODES[method]:
            return "isv.invalid-product-code"
        if not subject or len(subject) > 256 or any(c in subject for c in "/=&"):
            return "isv.invalid-subject"
        if not re.fullmatch(r"[A-Za-z0-9_]{1,64}", str(biz.get("out_trade_no", ""))):
            return "isv.invalid-out-trade-no"
        if not re.fullmatch(r"\d{1,9}\.\d\d", str(biz.get("total_amount", ""))):
            return "isv.invalid-total-amount"
        if "time_expire" in biz and beijing(str(biz["time_expire"])) is None:
            return "isv.invalid-time-expire"
    return None


@dataclass
class FakeAlipay:
    app_id: str = "2021000117600001"
    seller_id: str = "2088101117955611"
    mode: str = "ok"
    refund_mode: str = "success"
    delay: float = 3.0
    base_url: str = ""
    trades: dict[str, dict[str, Any]] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    sharing: dict[str, Any] = field(default_factory=lambda: {"mode": "ok", "bound": set(), "settles": {},
                                                             "queries": 0})
    # the clock time_expire is judged by (seconds): the trade server's, when it runs on a fake clock
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self.app_private, self.app_public = keys.pair("alipay-app")
        self.alipay_private, self.alipay_public = keys.pair("alipay-platform")

    @property
    def gateway(self) -> str:
        return f"{self.base_url}/gateway.do"

    def merchant_config(self) -> dict[str, str]:
        return {"app_id": self.app_id, "app_private_key": self.app_private, "alipay_public_key": self.alipay_public,
                "seller_id": self.seller_id, "gateway": self.gateway}

    def signed(self, params: dict[str, str], private: str | None = None) -> dict[str, str]:
        return {**params, "sign_type": "RSA2", "sign": keys.sign(private or self.alipay_private,
                                                                   sign_content(params))}

    def respond(self, method: str, node: dict[str, Any]) -> Response:
        text = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
        sig = keys.sign(self.alipay_private, text.encode())
        name = method.replace(".", "_") + "_response"
        return Response(f'{{"{name}":{text},"sign":"{sig}"}}', media_type="application/json;charset=utf-8")

    async def gateway_do(self, req: Request) -> Response:
        if req.query_params.get("bill_token"):  # a bill file's download URL: fakes/alipay_bills.py
            return alipay_bills.download(self, req)
        params = dict(req.query_params)
        if req.method == "POST":
            params.update(dict(parse_qsl((await req.body()).decode(), keep_blank_values=True)))
        method = params.get("method", "")
        if params.get("app_id") != self.app_id or params.get("sign_type") != "RSA2" or not keys.verify(
                self.app_public, sign_content(params, request=True), params.get("sign", "")):
            self.refused.append(method)
            return self.respond(method, {"code": "40002", "msg": "Invalid Arguments",
                                         "sub_code": "isv.invalid-signature", "sub_msg": "验签出错"})
        biz = json.loads(params.get("biz_content") or "{}")
        if method == alipay_bills.METHOD:  # the trade bills: fakes/alipay_bills.py
            return alipay_bills.answer(self, biz)
        problem = request_problem(params, biz)
        if problem:
            self.refused.append(f"{method}: {problem}")
            return self.respond(method, {"code": "40002", "msg": "Invalid Arguments", "sub_code": problem,
                                         "sub_msg": "参数无效"})
        if method in PRODUCT_CODES:
            return self._cashier_page(params, biz)
        if self.mode == "timeout":
            answer = self._api(method, biz)
            await asyncio.sleep(self.delay)
            return answer
        return self._api(method, biz)

    def _api(self, method: str, biz: dict[str, Any]) -> Response:
        t = self.trades.get(biz.get("out_trade_no", "")) or next(
            (v for v in self.trades.values() if v["trade_no"] == biz.get("trade_no")), None)
        if t is None:
            return self.respond(method, {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST",
                                         "sub_msg": "交易不存在"})
        base = {"code": "10000", "msg": "Success", "trade_no": t["trade_no"], "out_trade_no": t["out_trade_no"]}
        if method == "alipay.trade.query":
            return self.respond(method, {**base, "trade_status": t["status"], "total_amount": t["total_amount"],
                                         "buyer_logon_id": "buy***@example.com"})
        if method == "alipay.trade.close":
            if t["status"] != "WAIT_BUYER_PAY":
                return self.respond(method, {"code": "40004", "msg": "Business Failed",
                                             "sub_code": "ACQ.TRADE_STATUS_ERROR", "sub_msg": "交易状态不合法"})
            t["status"] = "TRADE_CLOSED"
            return self.respond(method, base)
        if method == "alipay.trade.refund":
            return self._refund(method, t, biz, base)
        if method in alipay_sharing.METHODS:  # royalty settle: fakes/alipay_sharing.py
            return alipay_sharing.answer(self, method, t, biz, base)
        if method == "alipay.trade.fastpay.refund.query":
            no = biz.get("out_request_no")
            r = t["refunds"].get(no)
            if r is None:
                return self.respond(method, base)
            done = {"refund_status": "REFUND_SUCCESS"} if no not in t["slow"] else {}
            return self.respond(method, {**base, "out_request_no": no, "refund_amount": r,
                                         "total_amount": t["total_amount"], **done})
        return self.respond(method, {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.NOT_SUPPORTED"})

    def _refund(self, method: str, t: dict[str, Any], biz: dict[str, Any], base: dict[str, Any]) -> Response:
        no = biz.get("out_request_no") or t["out_trade_no"]
        amount = Decimal(str(biz.get("refund_amount", "0")))
        if no in t["refunds"]:
            return self.respond(method, {**base, "fund_change": "N", "refund_fee": str(t["refunded"])})
        if t["status"] not in ("TRADE_SUCCESS", "TRADE_FINISHED"):
            return self.respond(method, {"code": "40004", "msg": "Business Failed",
                                         "sub_code": "ACQ.TRADE_STATUS_ERROR", "sub_msg": "交易状态不合法"})
        if self.refund_mode == "fail":
            return self.respond(method, {"code": "40004", "msg": "Business Failed",
                                         "sub_code": "ACQ.SELLER_BALANCE_NOT_ENOUGH", "sub_msg": "卖家余额不足"})
        if t["refunded"] + amount > Decimal(t["total_amount"]):
            return self.respond(method, {"code": "40004", "msg": "Business Failed",
                                         "sub_code": "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "sub_msg": "退款金额超限"})
        t["refunded"] += amount
        t["refunds"][no] = f"{amount:.2f}"
        if self.refund_mode == "slow":  # accepted, the money not moved yet: fund_change N, no notify until done
            t["slow"].add(no)
            return self.respond(method, {**base, "fund_change": "N", "refund_fee": f"{t['refunded']:.2f}"})
        if t["refunded"] == Decimal(t["total_amount"]):
            t["status"] = "TRADE_CLOSED"
        asyncio.get_running_loop().create_task(self._refund_notify(t, no))
        return self.respond(method, {**base, "fund_change": "Y", "refund_fee": f"{t['refunded']:.2f}",
                                     "buyer_logon_id": "buy***@example.com"})

    async def finish_refund(self, otn: str, no: str) -> None:
        """A slow refund's money moves: refund.query says REFUND_SUCCESS from now on, and the notify goes."""
        t = self.trades[otn]
        t["slow"].discard(no)
        await self._refund_notify(t, no)

    async def _refund_notify(self, t: dict[str, Any], no: str) -> None:
        await asyncio.sleep(0.05)
        if t.get("notify_url"):
            await self.deliver(Notice(t["notify_url"], self.signed(self._notify_params(t, {
                "out_biz_no": no, "refund_fee": f"{t['refunded']:.2f}", "gmt_refund": _now()}))))

    def _cashier_page(self, params: dict[str, str], biz: dict[str, Any]) -> Response:
        otn = biz.get("out_trade_no", "")
        t = self.trades.get(otn)
        expire = beijing(str(biz.get("time_expire", "")))
        if t is None and expire is not None and expire.timestamp() <= self.clock():
            return HTMLResponse("<p>ACQ.TRADE_HAS_CLOSE 交易已关闭 (time_expire)</p>", status_code=400)
        if t is None:  # Alipay creates the trade when the buyer opens its page
            t = self.trades[otn] = {
                "out_trade_no": otn, "trade_no": "2026" + secrets.token_hex(12), "status": "WAIT_BUYER_PAY",
                "total_amount": biz["total_amount"], "subject": biz.get("subject", ""),
                "product_code": biz.get("product_code"), "notify_url": params.get("notify_url"),
                "return_url": params.get("return_url"), "refunded": Decimal(0), "refunds": {}, "slow": set(),
                "method": params["method"]}
        elif t["total_amount"] != biz["total_amount"]:
            return HTMLResponse("<p>ACQ.CONTEXT_INCONSISTENT 交易信息被篡改</p>", status_code=400)
        return HTMLResponse(
            f"<!doctype html><title>支付宝</title><h1>支付宝 收银台 (fake)</h1><p>{t['subject']}</p>"
            f"<p id=amount>¥{t['total_amount']}</p><form method=post action='/_fake/pagepay'>"
            f"<input type=hidden name=otn value='{otn}'><button id=ali-pay>确认付款</button></form>")

    def _notify_params(self, t: dict[str, Any], extra: dict[str, str] | None = None) -> dict[str, str]:
        p = {"notify_time": _now(), "notify_type": "trade_status_sync", "notify_id": secrets.token_hex(16),
             "app_id": self.app_id, "charset": "utf-8", "version": "1.0", "trade_no": t["trade_no"],
             "out_trade_no": t["out_trade_no"], "trade_status": t["status"], "total_amount": t["total_amount"],
             "receipt_amount": t["total_amount"], "buyer_pay_amount": t["total_amount"], "subject": t["subject"],
             "gmt_create": _now(), "gmt_payment": _now(), "seller_id": self.seller_id}
        return {**p, **(extra or {})}

    def payment_notice(self, otn: str, *, total_amount: str | None = None, private: str | None = None,
                       url: str | None = None, app_id: str | None = None, seller_id: str | None = None,
                       status: str | None = None) -> Notice:
        t = self.trades[otn]
        p = self._notify_params(t, {"total_amount": total_amount or t["total_amount"],
                                    "app_id": app_id or self.app_id, "seller_id": seller_id or self.seller_id,
                                    "trade_status": status or t["status"]})
        return Notice(url or t["notify_url"], self.signed(p, private))

    async def deliver(self, n: Notice) -> Notice:
        async with httpx.AsyncClient(timeout=10) as client:
            r = await client.post(n.url, content=urlencode(n.params).encode(),
                                  headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        n.status, n.answer = r.status_code, r.content
        self.notices.append(n)
        return n

    async def pay(self, otn: str, *, notify: bool = True, times: int = 1) -> list[Notice]:
        t = self.trades[otn]
        if t["status"] == "WAIT_BUYER_PAY":
            t["status"] = "TRADE_SUCCESS"
        return [await self.deliver(self.payment_notice(otn)) for _ in range(times)] if notify else []

    async def notify_status(self, otn: str, status: str) -> Notice:
        """A notify of `status` (WAIT_BUYER_PAY: merchants may turn it on; TRADE_FINISHED: a trade no longer
        refundable), the trade set to it (异步通知 交易状态说明, https://opendocs.alipay.com/open/270/105902)."""
        self.trades[otn]["status"] = status
        return await self.deliver(self.payment_notice(otn, status=status))

    def return_url(self, otn: str) -> str:
        """Where the browser goes back after paying: the return_url with Alipay's signed sync-return params."""
        t = self.trades[otn]
        p = self.signed({"charset": "utf-8", "out_trade_no": otn, "method": t["method"] + ".return",
                         "total_amount": t["total_amount"], "trade_no": t["trade_no"], "auth_app_id": self.app_id,
                         "version": "1.0", "app_id": self.app_id, "seller_id": self.seller_id,
                         "timestamp": _now()})
        base = t["return_url"] or "/"
        return base + ("&" if "?" in base else "?") + urlencode(p)

    async def page_pay(self, req: Request) -> Response:
        otn = str((await req.form()).get("otn", ""))
        await self.pay(otn)
        return RedirectResponse(self.return_url(otn), status_code=303)

    async def fake_pay(self, req: Request) -> Response:
        got = await self.pay(req.path_params["otn"], notify=req.query_params.get("notify", "1") == "1",
                             times=int(req.query_params.get("times", "1")))
        return Response(json.dumps([[n.status, n.answer.decode()] for n in got]), media_type="application/json")

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/gateway.do", self.gateway_do, methods=["GET", "POST"]),
            Route("/_fake/pagepay", self.page_pay, methods=["POST"]),
            Route("/_fake/pay/{otn}", self.fake_pay, methods=["POST"]),
        ])


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 8 * 3600))
