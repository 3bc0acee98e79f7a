"""What WeChat Pay's documents refuse in a prepay, and a stand-in platform certificate (for wechat_gateway.py;
the documents are cited in its module doc and at each rule)."""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding, load_pem_private_key
from cryptography.x509.oid import NameOID

_OUT_TRADE_NO = re.compile(r"[0-9A-Za-z_\-|*]{6,32}")
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)")


def prepay_problem(kind: str, data: dict[str, Any]) -> str | None:
    """What 下单 (Native, H5, JSAPI: 请求参数) refuses in a prepay body, else None."""
    desc = str(data["description"])
    if any(len(ch.encode()) > 3 for ch in desc):  # 基本规则, 字符集: 1-3-byte UTF-8 only
        return "description 含有不支持的字符 (4字节UTF-8)"
    if len(desc.encode()) > 127:  # description string[1,127]
        return "description 长度超过127字节"
    if not _OUT_TRADE_NO.fullmatch(str(data["out_trade_no"])):  # out_trade_no string[6,32], 数字大小写字母_-|*
        return "out_trade_no 格式错误"
    url = urlsplit(str(data["notify_url"]))
    loopback = url.hostname in ("127.0.0.1", "localhost")  # the tests' concession (module doc)
    if url.scheme != "https" and not (url.scheme == "http" and loopback):  # notify_url 必须为https
        return "notify_url 必须为https"
    if url.query or url.fragment:  # notify_url 不能携带参数
        return "notify_url 不能携带参数"
    if "time_expire" in data and not _RFC3339.fullmatch(str(data["time_expire"])):  # 日期格式 (RFC 3339)
        return "time_expire 格式错误"
    if kind == "jsapi" and not (data.get("payer") or {}).get("openid"):  # JSAPI: payer.openid 必填
        return "缺少参数 payer.openid"
    return None


@functools.cache
def certificate(private_pem: str) -> tuple[str, str]:
    """A self-signed stand-in for a WeChat Pay platform certificate, one per test session: (serial in hex, PEM)."""
    key = load_pem_private_key(private_pem.encode(), password=None)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA (fake)")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())  # type: ignore[arg-type]
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365)).sign(key, hashes.SHA256()))  # type: ignore[arg-type]
    return format(cert.serial_number, "X"), cert.public_bytes(Encoding.PEM).decode()
