"""The settle rules, pure (the standard library and errors only).

Douyin's documents (发起分账 / 查询分账 of the self-operated trade system, and its error-code page):
https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/locallife/general-ability/
self-operated-trading/settlement/init-settle and .../settlement/query-settle; the codes as docs/openapi.md
"## settle" lists them with their sources.
- `settle_params` is a JSON *string* of `[{"merchant_uid", "amount"}]`: the receivers other than the seller, each
  amount in fen, at least 1; the seller gets the rest (23003..23010 for a bad field, 23112 past what is left).
- `item_order_id` settles one unit (23025 when it is not the order's); once a unit settled alone, the whole order
  cannot settle in one call (23118).
- Units settle after they are redeemed (23107) where the app settles after 核销; nothing left is 23112, no settlable
  unit 23113."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from paybutton.clock import BEIJING
from paybutton.errors import TradeError
from paybutton.order.states import ItemStatus

UNUSED, REDEEMED, REFUNDING = ItemStatus.UNUSED, ItemStatus.REDEEMED, ItemStatus.REFUNDING
SETTLABLE = (UNUSED, REDEEMED)
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Share:
    """One receiver of a settle besides the seller."""

    merchant_uid: str
    amount: int


@dataclass(frozen=True)
class Unit:
    item_order_id: str
    price: int
    status: int
    refunded: int
    refunding: int
    settle_id: str | None
    verified_at: int | None = None


@dataclass(frozen=True)
class Split:
    total: int
    rake: int
    commission: int
    seller: int
    shares: tuple[Share, ...]


def parse_params(raw: str | None) -> list[Share]:
    """settle_params as receivers; SETTLE_PARAMS_INVALID when it is not a JSON string of them."""
    if raw is None or raw.strip() == "":
        return []
    try:
        got: Any = json.loads(raw)
    except ValueError:
        raise TradeError("SETTLE_PARAMS_INVALID", "settle_params is not JSON") from None
    if not isinstance(got, list):
        raise TradeError("SETTLE_PARAMS_INVALID", "settle_params must be a JSON array")
    shares: list[Share] = []
    for i, e in enumerate(got):
        if not isinstance(e, dict) or set(e) - {"merchant_uid", "amount"}:
            raise TradeError("SETTLE_PARAMS_INVALID", f"settle_params[{i}] must be {{merchant_uid, amount}}")
        uid, amount = e.get("merchant_uid"), e.get("amount")
        if not isinstance(uid, str) or not uid or len(uid) > 64:
            raise TradeError("SETTLE_PARAMS_INVALID", f"settle_params[{i}].merchant_uid must be a non-empty string")
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise TradeError("SETTLE_PARAMS_INVALID", f"settle_params[{i}].amount must be an integer (fen)")
        if amount < 1:
            raise TradeError("SETTLE_PARAMS_INVALID", f"settle_params[{i}].amount must be at least 1 fen")
        if any(s.merchant_uid == uid for s in shares):
            raise TradeError("SETTLE_PARAMS_INVALID", f"settle_params names {uid} twice")
        shares.append(Share(uid, amount))
    return shares


def dump_params(shares: Sequence[Share]) -> str:
    return json.dumps([{"merchant_uid": s.merchant_uid, "amount": s.amount} for s in shares], separators=(",", ":"))


def rake(total: int, bps: int) -> int:
    """The platform's fee: `bps` basis points of what settles, rounded half up to the fen."""
    return (total * bps + 5000) // 10000


def split(total: int, rake_bps: int, shares: Sequence[Share], commission: int = 0) -> Split:
    """Who gets what: the rake and commission first, then the receivers, the seller the rest (never below 0)."""
    fee = rake(total, rake_bps)
    seller = total - fee - commission - sum(s.amount for s in shares)
    if seller < 0:
        raise TradeError("SETTLE_OVER_LEFT", f"{sum(s.amount for s in shares)} > {total - fee - commission}")
    return Split(total, fee, commission, seller, tuple(shares))


def left(u: Unit) -> int:
    """Fen the unit can still settle: price − refunded, when paid, not in a refund and not settled yet."""
    if u.settle_id is not None or u.status not in SETTLABLE or u.refunding:
        return 0
    return max(0, u.price - u.refunded)


def pick(units: Sequence[Unit], item_order_id: str | None, *, after_redeem: bool, unit_settled: bool
         ) -> dict[str, int]:
    """item_order_id -> fen this settle takes: one unit, or every settlable unit of the order."""
    if item_order_id is not None:
        unit = next((u for u in units if u.item_order_id == item_order_id), None)
        if unit is None:
            raise TradeError("SETTLE_ITEM_NOT_IN_ORDER", item_order_id)
        if unit.settle_id is not None:
            raise TradeError("SETTLE_NOTHING_LEFT", f"{item_order_id} is settled")
        if unit.status not in SETTLABLE or unit.refunding:
            raise TradeError("SETTLE_NO_UNIT", item_order_id)
        if after_redeem and unit.status != REDEEMED:
            raise TradeError("SETTLE_NOT_FINISHED", f"{item_order_id} is not redeemed")
        if left(unit) == 0:
            raise TradeError("SETTLE_NOTHING_LEFT", item_order_id)
        return {item_order_id: left(unit)}
    if unit_settled:
        raise TradeError("SETTLE_WHOLE_AFTER_UNIT")
    if any(u.refunding or u.status == REFUNDING for u in units):
        raise TradeError("SETTLE_NOT_FINISHED", "a refund of this order is in flight")
    if after_redeem and any(u.status == UNUSED and u.settle_id is None for u in units):
        raise TradeError("SETTLE_NOT_FINISHED", "every unit must be redeemed or refunded first")
    picked = {u.item_order_id: left(u) for u in units if left(u) > 0}
    if not picked:
        raise TradeError("SETTLE_NOTHING_LEFT")
    return picked


def due_at(start_ms: int, days: int) -> int:
    """D+N in Beijing calendar days: midnight (Beijing) of the day `start_ms` falls on, plus `days` days."""
    day = dt.datetime.fromtimestamp(start_ms / 1000, BEIJING).date()
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=BEIJING)
    return int(midnight.timestamp() * 1000) + days * DAY_MS


def auto_due(mode: str, days: int, paid_at: int | None, units: Sequence[Unit], now: int) -> bool:
    """An automatic settle of the whole order is due now: `pay` D+N after payment; `verify` once every unit is
    redeemed or refunded (none in flight), D+N after the last redemption. Something must be left to settle."""
    if not any(left(u) > 0 for u in units) or any(u.refunding or u.status == REFUNDING for u in units):
        return False
    if mode == "pay":
        return paid_at is not None and now >= due_at(paid_at, days)
    if mode != "verify" or any(u.status == UNUSED and u.settle_id is None for u in units):
        return False
    last = max((u.verified_at or 0) for u in units if u.status == REDEEMED)
    return now >= due_at(last, days)
