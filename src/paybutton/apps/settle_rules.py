"""An app's settle rules (issue 21) and the operator's receivers: the checks of `app update --settle-mode/
--settle-days/--rake-bps/--settle-url` and the console's settings, and `receiver add|list`.

The modes follow Douyin's settlement cycles (结算周期): `verify` is 核销 D+N, `pay` is 支付 D+N, and `manual` means
the developer calls create_settle itself. An app on an automatic cycle has its create_settle refused (23117).
Source: https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/locallife/general-ability/
self-operated-trading/settlement/init-settle (发起分账: 结算周期, 错误码), as summarised in
/work/shared/reference/douyin-trade-reference.md §16."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.clock import Clock
from paybutton.errors import TradeError
from paybutton.tables import apps, receivers

MODES: Final = ("manual", "verify", "pay")
AUTOMATIC: Final = ("verify", "pay")  # an app on these refuses create_settle (23117)
MAX_DAYS: Final = 365
MAX_RAKE_BPS: Final = 10_000
FIELDS: Final = ("settle_mode", "settle_days", "rake_bps", "settle_url")


def check(name: str, value: Any) -> Any:
    """The checked value of one settle setting; INVALID_PARAMETER (with the field) when it is wrong."""
    if name == "settle_mode":
        if value not in MODES:
            raise TradeError("INVALID_PARAMETER", "settle_mode must be manual, verify or pay", field=name)
        return str(value)
    if name in ("settle_days", "rake_bps"):
        top = MAX_DAYS if name == "settle_days" else MAX_RAKE_BPS
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
            raise TradeError("INVALID_PARAMETER", f"{name} must be an integer in 0..{top}", field=name)
        return value
    raise TradeError("INVALID_PARAMETER", f"unknown setting {name}")


async def add_receiver(conn: AsyncConnection, clock: Clock, merchant_uid: str, name: str, *,
                       wechat_account: str | None = None, alipay_account: str | None = None) -> dict[str, Any]:
    """Register a receiver (another party a settle may pay). Its uid must be new, and no app's seller uid. Its
    accounts at the real channels (optional) let its shares go through their profit sharing (settle/sharing.py):
    a WeChat Pay merchant id (分账接收方 type MERCHANT_ID) and an Alipay user id (2088 and 12 more digits,
    royalty_parameters' trans_in of type userId)."""
    if wechat_account is not None and not (wechat_account.isdigit() and 1 <= len(wechat_account) <= 32):
        raise TradeError("INVALID_PARAMETER", "--wechat-account must be a WeChat Pay merchant id (digits)")
    if alipay_account is not None and not (alipay_account.isdigit() and len(alipay_account) == 16
                                           and alipay_account.startswith("2088")):
        raise TradeError("INVALID_PARAMETER", "--alipay-account must be an Alipay user id (2088 and 12 digits)")
    if not merchant_uid or len(merchant_uid) > 64 or not merchant_uid.isprintable() or " " in merchant_uid:
        raise TradeError("INVALID_PARAMETER", "the receiver's uid must be 1-64 printable characters, no space")
    if not name or len(name) > 128 or not name.isprintable():
        raise TradeError("INVALID_PARAMETER", "the receiver's name must be 1-128 printable characters")
    taken = (await conn.execute(select(receivers.c.merchant_uid).where(receivers.c.merchant_uid == merchant_uid)
                                .union_all(select(apps.c.merchant_uid).where(apps.c.merchant_uid == merchant_uid))
                                )).first()
    if taken is not None:
        raise TradeError("INVALID_PARAMETER", f"{merchant_uid} is already a receiver or a seller")
    row = {"merchant_uid": merchant_uid, "name": name, "created_at": clock.now_ms(),
           "wechat_account": wechat_account, "alipay_account": alipay_account}
    await conn.execute(receivers.insert().values(**row))
    return row


async def list_receivers(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = await conn.execute(select(receivers).order_by(receivers.c.created_at, receivers.c.merchant_uid))
    return [dict(r._mapping) for r in rows]
