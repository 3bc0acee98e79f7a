"""Refund rules, pure: what each unit can still give back, which units and amounts a refund request means
(whole order, chosen units, amounts per item order, legacy 1.0 by refund-total-amount), where a new refund
starts in the flow and where the merchant's answers move it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from paybutton.errors import TradeError
from paybutton.order.states import ItemStatus


class RefundStatus(StrEnum):
    PROCESSING = "PROCESSING"
    SUCCESS = "SUCCESS"
    FAIL = "FAIL"


class AuditStatus(StrEnum):
    INIT = "INIT"  # no audit asked (yet)
    TOAUDIT = "TOAUDIT"
    AGREE = "AGREE"
    DENY = "DENY"
    OVERTIME = "OVERTIME"  # the deadline passed: agreed


class Stage(StrEnum):
    """Ours: where the refund is in the flow (the wire fields are status and audit_status)."""

    PRE_REFUND = "PRE_REFUND"  # waiting for the merchant's pre_create_refund answer (out_refund_no)
    AUDIT = "AUDIT"  # waiting for merchant_audit_callback or the deadline
    READY = "READY"  # to be refunded through the cashier
    CASHIER = "CASHIER"  # a worker holds it while the cashier is asked
    DONE = "DONE"


class Source(IntEnum):
    USER = 1
    MERCHANT = 2  # ours: refund/create_refund
    EXPIRY = 3
    LATE_PAYMENT = 6  # ours: paid after the order timed out


REFUNDABLE_STATUSES = (int(ItemStatus.UNUSED), int(ItemStatus.REFUNDING))


@dataclass(frozen=True)
class Unit:
    item_order_id: str
    price: int
    status: int
    refunded: int = 0
    refunding: int = 0
    locked: bool = False  # toolkit/change_lock_status: no refund until unlocked
    settled: bool = False  # its money went to the merchant (issue 21): it refunds no more


def refundable(unit: Unit) -> int:
    """Fen this unit can still give back: price − refunded − in flight; 0 when used, closed, unpaid, locked or
    settled."""
    if unit.status not in REFUNDABLE_STATUSES or unit.locked or unit.settled:
        return 0
    return max(0, unit.price - unit.refunded - unit.refunding)


def untouched(unit: Unit) -> bool:
    """A whole unit the buyer can pick on the stepper: unused, nothing refunded or in flight."""
    return (unit.status == ItemStatus.UNUSED and unit.refunded == 0 and unit.refunding == 0 and unit.price > 0
            and not unit.settled)


@dataclass(frozen=True)
class Entry:
    item_order_id: str
    refund_amount: int | None = None  # None: the rest of that item


def plan(
    units: Sequence[Unit],
    *,
    legacy: bool = False,
    entries: Sequence[Entry] | None = None,
    quantity: int | None = None,
    refund_total_amount: int | None = None,
) -> dict[str, int]:
    """item_order_id -> fen to refund. Raises NOTHING_REFUNDABLE, LEGACY_REFUND_AMOUNT_MISSING,
    ITEM_ORDER_NOT_IN_ORDER, ITEM_NOT_REFUNDABLE or REFUND_AMOUNT_INVALID."""
    left = {u.item_order_id: refundable(u) for u in units}
    locked = {u.item_order_id for u in units if u.locked}
    settled = {u.item_order_id for u in units if u.settled}
    if entries and (hit := next((e.item_order_id for e in entries if e.item_order_id in settled), None)):
        raise TradeError("ITEM_SETTLED", hit)
    if sum(left.values()) == 0:
        raise TradeError("ITEM_SETTLED" if settled and entries is None else "NOTHING_REFUNDABLE")
    if legacy and entries is None:
        if refund_total_amount is None:
            raise TradeError("LEGACY_REFUND_AMOUNT_MISSING")
        return _spread(units, left, refund_total_amount)
    if entries is not None:
        result = _by_entries(left, entries, locked)
    elif quantity is not None:
        result = _by_units(units, quantity)
    else:
        result = {k: v for k, v in left.items() if v > 0}
    if refund_total_amount is not None and refund_total_amount != sum(result.values()):
        raise TradeError("REFUND_AMOUNT_INVALID", "refund_total_amount is not the sum of the item amounts")
    return result


def _spread(units: Sequence[Unit], left: dict[str, int], amount: int) -> dict[str, int]:
    """Legacy: take `amount` from the units in order."""
    if amount <= 0 or amount > sum(left.values()):
        raise TradeError("REFUND_AMOUNT_INVALID", f"refund-total-amount must be in 1..{sum(left.values())}")
    result: dict[str, int] = {}
    for u in units:
        take = min(left[u.item_order_id], amount)
        if take > 0:
            result[u.item_order_id] = take
            amount -= take
    return result


def _by_entries(left: dict[str, int], entries: Sequence[Entry], locked: set[str]) -> dict[str, int]:
    if not entries:
        raise TradeError("REFUND_AMOUNT_INVALID", "itemOrderList needs at least one entry")
    result: dict[str, int] = {}
    for e in entries:
        if e.item_order_id not in left:
            raise TradeError("ITEM_ORDER_NOT_IN_ORDER", e.item_order_id)
        if e.item_order_id in result:
            raise TradeError("REFUND_AMOUNT_INVALID", f"{e.item_order_id} is listed twice")
        rest = left[e.item_order_id]
        if e.item_order_id in locked:
            raise TradeError("CERTIFICATE_LOCKED", e.item_order_id)
        if rest == 0:
            raise TradeError("ITEM_NOT_REFUNDABLE", e.item_order_id)
        amount = rest if e.refund_amount is None else e.refund_amount
        if isinstance(amount, bool) or not 0 < amount <= rest:
            raise TradeError("REFUND_AMOUNT_INVALID", f"{e.item_order_id}: refundAmount must be in 1..{rest}")
        result[e.item_order_id] = amount
    return result


def _by_units(units: Sequence[Unit], quantity: int) -> dict[str, int]:
    free = [u for u in units if untouched(u)]
    if quantity < 1:
        raise TradeError("REFUND_AMOUNT_INVALID", "quantity must be at least 1")
    if quantity > len(free):
        raise TradeError("REFUND_AMOUNT_INVALID", f"only {len(free)} units can be refunded")
    return {u.item_order_id: u.price for u in free[:quantity]}


DAY_MS = 86_400_000


def expired(paid_at: int | None, valid_days: int | None, now: int) -> bool:
    """The vouchers' validity (valid_days after payment) has ended."""
    return paid_at is not None and valid_days is not None and paid_at + valid_days * DAY_MS <= now


def expiry_entries(units: Sequence[Unit]) -> list[Entry]:
    """EXPIRED_RETURNS: every unused unit gives back what it still holds (units in flight are left alone)."""
    return [Entry(u.item_order_id) for u in units if u.status == ItemStatus.UNUSED and refundable(u) > 0]


def item_after_success(price: int, refunded: int, refunding: int, amount: int) -> int:
    """The unit's status once `amount` in flight is refunded (mirrors the guarded UPDATE)."""
    if refunded + amount >= price:
        return int(ItemStatus.REFUNDED)
    return int(ItemStatus.REFUNDING) if refunding - amount > 0 else int(ItemStatus.UNUSED)


def voucher_state(status: int, refunding: int) -> str:
    """The voucher card's state: 待使用 / 已核销 / 退款中 / 已退款 (or 已关闭, 待支付)."""
    if refunding > 0 or status == ItemStatus.REFUNDING:
        return "退款中"
    return {
        int(ItemStatus.UNUSED): "待使用",
        int(ItemStatus.REDEEMED): "已核销",
        int(ItemStatus.REFUNDED): "已退款",
        int(ItemStatus.CLOSED): "已关闭",
        int(ItemStatus.UNPAID): "待支付",
    }.get(status, "未知")


# ------------------------------------------------------------------ where a refund is in the flow

MAX_OUT_REFUND_NO = 64


@dataclass(frozen=True)
class Position:
    """A refund's place in the flow: our stage and the wire audit_status."""

    stage: Stage
    audit: AuditStatus


@dataclass(frozen=True)
class Start:
    """How a new refund begins: does the merchant audit it, is it asked for its number first, and where it waits."""

    need_audit: bool
    asks_merchant: bool
    position: Position


def start(source: Source, *, app_audits: bool, refund_url: str | None) -> Start:
    """A buyer's refund waits for the audit when the app asks for one; buyer and expiry refunds ask the merchant
    for its out_refund_no first (pre_create_refund) when the app has a refund_url; a merchant's refund names its
    own number. Late payments never come here (they start READY, refund/worker.py)."""
    need_audit = source == Source.USER and app_audits
    asks_merchant = source in (Source.USER, Source.EXPIRY) and bool(refund_url)
    if asks_merchant:
        return Start(need_audit, True, Position(Stage.PRE_REFUND, AuditStatus.INIT))
    return Start(need_audit, False, after_merchant_number(need_audit))


def after_merchant_number(need_audit: bool) -> Position:
    """Once the refund has its out_refund_no: to the audit when one is needed, else straight to the cashier."""
    return Position(Stage.AUDIT, AuditStatus.TOAUDIT) if need_audit else Position(Stage.READY, AuditStatus.INIT)


def audit_deadline(now: int, need_audit: bool, audit_seconds: int) -> int | None:
    """When an unanswered audit counts as agreed (OVERTIME); None without an audit."""
    return now + audit_seconds * 1000 if need_audit else None


def audited(agree: bool) -> Position:
    """merchant_audit_callback: agreed goes to the cashier; denied stays at AUDIT until it is finished (FAIL)."""
    return Position(Stage.READY, AuditStatus.AGREE) if agree else Position(Stage.AUDIT, AuditStatus.DENY)


def valid_out_refund_no(no: object) -> bool:
    """The merchant's out_refund_no: a string of 1..64 characters."""
    return isinstance(no, str) and 0 < len(no) <= MAX_OUT_REFUND_NO


def dumps(obj: object) -> str:
    """The compact JSON stored in refund rows (reason, order_entry_schema)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class PreRefundAnswer:
    """What a usable pre_create_refund answer gives the refund."""

    out_refund_no: str
    notify_url: str | None = None
    order_entry_schema: str | None = None  # JSON, as stored


def parse_pre_refund(answer: str | None) -> PreRefundAnswer | None:
    """The stored answer data of pre_create_refund; None when it is unusable (no valid out_refund_no)."""
    try:
        data = json.loads(answer) if answer else None
    except ValueError:
        return None
    if not isinstance(data, dict) or not valid_out_refund_no(data.get("out_refund_no")):
        return None
    url = data.get("notify_url")
    schema = data.get("order_entry_schema")
    return PreRefundAnswer(data["out_refund_no"], url if isinstance(url, str) and url else None,
                           None if schema is None else dumps(schema))


def channel_message(ok: bool, message: str | None) -> str:
    """The refund's message once the channel answered: the channel's own words, else what happened."""
    return message or ("refunded" if ok else "the channel refused")


def refund_type(source: int) -> int:
    """The refund notify's refund_type: 2 for a merchant's refund, 1 for every other source."""
    return 2 if source == Source.MERCHANT else 1
