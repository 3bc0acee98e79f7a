"""A fake WeChat Pay API v3 gateway (https://api.mch.weixin.qq.com), from WeChat Pay's published v3 documents.

Every request's `Authorization: WECHATPAY2-SHA256-RSA2048 mchid=..,nonce_str=..,signature=..,timestamp=..,serial_no=..`
is checked over `METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n` with the merchant's public key (401 SIGN_ERROR if not);
every answer carries Wechatpay-Signature/-Timestamp/-Nonce/-Serial signed with the platform key over
`TIMESTAMP\\nNONCE\\nBODY\\n`; notifies carry the same headers and an AEAD_AES_256_GCM `resource` under the APIv3 key.

Scriptable: `mode` "ok" | "refuse" | "timeout" | "error"; `refund_mode` "success" | "processing" (the refund stays
PROCESSING until `refund_done`, which sends its notify) | "fail"; `pay(out_trade_no, notify=..., times=...)` is the
buyer paying (sends the notify), also reachable over HTTP at POST /_fake/pay/{out_trade_no} and through the H5 page
/_fake/h5 the browser opens. `payment_notice(..., signer="certificate")` signs with the platform certificate
(`certificate_pem`, serial `cert_serial`) instead of the WeChat Pay public key.

Rules held as the documents give them (each checked where it is enforced below):
- 基本规则 (https://pay.weixin.qq.com/docs/merchant/development/interface-rules/basic-rules.html): 数据格式
  "Accept: application/json"; 字符集: only 1-3-byte UTF-8 characters; 日期格式: ISO 8601 / RFC 3339 with a zone;
- 签名生成 (https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-generation.html):
  `Authorization: WECHATPAY2-SHA256-RSA2048 mchid=..,nonce_str=..,signature=..,timestamp=..,serial_no=..`; and
  the SDKs' and the older 接口规则 page's User-Agent (https://pay.weixin.qq.com/wiki/doc/apiv3/wechatpay/
  wechatpay2_0.shtml, HTTP头 User-Agent): a request without one is refused;
- Native/H5/JSAPI 下单 (https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter3_4_1.shtml Native,
  https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter3_1_1.shtml JSAPI), 请求参数: description string[1,127];
  out_trade_no string[6,32] of digits, letters, _ - | *; notify_url "必须为https协议 ... 不能携带参数";
  time_expire "yyyy-MM-DDTHH:mm:ss+TIMEZONE"; JSAPI: payer.openid required.
A notify_url on a loopback host (127.0.0.1, localhost) may be http: the tests' own servers have no TLS (the one
concession; any other http URL is refused).
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from fakes import keys, wechat_bills, wechat_sharing
from fakes.wechat_rules import certificate, prepay_problem


@dataclass
class Notice:
    kind: str
    url: str
    headers: dict[str, str]
    body: bytes
    status: int = 0
    answer: bytes = b""


@dataclass
class FakeWechat:
    mchid: str = "1900000109"
    appid: str = "wxd678efh567hg6787"
    serial_no: str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
    key_id: str = "PUB_KEY_ID_0114232134912410000000000000"
    apiv3_key: str = field(default_factory=lambda: secrets.token_hex(16))
    mode: str = "ok"
    refund_mode: str = "success"
    delay: float = 3.0
    base_url: str = ""
    trades: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    sharing: dict[str, Any] = field(default_factory=lambda: {"mode": "ok", "orders": {}, "receivers": {},
                                                             "queries": 0, "pending": 0})

    def __post_init__(self) -> None:
        self.merchant_private, self.merchant_public = keys.pair("wechat-merchant")
        self.platform_private, self.platform_public = keys.pair("wechat-platform")
        self.cert_private = keys.pair("wechat-platform-certificate")[0]
        self.cert_serial, self.certificate_pem = certificate(self.cert_private)

    def merchant_config(self) -> dict[str, str]:
        """What the merchant saves with `paybutton app update --wechat-config`."""
        return {"mchid": self.mchid, "appid": self.appid, "private_key": self.merchant_private,
                "cert_serial_no": self.serial_no, "apiv3_key": self.apiv3_key,
                "platform_public_key": self.platform_public, "platform_public_key_id": self.key_id,
                "gateway": self.base_url}

    # ------------------------------------------------------------------ signing

    def signed_headers(self, body: bytes, *, ts: int | None = None, private: str | None = None,
                       signer: str = "public_key") -> dict[str, str]:
        """Signed with the WeChat Pay public key (Wechatpay-Serial: its PUB_KEY_ID_...) or, `signer`
        "certificate", a platform certificate (Wechatpay-Serial: the certificate's serial), as WeChat Pay does
        while a merchant switches (https://pay.weixin.qq.com/doc/v3/merchant/4012154180, 3.1 验签场景)."""
        stamp = str(ts if ts is not None else int(time.time()))
        nonce = secrets.token_hex(16)
        msg = f"{stamp}\n{nonce}\n".encode() + body + b"\n"
        by_cert = signer == "certificate"
        key = private or (self.cert_private if by_cert else self.platform_private)
        return {"Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": nonce,
                "Wechatpay-Serial": self.cert_serial if by_cert else self.key_id,
                "Wechatpay-Signature": keys.sign(key, msg),
                "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048", "Request-ID": uuid.uuid4().hex}

    def answer(self, status: int, data: dict[str, Any] | None) -> Response:
        body = json.dumps(data, ensure_ascii=False).encode() if data is not None else b""
        return Response(body, status_code=status, headers=self.signed_headers(body),
                        media_type="application/json" if data is not None else None)

    def _check_auth(self, req: Request, body: bytes) -> str | None:
        if "application/json" not in req.headers.get("accept", ""):  # 基本规则, 数据格式
            return "Accept must be application/json"
        if not req.headers.get("user-agent"):  # 接口规则, HTTP头 User-Agent
            return "no User-Agent"
        auth = req.headers.get("authorization", "")
        scheme, _, rest = auth.partition(" ")
        if scheme != "WECHATPAY2-SHA256-RSA2048":
            return "no WECHATPAY2-SHA256-RSA2048 Authorization"
        parts = dict(p.split("=", 1) for p in rest.split(",") if "=" in p)
        f = {k.strip(): v.strip().strip('"') for k, v in parts.items()}
        if f.get("mchid") != self.mchid or f.get("serial_no") != self.serial_no:
            return "unknown mchid or certificate serial_no"
        if abs(time.time() - int(f.get("timestamp", "0") or 0)) > 300:
            return "stale timestamp"
        url = req.url.path + (f"?{req.url.query}" if req.url.query else "")
        msg = f"{req.method}\n{url}\n{f['timestamp']}\n{f.get('nonce_str', '')}\n".encode() + body + b"\n"
        if not keys.verify(self.merchant_public, msg, f.get("signature", "")):
            return "signature does not verify"
        return None

    # ------------------------------------------------------------------ the API

    async def handle(self, req: Request) -> Response:
        body = await req.body()
        path = req.url.path
        problem = self._check_auth(req, body)
        self.requests.append((req.method, path, 401 if problem else 0))
        if problem:
            return self.answer(401, {"code": "SIGN_ERROR", "message": problem})
        if self.mode == "timeout":  # the gateway does the work, then its answer is lost (too late)
            answer = await self._route(req, path, body)
            await asyncio.sleep(self.delay)
            return answer
        if self.mode == "error":
            return self.answer(500, {"code": "SYSTEM_ERROR", "message": "系统错误"})
        return await self._route(req, path, body)

    async def _route(self, req: Request, path: str, body: bytes) -> Response:
        if path.startswith(("/v3/bill/", "/v3/billdownload/")):  # the trade bills: fakes/wechat_bills.py
            return wechat_bills.route(self, req, path)
        data = json.loads(body) if body else {}
        if path.startswith("/v3/profitsharing/"):  # profit sharing: fakes/wechat_sharing.py
            return wechat_sharing.route(self, req, path, data)
        if req.method == "POST" and path in ("/v3/pay/transactions/native", "/v3/pay/transactions/h5",
                                             "/v3/pay/transactions/jsapi"):
            return self._prepay(path.rsplit("/", 1)[1], data)
        if path.startswith("/v3/pay/transactions/out-trade-no/"):
            otn = path.split("/")[5]
            if path.endswith("/close"):
                return self._close(otn)
            return self._query(otn, req.query_params.get("mchid"))
        if path == "/v3/refund/domestic/refunds" and req.method == "POST":
            return self._refund(data)
        if path.startswith("/v3/refund/domestic/refunds/"):
            r = self.refunds.get(path.rsplit("/", 1)[1])
            return self.answer(200, r["view"]) if r else self.answer(404, {"code": "RESOURCE_NOT_EXISTS",
                                                                           "message": "退款单不存在"})
        return self.answer(404, {"code": "NOT_FOUND", "message": path})

    def _prepay(self, kind: str, data: dict[str, Any]) -> Response:
        if self.mode == "refuse":
            return self.answer(403, {"code": "NO_AUTH", "message": "商户无此接口权限"})
        for need in ("appid", "mchid", "description", "out_trade_no", "notify_url", "amount"):
            if not data.get(need):
                return self.answer(400, {"code": "PARAM_ERROR", "message": f"缺少参数 {need}"})
        if data["mchid"] != self.mchid or data["appid"] != self.appid:
            return self.answer(400, {"code": "PARAM_ERROR", "message": "appid和mch_id不匹配"})
        problem = prepay_problem(kind, data)
        if problem:
            return self.answer(400, {"code": "PARAM_ERROR", "message": problem})
        total = data["amount"].get("total")
        if not isinstance(total, int) or total < 1:
            return self.answer(400, {"code": "PARAM_ERROR", "message": "amount.total"})
        if kind == "h5" and not (data.get("scene_info") or {}).get("h5_info"):
            return self.answer(400, {"code": "PARAM_ERROR", "message": "缺少参数 scene_info.h5_info"})
        otn = data["out_trade_no"]
        with self.lock:
            t = self.trades.get(otn)
            if t is not None and (t["amount"] != total or t["kind"] != kind):
                return self.answer(400, {"code": "INVALID_REQUEST", "message": "201 商户订单号重复"})
            if t is None:
                prepay = "wx" + secrets.token_hex(14)
                t = self.trades[otn] = {"kind": kind, "amount": total, "state": "NOTPAY", "prepay": prepay,
                                        "notify_url": data["notify_url"], "transaction_id": None,
                                        "description": data["description"], "refunded": 0, "shared": 0,
                                        "profit_sharing": (data.get("settle_info") or {}).get("profit_sharing")
                                        is True}
        if kind == "native":
            return self.answer(200, {"code_url": f"weixin://wxpay/bizpayurl?pr={t['prepay'][2:12]}"})
        if kind == "jsapi":
            t["openid"] = data["payer"]["openid"]
            return self.answer(200, {"prepay_id": t["prepay"]})
        return self.answer(200, {"h5_url": f"{self.base_url}/_fake/h5?prepay_id={t['prepay']}&otn={otn}"})

    def _view(self, otn: str, t: dict[str, Any]) -> dict[str, Any]:
        v: dict[str, Any] = {"appid": self.appid, "mchid": self.mchid, "out_trade_no": otn,
                             "trade_type": t["kind"].upper(), "trade_state": t["state"],
                             "trade_state_desc": t["state"], "amount": {"total": t["amount"], "currency": "CNY"}}
        if t["transaction_id"]:
            v.update(transaction_id=t["transaction_id"], success_time=t["paid_at"], bank_type="OTHERS",
                     payer={"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"})
            v["amount"].update(payer_total=t["amount"], payer_currency="CNY")
        return v

    def _query(self, otn: str, mchid: str | None) -> Response:
        if mchid != self.mchid:
            return self.answer(400, {"code": "PARAM_ERROR", "message": "mchid"})
        t = self.trades.get(otn)
        if t is None:
            return self.answer(404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
        return self.answer(200, self._view(otn, t))

    def _close(self, otn: str) -> Response:
        t = self.trades.get(otn)
        if t is None:
            return self.answer(404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
        if t["state"] in ("SUCCESS", "REFUND"):
            return self.answer(400, {"code": "ORDER_PAID", "message": "订单已支付"})
        t["state"] = "CLOSED"
        return self.answer(204, None)

    def _refund(self, data: dict[str, Any]) -> Response:
        no = data.get("out_refund_no")
        amount = data.get("amount") or {}
        t_otn = data.get("out_trade_no") or next(
            (k for k, v in self.trades.items() if v["transaction_id"] == data.get("transaction_id")), None)
        t = self.trades.get(t_otn or "")
        if not no or t is None:
            return self.answer(404, {"code": "RESOURCE_NOT_EXISTS", "message": "订单不存在"})
        with self.lock:
            if no in self.refunds:
                return self.answer(200, self.refunds[no]["view"])
            if t["state"] not in ("SUCCESS", "REFUND"):
                return self.answer(400, {"code": "INVALID_REQUEST", "message": "订单未支付"})
            if amount.get("total") != t["amount"] or t["refunded"] + int(amount.get("refund", 0)) > t["amount"]:
                return self.answer(400, {"code": "INVALID_REQUEST", "message": "退款金额或订单金额不符"})
            if t["refunded"] + int(amount.get("refund", 0)) > t["amount"] - t.get("shared", 0):
                # money shared out must come back first (请求分账回退 https://pay.weixin.qq.com/wiki/doc/apiv3/apis/
                # chapter8_1_3.shtml): the merchant's refundable money is what was not shared
                return self.answer(403, {"code": "NOT_ENOUGH", "message": "可退款金额不足，请先分账回退"})
            if self.refund_mode == "fail":
                return self.answer(403, {"code": "NOT_ENOUGH", "message": "基本账户余额不足"})
            t["refunded"] += amount["refund"]
            t["state"] = "REFUND"
            status = "SUCCESS" if self.refund_mode == "success" else "PROCESSING"
            view = {"refund_id": "5030" + secrets.token_hex(12), "out_refund_no": no, "out_trade_no": t_otn,
                    "transaction_id": t["transaction_id"], "channel": "ORIGINAL", "status": status,
                    "user_received_account": "支付用户零钱", "create_time": _now_iso(),
                    "amount": {"total": t["amount"], "refund": amount["refund"], "currency": "CNY",
                               "payer_total": t["amount"], "payer_refund": amount["refund"]}}
            self.refunds[no] = {"view": view, "notify_url": data.get("notify_url")}
        if status == "SUCCESS":
            asyncio.get_running_loop().create_task(self.refund_done(no))
        return self.answer(200, view)

    # ------------------------------------------------------------------ the buyer and the notifies

    async def pay(self, otn: str, *, notify: bool = True, times: int = 1) -> list[Notice]:
        with self.lock:
            t = self.trades[otn]
            if t["state"] == "NOTPAY":
                t.update(state="SUCCESS", transaction_id="4200" + secrets.token_hex(12), paid_at=_now_iso())
        return [await self.send_payment_notify(otn) for _ in range(times)] if notify else []

    def payment_notice(self, otn: str, *, amount: int | None = None, ts: int | None = None,
                       private: str | None = None, apiv3_key: str | None = None,
                       url: str | None = None, signer: str = "public_key") -> Notice:
        t = self.trades.get(otn) or {"kind": "native", "amount": amount or 1, "state": "SUCCESS",
                                     "transaction_id": "4200" + secrets.token_hex(12), "paid_at": _now_iso()}
        res = self._view(otn, {**t, "amount": amount if amount is not None else t["amount"]})
        body = self._envelope("TRANSACTION.SUCCESS", "transaction", res, apiv3_key)
        return Notice("payment", url or t.get("notify_url", ""),
                      self.signed_headers(body, ts=ts, private=private, signer=signer), body)

    def _envelope(self, event: str, original: str, res: dict[str, Any], apiv3_key: str | None = None) -> bytes:
        nonce = secrets.token_hex(6)
        ct = AESGCM((apiv3_key or self.apiv3_key).encode()).encrypt(
            nonce.encode(), json.dumps(res, ensure_ascii=False).encode(), original.encode())
        return json.dumps({"id": str(uuid.uuid4()), "create_time": _now_iso(), "resource_type": "encrypt-resource",
                           "event_type": event, "summary": "支付成功" if original == "transaction" else "退款成功",
                           "resource": {"original_type": original, "algorithm": "AEAD_AES_256_GCM",
                                        "ciphertext": base64.b64encode(ct).decode(), "associated_data": original,
                                        "nonce": nonce}}, ensure_ascii=False).encode()

    async def deliver(self, n: Notice) -> Notice:
        async with httpx.AsyncClient(timeout=10) as client:
            r = await client.post(n.url, content=n.body, headers={**n.headers, "Content-Type": "application/json"})
        n.status, n.answer = r.status_code, r.content
        self.notices.append(n)
        return n

    async def send_payment_notify(self, otn: str, **kw: Any) -> Notice:
        return await self.deliver(self.payment_notice(otn, **kw))

    async def refund_done(self, no: str, ok: bool = True, amount: int | None = None) -> Notice | None:
        """The refund ends (SUCCESS or ABNORMAL) and WeChat Pay notifies the refund's notify_url (`amount`: a
        notify that names another refund amount)."""
        await asyncio.sleep(0.05)
        r = self.refunds[no]
        r["view"]["status"] = "SUCCESS" if ok else "ABNORMAL"
        if not r["notify_url"]:
            return None
        v = r["view"]
        res = {"mchid": self.mchid, "out_trade_no": v["out_trade_no"], "transaction_id": v["transaction_id"],
               "out_refund_no": no, "refund_id": v["refund_id"], "refund_status": v["status"],
               "success_time": _now_iso(), "user_received_account": v["user_received_account"],
               "amount": {k: v["amount"][k] for k in ("total", "refund", "payer_total", "payer_refund")}}
        if amount is not None:
            res["amount"]["refund"] = amount
        body = self._envelope("REFUND.SUCCESS" if ok else "REFUND.ABNORMAL", "refund", res)
        return await self.deliver(Notice("refund", r["notify_url"], self.signed_headers(body), body))

    # ------------------------------------------------------------------ the fake's own pages

    async def fake_pay(self, req: Request) -> Response:
        otn = req.path_params["otn"]
        if otn not in self.trades:
            return Response("no such trade", status_code=404)
        got = await self.pay(otn, notify=req.query_params.get("notify", "1") == "1",
                             times=int(req.query_params.get("times", "1")))
        return Response(json.dumps([[n.status, n.answer.decode()] for n in got]), media_type="application/json")

    async def h5_page(self, req: Request) -> Response:
        otn = req.query_params.get("otn", "")
        t = self.trades.get(otn)
        if t is None or t["prepay"] != req.query_params.get("prepay_id"):
            return HTMLResponse("<p>无效的订单</p>", status_code=404)
        back = req.query_params.get("redirect_url", "")
        return HTMLResponse(
            f"<!doctype html><title>微信支付</title><h1>微信支付 (fake)</h1><p>{t['description']}</p>"
            f"<p id=amount>¥{t['amount'] / 100:.2f}</p><form method=post action='/_fake/h5pay'>"
            f"<input type=hidden name=otn value='{otn}'><input type=hidden name=back value='{back}'>"
            f"<button id=wx-pay>确认支付</button></form>")

    async def h5_pay(self, req: Request) -> Response:
        form = await req.form()
        otn, back = str(form.get("otn", "")), str(form.get("back", ""))
        await self.pay(otn)
        return RedirectResponse(back or "/", status_code=303)

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/_fake/pay/{otn}", self.fake_pay, methods=["POST"]),
            Route("/_fake/h5", self.h5_page, methods=["GET"]),
            Route("/_fake/h5pay", self.h5_pay, methods=["POST"]),
            Route("/v3/{rest:path}", self.handle, methods=["GET", "POST"]),
        ])


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(time.time() + 8 * 3600))

