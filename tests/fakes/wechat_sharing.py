"""WeChat Pay's profit sharing (分账) in the fake gateway (fakes/wechat_gateway.py routes /v3/profitsharing/ here),
from its API v3 documents:

- 添加分账接收方 POST /v3/profitsharing/receivers/add (https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter8_1_8.shtml,
  请求参数): appid, type MERCHANT_ID | PERSONAL_OPENID, account, relation_type required; `name` required for a
  MERCHANT_ID (商户全称), sent encrypted with the WeChat Pay public key, so the request names it in
  Wechatpay-Serial; adding a receiver again is accepted.
- 请求分账 POST /v3/profitsharing/orders (https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter8_1_1.shtml,
  请求参数): transaction_id of a paid trade made with settle_info.profit_sharing = true (下单 settle_info, else the
  trade cannot be shared); out_order_no string[1,64] of digits, letters and _-|*@, "同一分账单号多次请求等同一次";
  receivers array[1,50], each an added receiver, amount integer ≥ 1, description string[1,80] required;
  unfreeze_unsplit required (true: the rest unfrozen, the trade cannot be shared again); amounts within the
  unfrozen money left and the maximum ratio (最大分账比例, 30% by default). The request is accepted (state
  PROCESSING, receivers PENDING) and processed asynchronously.
- 查询分账结果 GET /v3/profitsharing/orders/{out_order_no}?transaction_id= (chapter8_1_2): state FINISHED once done;
  each receiver's result SUCCESS, or CLOSED with fail_reason (e.g. ACCOUNT_ABNORMAL).

Scriptable through `fake.sharing`: "mode" "ok" | "close" (receivers CLOSED, ACCOUNT_ABNORMAL) | "refuse"
(403 NO_AUTH: profit sharing not enabled for the merchant); "pending": how many queries still find a share
PROCESSING before it is done; "orders" and "receivers" hold what the fake saw, "queries" how many were asked."""

from __future__ import annotations

import re
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

MAX_RATIO = 0.30  # 最大分账比例, the default a merchant can raise on its platform


def route(fake: Any, req: Request, path: str, data: dict[str, Any]) -> Response:
    st = fake.sharing
    if req.method == "POST" and path == "/v3/profitsharing/receivers/add":
        return _add_receiver(fake, req, data)
    if req.method == "POST" and path == "/v3/profitsharing/orders":
        return _order(fake, data)
    if req.method == "GET" and path.startswith("/v3/profitsharing/orders/"):
        o = st["orders"].get(path.rsplit("/", 1)[1])
        if o is None or o["transaction_id"] != req.query_params.get("transaction_id"):
            return fake.answer(404, {"code": "RESOURCE_NOT_EXISTS", "message": "记录不存在"})
        if o["state"] == "PROCESSING" and st["pending"] > 0:  # still being processed
            st["pending"] -= 1
        elif o["state"] == "PROCESSING":  # processed asynchronously: done by the time it is asked
            o["state"] = "FINISHED"
            for r in o["receivers"]:
                r["result"] = "CLOSED" if st["mode"] == "close" else "SUCCESS"
                if r["result"] == "CLOSED":
                    r["fail_reason"] = "ACCOUNT_ABNORMAL"
        st["queries"] += 1
        return fake.answer(200, _view(o))
    return fake.answer(404, {"code": "NOT_FOUND", "message": path})


def _bad(fake: Any, message: str) -> Response:
    return fake.answer(400, {"code": "PARAM_ERROR", "message": message})


def _add_receiver(fake: Any, req: Request, data: dict[str, Any]) -> Response:
    if data.get("appid") != fake.appid:
        return _bad(fake, "appid")
    if data.get("type") not in ("MERCHANT_ID", "PERSONAL_OPENID") or not data.get("account") or not data.get(
            "relation_type"):
        return _bad(fake, "type, account and relation_type are required")
    if data.get("type") == "MERCHANT_ID" and not data.get("name"):
        return _bad(fake, "分账接收方类型为MERCHANT_ID时，name必填")
    if data.get("name") and not req.headers.get("wechatpay-serial"):
        return _bad(fake, "name is encrypted: Wechatpay-Serial is required")
    fake.sharing["receivers"][data["account"]] = data
    return fake.answer(200, {"type": data["type"], "account": data["account"]})


def _problem(fake: Any, t: dict[str, Any] | None, data: dict[str, Any]) -> str | None:
    if t is None or t["state"] not in ("SUCCESS", "REFUND"):
        return "订单不存在或未支付"
    if not t.get("profit_sharing"):
        return "该笔订单不支持分账 (settle_info.profit_sharing)"
    if t.get("share_finished"):
        return "订单已完结分账，不能再分账"
    if not re.fullmatch(r"[0-9A-Za-z_\-|*@]{1,64}", str(data.get("out_order_no", ""))):
        return "out_order_no"
    if not isinstance(data.get("unfreeze_unsplit"), bool):
        return "unfreeze_unsplit is required"
    receivers = data.get("receivers")
    if not isinstance(receivers, list) or not 1 <= len(receivers) <= 50:
        return "receivers: 1 to 50"
    for r in receivers:
        if r.get("account") not in fake.sharing["receivers"]:
            return f"分账接收方 {r.get('account')} 未添加"
        if not isinstance(r.get("amount"), int) or r["amount"] < 1:
            return "amount must be an integer ≥ 1"
        if not r.get("description") or len(r["description"]) > 80:
            return "description is required (at most 80 characters)"
    total = sum(r["amount"] for r in receivers)
    if t["shared"] + total > int(t["amount"] * MAX_RATIO) or t["shared"] + total > t["amount"] - t["refunded"]:
        return "分账金额超出最大分账比例或可分账金额"
    return None


def _order(fake: Any, data: dict[str, Any]) -> Response:
    st = fake.sharing
    if st["mode"] == "refuse":
        return fake.answer(403, {"code": "NO_AUTH", "message": "商户无权限，请开通分账"})
    no = str(data.get("out_order_no", ""))
    with fake.lock:
        if no in st["orders"]:  # the same out_order_no is the same request
            return fake.answer(200, _view(st["orders"][no]))
        t = next((v for v in fake.trades.values() if v["transaction_id"] == data.get("transaction_id")), None)
        problem = _problem(fake, t, data)
        if problem or t is None:
            return fake.answer(400, {"code": "INVALID_REQUEST", "message": problem})
        t["shared"] += sum(r["amount"] for r in data["receivers"])
        t["share_finished"] = data["unfreeze_unsplit"]
        o = st["orders"][no] = {
            "transaction_id": data["transaction_id"], "out_order_no": no, "order_id": "3008" + secrets.token_hex(12),
            "state": "PROCESSING", "receivers": [{"type": r["type"], "account": r["account"], "amount": r["amount"],
                                                   "description": r["description"], "result": "PENDING"}
                                                  for r in data["receivers"]]}
    return fake.answer(200, _view(o))


def _view(o: dict[str, Any]) -> dict[str, Any]:
    return {k: o[k] for k in ("transaction_id", "out_order_no", "order_id", "state", "receivers")}
