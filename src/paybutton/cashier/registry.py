"""Which cashier serves an app's channel: its WeChat Pay or Alipay settings when it has them, else the default
(the sandbox). SDK clients are built once per app and settings (a changed setting builds a new one)."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from paybutton.cashier.alipay import AlipayCashier
from paybutton.cashier.base import Cashier
from paybutton.cashier.payconfig import PaySecrets
from paybutton.cashier.wechatpay import WechatPayCashier

log = logging.getLogger("paybutton.cashier.registry")

# channel (as the buyer picks it) <-> provider (as notify URLs name it)
PROVIDERS = {"wechat": "wechatpay", "alipay": "alipay"}
CHANNEL_OF = {v: k for k, v in PROVIDERS.items()}
CACHE_SIZE = 256
_cache: OrderedDict[tuple[str, str, str, str, float], Cashier] = OrderedDict()


def _secrets(app: Mapping[str, Any]) -> PaySecrets:
    s = app.get("pay_secrets")
    return s if isinstance(s, PaySecrets) else PaySecrets(None)


def configured(app: Mapping[str, Any], channel: str) -> bool:
    return _secrets(app).channel(channel) is not None


def _build(app_id: str, channel: str, cfg: dict[str, str], notify_base: str, timeout: float) -> Cashier:
    if channel == "wechat":
        refund_url = f"{notify_base.rstrip('/')}/pay/notify/wechatpay/{app_id}/refund" if notify_base else ""
        return WechatPayCashier(cfg, refund_notify_url=refund_url, timeout=timeout)
    return AlipayCashier(cfg, timeout=timeout)


def cashier_for_app(app: Mapping[str, Any], channel: str, default: Cashier, *, notify_base: str = "",
                    timeouts: Mapping[str, float] | None = None) -> Cashier:
    """The cashier for `channel` ("wechat", "alipay", ...) of `app` (an AppRow: kernel/approws.py).
    `notify_base` is the public base URL the channel's refund notifies go to (WeChat Pay takes it per refund);
    `timeouts` the seconds one API call of a channel may take, by channel (Settings.*_timeout_seconds; 10)."""
    if channel not in PROVIDERS:
        return default
    cfg = _secrets(app).channel(channel)
    if cfg is None:
        return default
    timeout = float((timeouts or {}).get(channel, 10.0))
    key = (str(app["app_id"]), channel, _secrets(app).digest(channel), notify_base, timeout)
    hit = _cache.get(key)
    if hit is not None:
        _cache.move_to_end(key)
        return hit
    cashier = _build(str(app["app_id"]), channel, cfg, notify_base, timeout)
    _cache[key] = cashier
    if len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return cashier


def cashier_by_provider(app: Mapping[str, Any], provider: str, default: Cashier, *, notify_base: str = "",
                        timeouts: Mapping[str, float] | None = None) -> Cashier:
    """The cashier a notify to /pay/notify/{provider}/{app_id} is checked with ("wechatpay" or "alipay")."""
    channel = CHANNEL_OF.get(provider)
    return default if channel is None else cashier_for_app(app, channel, default, notify_base=notify_base,
                                                           timeouts=timeouts)
