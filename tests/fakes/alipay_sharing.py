"""Alipay's royalty settle (分账) in the fake gateway (fakes/alipay_gateway.py sends these methods here), from its
documents:

- alipay.trade.order.settle 统一收单交易结算接口 (https://opendocs.alipay.com/open/02o6e7, 请求参数): out_request_no
  (结算请求流水号, at most 64, unique: the same one again is the same request), trade_no of a paid trade,
  royalty_parameters (1 to 20 items), each royalty_type "transfer", trans_in_type "userId" with trans_in an Alipay
  user id (2088 and 12 digits) bound to the merchant beforehand (alipay.trade.royalty.relation.bind), amount in yuan
  with two decimals ≥ 0.01, within what is left of the trade; extend_params.royalty_finish "true" ends the trade's
  sharing (the rest unfrozen). Answers trade_no and settle_no; the transfers themselves run asynchronously.
- alipay.trade.order.settle.query 交易分账查询接口 (https://opendocs.alipay.com/open/02pj6l): by settle_no or
  out_request_no + trade_no; royalty_detail_list[] with state SUCCESS, FAIL (error_code, error_desc) or PROCESSING.

Scriptable through `fake.sharing`: "mode" "ok" | "fail" (each transfer FAIL, TXN_RESULT_ACCOUNT_STATUS_NOT_VALID);
"bound" holds the bound user ids (the merchant's setup), "settles" what the fake saw."""

from __future__ import annotations

import re
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.responses import Response

METHODS = ("alipay.trade.order.settle", "alipay.trade.order.settle.query")


def answer(fake: Any, method: str, t: dict[str, Any], biz: dict[str, Any], base: dict[str, Any]) -> Response:
    st = fake.sharing
    if method == "alipay.trade.order.settle.query":
        s = st["settles"].get(biz.get("out_request_no", ""))
        if s is None or s["trade_no"] != t["trade_no"]:
            return _failed(fake, method, "ACQ.TRADE_SETTLE_ERROR", "分账请求不存在")
        for d in s["details"]:
            if d["state"] == "PROCESSING":  # processed asynchronously: done by the time it is asked
                d.update({"state": "SUCCESS"} if st["mode"] == "ok" else {
                    "state": "FAIL", "error_code": "TXN_RESULT_ACCOUNT_STATUS_NOT_VALID", "error_desc": "账户状态异常"})
        st["queries"] += 1
        return fake.respond(method, {**base, "settle_no": s["settle_no"], "out_request_no": s["out_request_no"],
                                     "royalty_detail_list": s["details"]})
    no = str(biz.get("out_request_no", ""))
    if no in st["settles"]:
        return fake.respond(method, {**base, "settle_no": st["settles"][no]["settle_no"]})
    problem, total = _problem(fake, t, biz)
    if problem:
        return _failed(fake, method, "ACQ.INVALID_PARAMETER", problem)
    t["shared"] = t.get("shared", Decimal(0)) + total
    t["share_finished"] = str((biz.get("extend_params") or {}).get("royalty_finish", "")) == "true"
    details = [{"operation_type": "transfer", "trans_in": p["trans_in"], "trans_in_type": "userId",
                "amount": p["amount"], "state": "PROCESSING"} for p in biz["royalty_parameters"]]
    st["settles"][no] = {"out_request_no": no, "trade_no": t["trade_no"], "settle_no": "2026" + secrets.token_hex(10),
                         "details": details}
    return fake.respond(method, {**base, "settle_no": st["settles"][no]["settle_no"]})


def _failed(fake: Any, method: str, sub_code: str, sub_msg: str) -> Response:
    return fake.respond(method, {"code": "40004", "msg": "Business Failed", "sub_code": sub_code, "sub_msg": sub_msg})


def _problem(fake: Any, t: dict[str, Any], biz: dict[str, Any]) -> tuple[str | None, Decimal]:
    if t["status"] not in ("TRADE_SUCCESS",) or t.get("share_finished"):
        return "交易状态不支持分账", Decimal(0)
    if not re.fullmatch(r"[A-Za-z0-9_\-]{1,64}", str(biz.get("out_request_no", ""))):
        return "out_request_no", Decimal(0)
    params = biz.get("royalty_parameters")
    if not isinstance(params, list) or not 1 <= len(params) <= 20:
        return "royalty_parameters: 1 to 20", Decimal(0)
    total = Decimal(0)
    for p in params:
        if p.get("royalty_type", "transfer") != "transfer" or p.get("trans_in_type") != "userId":
            return "royalty_type transfer, trans_in_type userId", Decimal(0)
        if not re.fullmatch(r"2088\d{12}", str(p.get("trans_in", ""))) or p["trans_in"] not in fake.sharing["bound"]:
            return f"分账关系未绑定 {p.get('trans_in')}", Decimal(0)
        try:
            amount = Decimal(str(p.get("amount")))
        except InvalidOperation:
            return "amount", Decimal(0)
        if amount < Decimal("0.01") or amount != amount.quantize(Decimal("0.01")):
            return "amount", Decimal(0)
        total += amount
    if t.get("shared", Decimal(0)) + total > Decimal(t["total_amount"]) - t["refunded"]:
        return "分账金额超过可分账金额", Decimal(0)
    return None, total
