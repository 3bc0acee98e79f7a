"""The fake Alipay gateway's trade bills, made from the fake's own trades and refunds (hooked into
alipay_gateway.FakeAlipay.gateway_do), as Alipay documents them:

- `alipay.data.dataservice.bill.downloadurl.query`
  (https://opendocs.alipay.com/apis/api_15/alipay.data.dataservice.bill.downloadurl.query): biz_content
  `bill_type` trade|signcustomer and `bill_date` yyyy-MM-dd (else 40004 isp.bill_date_format_error /
  isp.bill_type_error); a day whose bill is not made yet (today or later) answers 40004 `isp.bill_not_exist`;
  else `bill_download_url` (a plain URL, no signature needed).
- 对账说明 (https://opendocs.alipay.com/open/204/106262): a zip of two GBK CSV files, `<pid>_<yyyymmdd>_业务明细.csv`
  and `<pid>_<yyyymmdd>_业务明细(汇总).csv`; `#` lines are comments (title, account, dates, the end of the list,
  the export time); fields padded with tabs; 业务类型 交易 for a payment, 退款 for a refund (negative amounts,
  退款批次号/请求号 = out_request_no); the summary's 合计 line counts the payments and refunds.

A trade is on the bill of the day its `gmt_payment` says (today, Beijing, for the fake's wall clock), a refund on
the day it was made; `book(fake, day)` books every trade and refund the fake has now on `day`. `script(fake).mode`
breaks the bill for the bad-bill tests: "not_ready", "lost" (the file answers 404), "utf8" (the files in UTF-8),
"not_zip", "no_summary"."""

from __future__ import annotations

import io
import json
import re
import secrets
import time
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

METHOD = "alipay.data.dataservice.bill.downloadurl.query"
PID = "2088101117955611"
DETAIL_HEAD = ",".join("""
支付宝交易号 商户订单号 业务类型 商品名称 创建时间 完成时间 门店编号 门店名称 操作员 终端号 对方账户
订单金额（元） 商家实收（元） 支付宝红包（元） 集分宝（元） 支付宝优惠（元） 商家优惠（元）
券核销金额（元） 券名称 商家红包消费金额（元） 卡消费金额（元） 退款批次号/请求号 服务费（元）
分润（元） 备注""".split())
SUMMARY_HEAD = ",".join("""
门店编号 门店名称 交易订单总笔数 退款订单总笔数 已收入总金额（元） 已退款总金额（元）
支付宝红包收入（元） 集分宝收入（元） 支付宝优惠收入（元） 商家优惠收入（元） 服务费（元）
实收净额（元）""".split())


@dataclass
class BillScript:
    mode: str = "ok"
    day_of: dict[str, str] = field(default_factory=dict)  # out_trade_no / out_request_no -> the bill day
    files: dict[str, bytes] = field(default_factory=dict)  # download token -> the zip
    asked: list[str] = field(default_factory=list)


def script(fake: Any) -> BillScript:
    s: BillScript | None = fake.__dict__.get("bill_script")
    if s is None:
        s = fake.__dict__["bill_script"] = BillScript()
    return s


def book(fake: Any, day: str) -> None:
    s = script(fake)
    for otn, t in fake.trades.items():
        s.day_of[otn] = day
        s.day_of.update({no: day for no in t["refunds"]})


def _today() -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600))


def _detail(fake: Any, day: str) -> tuple[list[str], int, int]:
    s = script(fake)
    rows: list[str] = []
    pays = refunds = 0
    for otn, t in fake.trades.items():
        paid = t["status"] in ("TRADE_SUCCESS", "TRADE_FINISHED") or t["refunds"]
        if paid and s.day_of.get(otn, str(t.get("gmt_payment", _today()))[:10]) == day:
            fee = -(Decimal(t["total_amount"]) * Decimal("0.006")).quantize(Decimal("0.01"))
            rows.append(f"{t['trade_no']}\t,{otn}\t,交易\t,{t['subject']}\t,{day} 09:00:00\t,{day} 09:00:05\t,,,,,"
                        f"buy***@example.com\t,{t['total_amount']}\t,{t['total_amount']}\t,0.00\t,0.00\t,0.00\t,"
                        f"0.00\t,0.00\t,\t,0.00\t,0.00\t,\t,{fee}\t,0.00\t,\t")
            pays += 1
        for no, amount in t["refunds"].items():
            if s.day_of.get(no, _today()) == day:
                rows.append(f"{t['trade_no']}\t,{otn}\t,退款\t,{t['subject']}\t,{day} 09:00:00\t,{day} 12:00:00\t,,,,,"
                            f"buy***@example.com\t,-{amount}\t,-{amount}\t,0.00\t,0.00\t,0.00\t,0.00\t,0.00\t,\t,"
                            f"0.00\t,0.00\t,{no}\t,0.00\t,0.00\t,\t")
                refunds += 1
    return rows, pays, refunds


def bill_zip(fake: Any, day: str, encoding: str = "gbk") -> bytes:
    rows, pays, refunds = _detail(fake, day)
    d = day.replace("-", "")
    cn = f"{day[:4]}年{day[5:7]}月{day[8:]}日"
    dates = f"#起始日期：[{cn} 00:00:00]   终止日期：[{cn} 24:00:00]"
    detail = "\r\n".join(["#支付宝业务明细查询", f"#账号：[{PID}0156]", dates,
                          "#-----------------------------------------业务明细列表----------------------------------------",
                          DETAIL_HEAD, *rows,
                          "#-----------------------------------------业务明细列表结束------------------------------------",
                          f"#交易合计：{pays}笔，退款合计：{refunds}笔", f"#导出时间：[{day} 10:00:00]"]) + "\r\n"
    total = f"{pays},{refunds}," + ",".join(["0.00"] * 8)
    summary = "\r\n".join(["#支付宝业务汇总查询", f"#账号：[{PID}0156]", dates,
                           "#-----------------------------------------业务汇总列表----------------------------------------",
                           SUMMARY_HEAD, ",," + total, "合计,," + total,
                           "#-----------------------------------------业务汇总列表结束-----------------------------------",
                           f"#导出时间：[{day} 10:00:00]"]) + "\r\n"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{PID}0156_{d}_业务明细.csv", detail.encode(encoding))
        if script(fake).mode != "no_summary":
            z.writestr(f"{PID}0156_{d}_业务明细(汇总).csv", summary.encode(encoding))
    return out.getvalue()


def answer(fake: Any, biz: dict[str, Any]) -> Response:
    """The downloadurl query, after the gateway checked the request's signature."""
    s = script(fake)
    day, kind = str(biz.get("bill_date", "")), biz.get("bill_type")
    s.asked.append(day)
    if kind not in ("trade", "signcustomer"):
        return fake.respond(METHOD, {"code": "40004", "msg": "Business Failed", "sub_code": "isp.bill_type_error",
                                     "sub_msg": "账单类型不正确"})
    if not re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", day):
        return fake.respond(METHOD, {"code": "40004", "msg": "Business Failed",
                                     "sub_code": "isp.bill_date_format_error", "sub_msg": "账单日期格式不正确"})
    if s.mode == "not_ready" or day >= _today():
        return fake.respond(METHOD, {"code": "40004", "msg": "Business Failed", "sub_code": "isp.bill_not_exist",
                                     "sub_msg": "账单不存在"})
    token = secrets.token_urlsafe(18)
    blob = bill_zip(fake, day, "utf-8" if s.mode == "utf8" else "gbk")
    s.files[token] = b"<html>not a zip</html>" if s.mode == "not_zip" else blob
    url = f"{fake.base_url}/gateway.do?bill_token={token}&bizType=trade&fileType=csv.zip&bizDates={day}"
    return fake.respond(METHOD, {"code": "10000", "msg": "Success", "bill_download_url": url})


def download(fake: Any, req: Request) -> Response:
    blob = script(fake).files.get(req.query_params.get("bill_token", ""))
    if blob is None or script(fake).mode == "lost":
        return Response(json.dumps({"error": "下载超时，请重新下载"}, ensure_ascii=False), status_code=404)
    return Response(blob, media_type="application/zip")
