"""An app's real-channel settings (`apps.pay_config`): JSON `{"wechat": {...}, "alipay": {...}}`, NULL = sandbox only.

Pure rules: check a channel's settings (INVALID_PARAMETER naming the field), merge an edit into the saved ones (an
empty secret keeps the saved value), and show them without their secrets. Secrets never leave this module except
inside `PaySecrets`, whose repr hides them and which JSON cannot serialise: an app dict printed by mistake fails
loudly instead of leaking a key.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from paybutton.errors import TradeError

WECHAT_GATEWAY = "https://api.mch.weixin.qq.com"
ALIPAY_GATEWAY = "https://openapi.alipay.com/gateway.do"

# field -> (required, secret, kind)
WECHAT_FIELDS: dict[str, tuple[bool, bool, str]] = {
    "mchid": (True, False, "digits"),
    "appid": (True, False, "word"),
    "private_key": (True, True, "private_pem"),
    "cert_serial_no": (True, False, "hex"),
    "apiv3_key": (True, True, "apiv3"),
    "platform_public_key": (True, False, "public_pem"),
    "platform_public_key_id": (True, False, "word"),
    # WeChat Pay platform certificate(s), PEM, while notifies may still be signed with them (switching to the
    # public key: https://pay.weixin.qq.com/doc/v3/merchant/4012154180); Wechatpay-Serial picks the key
    "platform_certificates": (False, False, "cert_pems"),
    "gateway": (False, False, "url"),
}
ALIPAY_FIELDS: dict[str, tuple[bool, bool, str]] = {
    "app_id": (True, False, "digits"),
    "app_private_key": (True, True, "private_pem"),
    "alipay_public_key": (True, False, "public_pem"),
    # the merchant's Alipay user id (PID, 2088...): when set, a notify for another seller is refused
    "seller_id": (False, False, "digits"),
    "gateway": (False, False, "url"),
}
FIELDS = {"wechat": WECHAT_FIELDS, "alipay": ALIPAY_FIELDS}
DEFAULT_GATEWAYS = {"wechat": WECHAT_GATEWAY, "alipay": ALIPAY_GATEWAY}
_WORD = re.compile(r"[A-Za-z0-9_\-]{1,64}")


def _pem(value: str, begin: str) -> str:
    """A PEM as given, or a bare base64 body (as the providers' key tools print it) wrapped in `begin` markers."""
    v = value.strip()
    if v.startswith("-----BEGIN"):
        return v + "\n"
    body = "\n".join(v[i:i + 64] for i in range(0, len(v), 64))
    return f"-----BEGIN {begin}-----\n{body}\n-----END {begin}-----\n"


def private_key_pem(value: str) -> str:
    """PKCS#8 or PKCS#1, PEM or a bare body: the key as PKCS#8 PEM (what both SDKs load). Raises ValueError."""
    v = value.strip()
    candidates = [v] if v.startswith("-----BEGIN") else [_pem(v, "PRIVATE KEY"), _pem(v, "RSA PRIVATE KEY")]
    for pem in candidates:
        try:
            key = load_pem_private_key(pem.encode(), password=None)
        except (ValueError, TypeError):
            continue
        if not isinstance(key, RSAPrivateKey) or key.key_size < 2048:
            raise ValueError("not an RSA key of 2048 bits or more")
        return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    raise ValueError("not an unencrypted private key")


def public_key_pem(value: str) -> str:
    """A public key (PEM or bare body) as SubjectPublicKeyInfo PEM. Raises ValueError."""
    pub = load_pem_public_key(_pem(value, "PUBLIC KEY").encode())
    if not isinstance(pub, RSAPublicKey):
        raise ValueError("not an RSA public key")
    return pub.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def certificates_pem(value: str) -> str:
    """One or more X.509 certificates with RSA keys (PEM) as PEM, one after the other. Raises ValueError."""
    certs = x509.load_pem_x509_certificates(value.strip().encode())
    if not certs or not all(isinstance(c.public_key(), RSAPublicKey) for c in certs):
        raise ValueError("not RSA certificates")
    return "".join(c.public_bytes(Encoding.PEM).decode() for c in certs)


def _long(name: str) -> bool:
    """A key or certificate field: shown masked, typed in a text area, kept when left empty."""
    return name.endswith("_key") or name.endswith("_certificates")


def _check_field(channel: str, name: str, kind: str, value: Any) -> str:
    where = f"{channel}.{name}"
    if not isinstance(value, str) or not value.strip():
        raise TradeError("INVALID_PARAMETER", f"{where} must be a non-empty string", field=where)
    v = value.strip()
    if kind == "digits" and not (v.isdigit() and len(v) <= 32):
        raise TradeError("INVALID_PARAMETER", f"{where} must be digits", field=where)
    if kind == "word" and not _WORD.fullmatch(v):
        raise TradeError("INVALID_PARAMETER", f"{where} must be letters, digits, _ or -", field=where)
    if kind == "hex" and not re.fullmatch(r"[0-9A-Fa-f]{8,64}", v):
        raise TradeError("INVALID_PARAMETER", f"{where} must be the certificate's serial number in hex", field=where)
    if kind == "apiv3" and len(v.encode()) != 32:
        raise TradeError("INVALID_PARAMETER", f"{where} must be the 32-character APIv3 key", field=where)
    if kind == "url":
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise TradeError("INVALID_PARAMETER", f"{where} must be an http(s) URL", field=where)
    if kind == "private_pem":
        try:
            return private_key_pem(v)
        except (ValueError, TypeError):
            raise TradeError("INVALID_PARAMETER", f"{where} must be an unencrypted RSA private key of 2048 bits or "
                             "more (PEM, PKCS#8 or PKCS#1)", field=where) from None
    if kind == "cert_pems":
        try:
            return certificates_pem(v)
        except (ValueError, TypeError):
            raise TradeError("INVALID_PARAMETER", f"{where} must be one or more X.509 certificates (PEM)",
                             field=where) from None
    if kind == "public_pem":
        try:
            return public_key_pem(v)
        except (ValueError, TypeError):
            raise TradeError("INVALID_PARAMETER", f"{where} must be an RSA public key (PEM)", field=where) from None
    return v


def check_channel(channel: str, cfg: Any) -> dict[str, str]:
    """One channel's settings, checked; the gateway defaults to the provider's real one."""
    if channel not in FIELDS:
        raise TradeError("INVALID_PARAMETER", f"unknown pay channel {channel!r} (wechat or alipay)", field=channel)
    if not isinstance(cfg, dict):
        raise TradeError("INVALID_PARAMETER", f"{channel} settings must be a JSON object", field=channel)
    spec = FIELDS[channel]
    unknown = sorted(set(cfg) - set(spec))
    if unknown:
        names = ", ".join(f"{channel}.{u}" for u in unknown)
        raise TradeError("INVALID_PARAMETER", f"unknown settings {names}; known: {sorted(spec)}",
                         field=f"{channel}.{unknown[0]}")
    out: dict[str, str] = {}
    for name, (required, _secret, kind) in spec.items():
        value = cfg.get(name)
        if value in (None, ""):
            if required:
                raise TradeError("INVALID_PARAMETER", f"{channel}.{name} is required", field=f"{channel}.{name}")
            continue
        out[name] = _check_field(channel, name, kind, value)
    out.setdefault("gateway", DEFAULT_GATEWAYS[channel])
    out["gateway"] = out["gateway"].rstrip("/") if channel == "wechat" else out["gateway"]
    return out


def field_errors(channel: str, cfg: Mapping[str, Any]) -> dict[str, str]:
    """Every field of one channel's settings that breaks its rule, at once (the console's form marks each): field
    -> "required" or the field's kind (digits, word, hex, apiv3, url, private_pem, public_pem, cert_pems)."""
    out: dict[str, str] = {}
    for name, (required, _secret, kind) in FIELDS[channel].items():
        value = cfg.get(name)
        if value in (None, ""):
            if required:
                out[name] = "required"
            continue
        try:
            _check_field(channel, name, kind, value)
        except TradeError:
            out[name] = kind
    return out


def merge(saved: Mapping[str, Any] | None, edit: Mapping[str, Any]) -> dict[str, Any]:
    """An edit of one channel's settings over the saved ones: a secret or key left empty keeps its saved value."""
    base = dict(saved or {})
    for k, v in edit.items():
        if v in (None, "") and k in base and k in _secret_names():
            continue
        base[k] = v
    return base


def _secret_names() -> set[str]:
    return {n for spec in FIELDS.values() for n, (_r, secret, _k) in spec.items() if secret or _long(n)}


def parse(raw: str | None) -> dict[str, dict[str, str]]:
    if not raw:
        return {}
    data = json.loads(raw)
    return {k: v for k, v in data.items() if k in FIELDS and isinstance(v, dict)}


def dump(config: Mapping[str, Mapping[str, str]]) -> str | None:
    clean = {k: dict(v) for k, v in config.items() if v}
    return json.dumps(clean, sort_keys=True, separators=(",", ":")) if clean else None


def _shown(value: str) -> str:
    """"set (…last 4)": of a PEM, the last 4 characters of its body."""
    body = "".join(line for line in value.strip().splitlines() if not line.startswith("-----"))
    return f"set (…{body[-4:]})" if len(body) > 8 else "set"


def masked(config: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """What a person may see again: ids and gateways as they are, secrets and keys only as "set (…last 4)"."""
    out: dict[str, dict[str, str]] = {}
    for channel, cfg in config.items():
        spec = FIELDS.get(channel, {})
        out[channel] = {}
        for name, value in cfg.items():
            secret = spec.get(name, (False, True, ""))[1]
            long_key = _long(name)
            out[channel][name] = _shown(value) if secret or long_key else value
    return out


@dataclass(frozen=True, eq=False)
class PaySecrets:
    """The saved settings with their secrets; repr and str hide them, and json.dumps refuses the object."""

    raw: str | None

    def channels(self) -> dict[str, dict[str, str]]:
        return parse(self.raw)

    def channel(self, name: str) -> dict[str, str] | None:
        return self.channels().get(name)

    def digest(self, name: str) -> str:
        cfg = self.channel(name)
        blob = json.dumps(cfg, sort_keys=True) if cfg else ""
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"PaySecrets({sorted(self.channels())})"

    __str__ = __repr__
