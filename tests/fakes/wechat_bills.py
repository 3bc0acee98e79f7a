"""The fake WeChat Pay gateway's trade bills, made from the fake's own trades and refunds (hooked into
wechat_gateway.FakeWechat._route), as WeChat Pay documents them:

- 申请交易账单 `GET /v3/bill/tradebill` (https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter7_9_1.shtml):
  `bill_date` yyyy-MM-dd (else 400 PARAM_ERROR), `bill_type` ALL|SUCCESS|REFUND, `tar_type` GZIP or none; a day
  without a trade or refund answers 400 NO_STATEMENT_EXIST, a bill still being made 400 STATEMENT_CREATING; else
  `download_url` (valid 30 s; here: until used), `hash_type` SHA1 and `hash_value`, the SHA1 of the bill before gzip.
- 下载账单 (https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter7_3_9.shtml): the download is signed like every
  request (the gateway checks it), its answer is the file and is not signed. The file: a header line, one line per
  trade or refund with every field prefixed by "`", a summary header (总交易单数,...) and the summary line; amounts
  in yuan; columns as the v2 downloadbill document lists them
  (https://pay.weixin.qq.com/wiki/doc/api/native.php?chapter=9_6).

A trade is on the bill of the Beijing day it was paid (`paid_at`), a refund on the day it was made; a test books
them on another day with `book(fake, day)` (the fake's trades carry the wall clock, the server a fake one).
`script(fake).mode` breaks the bill for the bad-bill tests: "creating", "bad_hash", "not_gzip", "bad_format",
"gbk" (GBK, not UTF-8), "lost" (the download answers 500)."""

from __future__ import annotations

import gzip
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

HEADER = ",".join("""
交易时间 公众账号ID 商户号 特约商户号 设备号 微信订单号 商户订单号 用户标识 交易类型 交易状态
付款银行 货币种类 应结订单金额 代金券金额 微信退款单号 商户退款单号 退款金额 充值券退款金额 退款类型
退款状态 商品名称 商户数据包 手续费 费率 订单金额 申请退款金额 费率备注""".split())
SUMMARY = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
FEE_RATE = Decimal("0.006")  # 0.60%, as the bill's 费率 column shows it


@dataclass
class BillScript:
    mode: str = "ok"
    day_of: dict[str, str] = field(default_factory=dict)  # out_trade_no / out_refund_no -> the bill day
    files: dict[str, bytes] = field(default_factory=dict)  # download token -> the (gzipped) file
    asked: list[str] = field(default_factory=list)  # the bill_date of every tradebill call


def script(fake: Any) -> BillScript:
    s: BillScript | None = fake.__dict__.get("bill_script")
    if s is None:
        s = fake.__dict__["bill_script"] = BillScript()
    return s


def book(fake: Any, day: str) -> None:
    """Put every trade and refund the fake has now on the bill of `day`."""
    s = script(fake)
    s.day_of.update({otn: day for otn in fake.trades} | {no: day for no in fake.refunds})


def _yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:.2f}"


def _row(cells: list[str]) -> str:
    return ",".join("`" + c for c in cells)


def _lines(fake: Any, day: str) -> tuple[list[str], int, int]:
    """The day's detail lines, what they paid and what they refunded (fen)."""
    s = script(fake)
    rows: list[str] = []
    paid = refunded = 0
    for otn, t in fake.trades.items():
        if t.get("transaction_id") and s.day_of.get(otn, str(t.get("paid_at", ""))[:10]) == day:
            fee = int((Decimal(t["amount"]) * FEE_RATE).quantize(Decimal(1)))
            rows.append(_row([f"{day} 09:00:00", fake.appid, fake.mchid, "0", "", t["transaction_id"], otn,
                              "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", t["kind"].upper(), "SUCCESS", "OTHERS", "CNY",
                              _yuan(t["amount"]), "0.00", "0", "0", "0.00", "0.00", "", "", t["description"], "",
                              _yuan(fee), "0.60%", _yuan(t["amount"]), "0.00", ""]))
            paid += t["amount"]
    for no, r in fake.refunds.items():
        v = r["view"]
        if s.day_of.get(no, str(v.get("create_time", ""))[:10]) == day:
            t = fake.trades[v["out_trade_no"]]
            rows.append(_row([f"{day} 12:00:00", fake.appid, fake.mchid, "0", "", v["transaction_id"],
                              v["out_trade_no"], "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", t["kind"].upper(), "REFUND",
                              "OTHERS", "CNY", "0.00", "0.00", v["refund_id"], no, _yuan(v["amount"]["refund"]),
                              "0.00", "ORIGINAL", v["status"], t["description"], "", "0.00", "0.60%", "0.00",
                              _yuan(v["amount"]["refund"]), ""]))
            refunded += v["amount"]["refund"]
    return rows, paid, refunded


def bill_text(fake: Any, day: str) -> str:
    rows, paid, refunded = _lines(fake, day)
    summary = _row([str(len(rows)), _yuan(paid), _yuan(refunded), "0.00", "0.00", _yuan(paid), _yuan(refunded)])
    return "\r\n".join([HEADER, *rows, SUMMARY, summary]) + "\r\n"


def _tradebill(fake: Any, req: Request) -> Response:
    s = script(fake)
    day = req.query_params.get("bill_date", "")
    s.asked.append(day)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day) or req.query_params.get("bill_type", "ALL") not in (
            "ALL", "SUCCESS", "REFUND") or req.query_params.get("tar_type", "GZIP") != "GZIP":
        return fake.answer(400, {"code": "PARAM_ERROR", "message": "参数错误"})
    if s.mode == "creating":
        return fake.answer(400, {"code": "STATEMENT_CREATING", "message": "账单生成中"})
    if not _lines(fake, day)[0]:
        return fake.answer(400, {"code": "NO_STATEMENT_EXIST", "message": "账单文件不存在"})
    text = bill_text(fake, day)
    if s.mode == "bad_format":
        text = text.replace("商户订单号", "订单号").replace("`", "")
    raw = text.encode("gbk") if s.mode == "gbk" else text.encode()
    digest = hashlib.sha1(raw, usedforsecurity=False).hexdigest()
    if s.mode == "bad_hash":
        digest = hashlib.sha1(raw + b"tampered", usedforsecurity=False).hexdigest()
    token = secrets.token_urlsafe(24)
    s.files[token] = raw if s.mode == "not_gzip" else gzip.compress(raw)
    return fake.answer(200, {"hash_type": "SHA1", "hash_value": digest,
                             "download_url": f"{fake.base_url}/v3/billdownload/file?token={token}"})


def route(fake: Any, req: Request, path: str) -> Response:
    if path == "/v3/bill/tradebill" and req.method == "GET":
        return _tradebill(fake, req)
    if path == "/v3/billdownload/file" and req.method == "GET":
        s = script(fake)
        if s.mode == "lost":
            return Response(b"", status_code=500)
        blob = s.files.pop(req.query_params.get("token", ""), None)
        if blob is None:
            return fake.answer(400, {"code": "INVALID_REQUEST", "message": "请重新获取账单地址"})
        return Response(blob, media_type="application/octet-stream")  # the file's answer is not signed
    return fake.answer(404, {"code": "NOT_FOUND", "message": path})
