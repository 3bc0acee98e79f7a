"""WeChat Pay's trade bill (交易账单) for one day, through the `wechatpayv3` SDK the cashier uses.

Documents (WeChat Pay API v3):
- 申请交易账单 `GET /v3/bill/tradebill?bill_date=&bill_type=ALL&tar_type=GZIP`
  (https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter7_9_1.shtml, "返回参数" and the error table): answers
  `download_url`, `hash_type` (SHA1) and `hash_value`, "原始账单(gzip需要解压缩)的摘要值" — the SHA1 of the bill once
  un-gzipped; `400 NO_STATEMENT_EXIST` (no bill for that day) or `STATEMENT_CREATING` (not made yet: WeChat makes
  yesterday's bills from 9:00 and advises fetching after 10:00, Beijing time).
- 下载账单 (https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter7_3_9.shtml, "文件格式说明"): the download is signed
  like any v3 request, its answer is not signed (the SDK skips the check); the file is CSV with a header line, the
  detail lines (every field prefixed with "`" so spreadsheets keep long numbers), then a summary header
  (总交易单数,...) and the summary line. Amounts are in yuan. The ALL bill's columns are those of the v2
  downloadbill document (https://pay.weixin.qq.com/wiki/doc/api/native.php?chapter=9_6): 交易时间,公众账号ID,商户号,
  特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,
  微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,
  申请退款金额,费率备注; a refund is its own line (交易状态 REFUND) on the day it was made.
The columns are found by name, so a column added at the end does not break the parser."""

from __future__ import annotations

import asyncio
import csv
import gzip
import hashlib
import io
import json
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from wechatpayv3 import WeChatPay, WeChatPayType

from paybutton.recon.bill import Bill, BillLine, BillProblem, fen

NOT_READY = {"NO_STATEMENT_EXIST", "STATEMENT_CREATING"}
SUMMARY_HEAD = "总交易单数"


def _client(cfg: Mapping[str, str], timeout: float) -> WeChatPay:
    pay = WeChatPay(
        wechatpay_type=WeChatPayType.NATIVE, mchid=cfg["mchid"], private_key=cfg["private_key"],
        cert_serial_no=cfg["cert_serial_no"], appid=cfg["appid"], apiv3_key=cfg["apiv3_key"],
        timeout=(min(5.0, timeout), timeout), public_key=cfg["platform_public_key"],
        public_key_id=cfg["platform_public_key_id"])
    pay._core._gate_way = cfg.get("gateway", "https://api.mch.weixin.qq.com").rstrip("/")
    return pay


async def _call(fn: Callable[..., tuple[int, Any]], seconds: float, **kwargs: Any) -> tuple[int, Any]:
    try:
        return await asyncio.wait_for(asyncio.to_thread(fn, **kwargs), seconds + 1)
    except Exception as e:  # timeouts, connection errors, an answer whose signature does not verify
        raise BillProblem("download", f"WeChat Pay did not answer: {type(e).__name__}: {str(e)[:160]}") from None


async def fetch(cfg: Mapping[str, str], day: date, seconds: float = 10.0) -> Bill:
    """The ALL trade bill of `day` (Beijing), checked against its SHA1 and parsed; raises BillProblem."""
    pay = _client(cfg, seconds)
    code, text = await _call(pay.trade_bill, seconds, bill_date=day.isoformat(), bill_type="ALL", tar_type="GZIP")
    try:
        meta = json.loads(text) if isinstance(text, str) and text else {}
    except ValueError:
        meta = {}
    if code != 200:
        if meta.get("code") in NOT_READY:
            raise BillProblem("not_ready", f"WeChat Pay has no bill for {day} yet ({meta.get('code')})",
                              no_trades=meta.get("code") == "NO_STATEMENT_EXIST")
        raise BillProblem("download", f"WeChat Pay refused the bill: HTTP {code} {meta.get('code')} "
                                      f"{str(meta.get('message', ''))[:120]}")
    url, hash_type, want = meta.get("download_url"), meta.get("hash_type"), str(meta.get("hash_value", ""))
    if not isinstance(url, str) or not url or hash_type != "SHA1" or not want:
        raise BillProblem("download", f"WeChat Pay answered no download_url / SHA1 hash: {str(meta)[:160]}")
    code, blob = await _call(pay.download_bill, seconds, url=url)
    if code != 200 or not isinstance(blob, bytes):
        raise BillProblem("download", f"the bill file did not download: HTTP {code}")
    return parse(unpack(blob, want))


def unpack(blob: bytes, sha1: str) -> str:
    """The gzip file -> the bill's text, after checking the SHA1 of the unpacked bytes."""
    try:
        raw = gzip.decompress(blob)
    except (OSError, EOFError):
        raise BillProblem("format", "the bill file is not the gzip file asked for (tar_type=GZIP)") from None
    got = hashlib.sha1(raw, usedforsecurity=False).hexdigest()  # the documented integrity hash
    if got.lower() != sha1.lower():
        raise BillProblem("hash", f"the bill's SHA1 is {got}, WeChat Pay said {sha1[:64]}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BillProblem("encoding", "the bill is not UTF-8 text") from None


def _cells(row: list[str]) -> list[str]:
    return [c.strip().removeprefix("`").strip() for c in row]


def _col(header: list[str], *names: str) -> int:
    for name in names:
        if name in header:
            return header.index(name)
    raise BillProblem("format", f"the bill has no column {names[0]}")


def parse(text: str) -> Bill:
    """The ALL bill's text -> its lines (pay lines for 交易状态 SUCCESS, refund lines for REFUND). The summary's
    总交易单数 must equal the detail lines counted."""
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if not rows or "商户订单号" not in _cells(rows[0]):
        raise BillProblem("format", "not a WeChat Pay trade bill: no header line with 商户订单号")
    head = _cells(rows[0])
    ends = [i for i, r in enumerate(rows) if _cells(r)[:1] == [SUMMARY_HEAD]]
    if not ends or ends[0] + 1 >= len(rows):
        raise BillProblem("format", "the bill has no summary (总交易单数) at its end")
    end = ends[0]
    summary = dict(zip(_cells(rows[end]), _cells(rows[end + 1]), strict=False))
    c = {k: _col(head, *names) for k, names in {
        "otn": ("商户订单号",), "state": ("交易状态",), "amount": ("订单金额", "应结订单金额"),
        "tid": ("微信订单号",), "orn": ("商户退款单号",), "refund": ("申请退款金额", "退款金额"),
        "rstate": ("退款状态",), "rid": ("微信退款单号",)}.items()}
    lines = []
    for row in rows[1:end]:
        cells = _cells(row)
        if len(cells) < len(head) or not row[0].lstrip().startswith("`"):
            raise BillProblem("format", f"a detail line without the documented ` fields: {','.join(row)[:80]!r}")
        lines.append(_line(cells, c))
    if str(len(lines)) != summary.get(SUMMARY_HEAD, "").strip():
        raise BillProblem("format", f"the summary counts {summary.get(SUMMARY_HEAD)!r} lines, the bill has "
                                    f"{len(lines)}")
    return Bill(tuple(ln for ln in lines if ln is not None))


def _line(cells: list[str], c: dict[str, int]) -> BillLine | None:
    state = cells[c["state"]]
    if state == "REFUND":
        return BillLine("refund", cells[c["otn"]], abs(fen(cells[c["refund"]])), cells[c["rstate"]] or "SUCCESS",
                        out_refund_no=cells[c["orn"]], channel_id=cells[c["rid"]])
    if state == "SUCCESS":
        return BillLine("pay", cells[c["otn"]], fen(cells[c["amount"]]), "SUCCESS", channel_id=cells[c["tid"]])
    return None  # REVOKED, CLOSED...: no money moved (the ALL bill lists them; SUCCESS bills do not)
