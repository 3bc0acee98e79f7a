"""Alipay's trade bill (业务账单, bill_type=trade) for one day, through `python-alipay-sdk` (the cashier's SDK).

Documents (Alipay open platform):
- `alipay.data.dataservice.bill.downloadurl.query`
  (https://opendocs.alipay.com/apis/api_15/alipay.data.dataservice.bill.downloadurl.query): biz_content
  `{"bill_type": "trade", "bill_date": "yyyy-MM-dd"}`, answers `bill_download_url` (valid 30 s, no signature
  needed); a day whose bill is not made yet (bills of day T are ready on T+1, fetch after 10:00) answers
  `40004 isp.bill_not_exist`.
- 对账说明 (https://opendocs.alipay.com/open/204/106262): the file is a zip of CSV files in GBK: the detail
  `<pid>_<yyyymmdd>_业务明细.csv` and the summary `<pid>_<yyyymmdd>_业务明细(汇总).csv`. Lines starting with `#`
  are comments (the title, the account, the dates, the end marker, the export time); the detail's header names
  支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,...,订单金额（元）,商家实收（元）,...,退款批次号/请求号,...;
  业务类型 交易 is a payment, 退款 a refund (its amounts negative, its 退款批次号/请求号 the out_request_no); the
  summary's 合计 line counts 交易订单总笔数 and 退款订单总笔数.
The columns are found by name; a refund without a request number is the whole trade's (out_request_no defaults to
out_trade_no, as alipay.trade.refund documents)."""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import httpx
from alipay import AliPay
from alipay.utils import AliPayConfig

from paybutton.clock import BEIJING
from paybutton.recon.bill import Bill, BillLine, BillProblem, fen

METHOD = "alipay.data.dataservice.bill.downloadurl.query"
DETAIL, SUMMARY = "业务明细.csv", "业务明细(汇总).csv"


def _client(cfg: Mapping[str, str], timeout: float) -> AliPay:
    ali = AliPay(appid=cfg["app_id"], app_notify_url=None, app_private_key_string=cfg["app_private_key"],
                 alipay_public_key_string=cfg["alipay_public_key"], sign_type="RSA2",
                 config=AliPayConfig(timeout=timeout))
    ali._gateway = cfg.get("gateway", "https://openapi.alipay.com/gateway.do")
    return ali


def _ask(ali: AliPay, day: date) -> dict[str, Any]:
    # timestamp: "yyyy-MM-dd HH:mm:ss" in Beijing time (the common request parameters), whatever the host's zone
    data = ali.build_body(METHOD, {"bill_type": "trade", "bill_date": day.isoformat()},
                          timestamp=datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S"))
    got = ali.verified_sync_response(data, METHOD.replace(".", "_") + "_response")
    return got if isinstance(got, dict) else {}


async def fetch(cfg: Mapping[str, str], day: date, seconds: float = 10.0) -> Bill:
    """The trade bill of `day`, downloaded and parsed; raises BillProblem."""
    ali = _client(cfg, seconds)
    try:
        r = await asyncio.wait_for(asyncio.to_thread(_ask, ali, day), seconds + 1)
    except Exception as e:  # urllib errors, timeouts, an unsigned error answer, a signature that does not verify
        if "bill_not_exist" in str(e):
            raise BillProblem("not_ready", f"Alipay has no bill for {day} yet") from None
        raise BillProblem("download", f"Alipay did not answer: {type(e).__name__}: {str(e)[:160]}") from None
    if r.get("code") != "10000":
        if r.get("sub_code") == "isp.bill_not_exist":
            raise BillProblem("not_ready", f"Alipay has no bill for {day} yet ({r.get('sub_code')})")
        raise BillProblem("download", f"Alipay refused the bill: {r.get('code')} {r.get('sub_code')} "
                                      f"{str(r.get('sub_msg', ''))[:120]}")
    url = r.get("bill_download_url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise BillProblem("download", "Alipay answered no bill_download_url")
    try:
        async with httpx.AsyncClient(timeout=seconds) as client:
            got = await client.get(url)
    except httpx.HTTPError as e:
        raise BillProblem("download", f"the bill file did not download: {type(e).__name__}") from None
    if got.status_code != 200:
        raise BillProblem("download", f"the bill file did not download: HTTP {got.status_code}")
    return parse_zip(got.content)


def _name(info: zipfile.ZipInfo) -> str:
    """A member's name: zips made on Chinese Windows store GBK names without the UTF-8 flag."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _text(raw: bytes, word: str) -> str:
    try:
        text = raw.decode("gbk")
    except UnicodeDecodeError:
        text = ""
    if word in text:
        return text
    try:
        if word in raw.decode("utf-8"):
            raise BillProblem("encoding", "the bill is UTF-8; Alipay's bills are GBK")
    except UnicodeDecodeError:
        pass
    if not text:
        raise BillProblem("encoding", "the bill is not GBK text")
    raise BillProblem("format", f"not an Alipay trade bill: no header with {word}")


def parse_zip(blob: bytes) -> Bill:
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as z:
            files = {_name(i): z.read(i) for i in z.infolist()}
    except (zipfile.BadZipFile, OSError, ValueError):
        raise BillProblem("format", "the bill file is not a zip") from None
    detail = next((v for k, v in files.items() if k.endswith(DETAIL)), None)
    summary = next((v for k, v in files.items() if k.endswith(SUMMARY)), None)
    if detail is None or summary is None:
        raise BillProblem("format", f"the zip lacks the {DETAIL} or {SUMMARY} file: {sorted(files)[:4]}")
    return parse(_text(detail, "商户订单号"), _text(summary, "交易订单总笔数"))


def _rows(text: str) -> list[list[str]]:
    body = "\n".join(ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#"))
    return [[c.strip() for c in r] for r in csv.reader(io.StringIO(body))]


def _col(head: list[str], *names: str) -> int:
    for n in names:
        if n in head:
            return head.index(n)
    raise BillProblem("format", f"the bill has no column {names[0]}")


def parse(detail: str, summary: str) -> Bill:
    rows = _rows(detail)
    if not rows or "商户订单号" not in rows[0]:
        raise BillProblem("format", "not an Alipay trade bill: no header with 商户订单号")
    head = rows[0]
    otn, kind, amount = _col(head, "商户订单号"), _col(head, "业务类型"), _col(head, "订单金额（元）", "订单金额(元)")
    tno, req = _col(head, "支付宝交易号"), _col(head, "退款批次号/请求号")
    lines = []
    for r in rows[1:]:
        if len(r) < len(head):
            raise BillProblem("format", f"a detail line with {len(r)} fields, the header has {len(head)}")
        if r[kind] == "交易":
            lines.append(BillLine("pay", r[otn], fen(r[amount]), "交易", channel_id=r[tno]))
        elif r[kind] == "退款":
            lines.append(BillLine("refund", r[otn], abs(fen(r[amount])), "退款", out_refund_no=r[req] or r[otn],
                                  channel_id=r[tno]))
        else:
            raise BillProblem("format", f"an unknown 业务类型 {r[kind][:20]!r}")
    _check_summary(_rows(summary), lines)
    return Bill(tuple(lines))


def _check_summary(rows: list[list[str]], lines: list[BillLine]) -> None:
    if not rows or "交易订单总笔数" not in rows[0]:
        raise BillProblem("format", "the summary has no 交易订单总笔数 column")
    head = rows[0]
    total = next((r for r in rows[1:] if r and r[0] == "合计"), None)
    if total is None or len(total) < len(head):
        raise BillProblem("format", "the summary has no 合计 line")
    pays, refunds = sum(ln.kind == "pay" for ln in lines), sum(ln.kind == "refund" for ln in lines)
    said = (total[_col(head, "交易订单总笔数")], total[_col(head, "退款订单总笔数")])
    if said != (str(pays), str(refunds)):
        raise BillProblem("format", f"the summary counts {said[0]} payments and {said[1]} refunds, the detail "
                                    f"{pays} and {refunds}")
