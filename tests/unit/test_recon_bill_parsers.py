"""The bill parsers and the matching rules of recon/ (pure): WeChat Pay's backquoted CSV with its summary, Alipay's
zip of GBK CSVs, and each class a line can get. The bills are the fakes' (tests/fakes/*_bills.py, written from
the providers' documents)."""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile

import pytest
from fakes import alipay_bills, wechat_bills
from fakes.alipay_gateway import FakeAlipay
from fakes.wechat_gateway import FakeWechat

from paybutton.recon import alipay_bill, wechat_bill
from paybutton.recon.bill import Bill, BillLine, BillProblem, fen
from paybutton.recon.matching import Books, OurPay, OurRefund, match, totals

DAY = "2026-01-01"


def a_wechat() -> FakeWechat:
    wx = FakeWechat()
    wx.trades["py1"] = {"kind": "native", "amount": 1234, "state": "REFUND", "transaction_id": "4200aa",
                        "description": "火锅", "paid_at": f"{DAY}T09:00:00+08:00"}
    wx.trades["py2"] = {"kind": "h5", "amount": 500, "state": "NOTPAY", "transaction_id": None, "description": "x"}
    wx.refunds["rf1"] = {"view": {"out_trade_no": "py1", "transaction_id": "4200aa", "refund_id": "5030bb",
                                  "status": "SUCCESS", "create_time": f"{DAY}T12:00:00+08:00",
                                  "amount": {"refund": 234}}}
    return wx


def test_wechat_bill_parses_pays_and_refunds() -> None:
    text = wechat_bills.bill_text(a_wechat(), DAY)
    assert text.splitlines()[1].startswith("`") and "总交易单数" in text
    bill = wechat_bill.parse(text)
    assert bill.lines == (BillLine("pay", "py1", 1234, "SUCCESS", channel_id="4200aa"),
                          BillLine("refund", "py1", 234, "SUCCESS", out_refund_no="rf1", channel_id="5030bb"))


def test_wechat_bill_checks_its_hash_gzip_encoding_and_summary() -> None:
    raw = wechat_bills.bill_text(a_wechat(), DAY).encode()
    sha1 = hashlib.sha1(raw, usedforsecurity=False).hexdigest()
    assert wechat_bill.unpack(gzip.compress(raw), sha1.upper()).startswith("交易时间")
    for blob, digest, kind in ((gzip.compress(raw), "0" * 40, "hash"), (raw, sha1, "format"),
                               (gzip.compress(raw.decode().encode("gbk")),
                                hashlib.sha1(raw.decode().encode("gbk"), usedforsecurity=False).hexdigest(),
                                "encoding")):
        with pytest.raises(BillProblem) as e:
            wechat_bill.unpack(blob, digest)
        assert e.value.kind == kind
    text = raw.decode()
    for broken in (text.replace("`2,", "`3,"),  # the summary counts another number of lines
                   text.rsplit("总交易单数", 1)[0],  # no summary
                   text.replace("`12.34", "`12.345"),  # finer than a fen
                   text.replace("`", "", 30),  # detail lines without the backquotes
                   "a,b,c\n1,2,3\n"):
        with pytest.raises(BillProblem) as e:
            wechat_bill.parse(broken)
        assert e.value.kind == "format", broken[:60]


def a_alipay() -> FakeAlipay:
    ali = FakeAlipay()
    ali.trades["py1"] = {"out_trade_no": "py1", "trade_no": "2026aa", "status": "TRADE_SUCCESS",
                         "total_amount": "12.34", "subject": "火锅", "refunds": {"rf1": "2.34"}}
    ali.trades["py2"] = {"out_trade_no": "py2", "trade_no": "2026bb", "status": "WAIT_BUYER_PAY",
                         "total_amount": "5.00", "subject": "x", "refunds": {}}
    alipay_bills.book(ali, DAY)
    return ali


def test_alipay_bill_parses_its_gbk_zip() -> None:
    blob = alipay_bills.bill_zip(a_alipay(), DAY)
    bill = alipay_bill.parse_zip(blob)
    assert bill.lines == (BillLine("pay", "py1", 1234, "交易", channel_id="2026aa"),
                          BillLine("refund", "py1", 234, "退款", out_refund_no="rf1", channel_id="2026aa"))


class LegacyName(zipfile.ZipInfo):
    """A member whose name is stored as GBK bytes without the UTF-8 flag, as Windows tools write them."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # zipfile's own name
        return self.filename.encode("cp437"), self.flag_bits


def test_alipay_zip_with_gbk_names_and_bad_files() -> None:
    ali = a_alipay()
    good = zipfile.ZipFile(io.BytesIO(alipay_bills.bill_zip(ali, DAY)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:  # names in GBK without the UTF-8 flag, as Windows tools write them
        for info in good.infolist():
            legacy = LegacyName(info.filename.encode("gbk").decode("cp437"))
            z.writestr(legacy, good.read(info))
    assert len(alipay_bill.parse_zip(out.getvalue()).lines) == 2
    for blob, kind in ((b"<html>", "format"), (alipay_bills.bill_zip(ali, DAY, "utf-8"), "encoding")):
        with pytest.raises(BillProblem) as e:
            alipay_bill.parse_zip(blob)
        assert e.value.kind == kind
    detail = good.read(good.infolist()[0]).decode("gbk")
    summary = good.read(good.infolist()[1]).decode("gbk")
    for d, s in ((detail, summary.replace("合计,,1,1", "合计,,2,1")), (detail.replace(",交易\t,", ",转账\t,"), summary),
                 (detail, summary.replace("合计", "小计"))):
        with pytest.raises(BillProblem) as e:
            alipay_bill.parse(d, s)
        assert e.value.kind == "format"


def test_fen_is_exact() -> None:
    assert (fen("12.34"), fen("-0.01"), fen(" 1,000.00 ")) == (1234, -1, 100000)
    for bad in ("1.005", "abc", ""):
        with pytest.raises(BillProblem):
            fen(bad)


def test_every_class() -> None:
    pays = {p.payment_id: p for p in (
        OurPay("ok", "A", "wechatpay", 100, "SUCCESS", False, ""),
        OurPay("live", "A", "wechatpay", 100, "PROCESSING", False, ""),
        OurPay("closed", "A", "wechatpay", 100, "CLOSED", False, ""),
        OurPay("amt", "A", "wechatpay", 100, "SUCCESS", False, ""),
        OurPay("other", "B", "wechatpay", 100, "SUCCESS", False, ""),
        OurPay("mine", "A", "wechatpay", 70, "SUCCESS", False, ""),
        OurPay("seen", "A", "wechatpay", 70, "SUCCESS", False, ""),
        OurPay("again", "A", "wechatpay", 100, "SUCCESS", True, "settled by bill wechatpay 2026-01-01"))}
    refunds = {"r1": OurRefund("r1", "A", "wechatpay", 30, "SUCCESS", "ok"),
               "r2": OurRefund("r2", "A", "wechatpay", 30, "PROCESSING", "ok")}
    bill = Bill((BillLine("pay", "ok", 100), BillLine("pay", "live", 100), BillLine("pay", "closed", 100),
                 BillLine("pay", "amt", 90), BillLine("pay", "other", 100), BillLine("pay", "nobody", 100),
                 BillLine("pay", "again", 100), BillLine("pay", "unpaid", 100, "NOTPAY"),
                 BillLine("refund", "ok", 30, out_refund_no="r1"), BillLine("refund", "ok", 30, out_refund_no="r2"),
                 BillLine("refund", "ok", 30, out_refund_no="r9")))
    got = match(bill, Books("A", "wechatpay", pays, refunds, ["ok", "mine", "seen"], [], frozenset({"seen"})))
    seen = {v.key: (v.klass, v.action, v.state) for v in got}
    assert seen == {
        "ok": ("matched", "none", "ok"), "live": ("long", "settle", "ok"), "closed": ("long", "settle", "ok"),
        "amt": ("diff", "none", "break"), "other": ("long", "none", "break"), "nobody": ("long", "none", "break"),
        "again": ("long", "late", "ok"), "r1": ("matched", "none", "ok"), "r2": ("diff", "none", "break"),
        "r9": ("diff", "none", "break"), "mine": ("short", "waiting", "pending")}
    t = totals(got)
    assert t.counts == {"matched": 2, "long": 5, "short": 1, "diff": 3} and t.breaks == 5
    assert t.amounts == {"matched": 130, "long": 500, "short": 70, "diff": 150}
