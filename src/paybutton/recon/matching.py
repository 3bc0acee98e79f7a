"""Matching a day's bill against our records (pure): every bill line and every record of ours gets a class.

- matched: the channel and we agree (amount, and the money moved on both sides);
- long (长款): the channel has money we do not: a payment we hold unpaid (live or closed: `settle` is then done by
  running.py through the existing paid / late-payment path, once) or one we have no record of at all (a break: a
  person must look);
- short (短款): we hold a payment or refund the channel's bill does not show: `pending` until the next day's bill
  (a payment at 23:59:59 may be booked on the next day), then a break;
- diff: the amounts differ, or a refund's status differs, or the channel refunded what we never did: reported as a
  break, never changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from paybutton.recon.bill import Bill, BillLine

Klass = Literal["matched", "long", "short", "diff"]
State = Literal["ok", "pending", "break", "resolved"]
# what was done: nothing; the order paid / the late payment kept for the automatic refund (by settle); waiting for
# the next bill; settle to be done (running.py turns it into paid or late)
Action = Literal["none", "paid", "late", "waiting", "settle"]
SETTLED_BY = "settled by bill"  # the attempt message a settle from a bill leaves (a re-run reports it as long)


@dataclass(frozen=True)
class OurPay:
    payment_id: str
    app_id: str
    provider: str
    amount: int
    state: str  # PROCESSING UNKNOWN SUCCESS CLOSED
    late: bool
    message: str


@dataclass(frozen=True)
class OurRefund:
    refund_id: str
    app_id: str
    provider: str
    amount: int
    status: str  # PROCESSING SUCCESS FAIL
    payment_id: str


@dataclass(frozen=True)
class Verdict:
    kind: Literal["pay", "refund"]
    klass: Klass
    out_trade_no: str
    out_refund_no: str | None
    channel_amount: int | None
    our_amount: int | None
    channel_status: str | None
    our_status: str | None
    action: Action
    state: State
    note: str = ""

    @property
    def key(self) -> str:
        return self.out_refund_no if self.kind == "refund" and self.out_refund_no else self.out_trade_no


@dataclass
class Books:
    """What we hold, for one app and channel: the records the bill's lines name, and the day's own."""

    app_id: str
    provider: str
    pays: Mapping[str, OurPay]
    refunds: Mapping[str, OurRefund]
    day_pays: Iterable[str] = ()  # SUCCESS attempts of this provider settled within the day
    day_refunds: Iterable[str] = ()  # SUCCESS refunds through this provider within the day
    seen: frozenset[str] = field(default_factory=frozenset)  # keys an earlier bill of this channel already showed


def _pay(line: BillLine, p: OurPay | None, books: Books) -> Verdict:
    v = Verdict("pay", "matched", line.out_trade_no, None, line.amount, None, line.status, None, "none", "ok")
    if p is None or p.app_id != books.app_id or p.provider != books.provider:
        return replace(v, klass="long", state="break", note="no payment of ours has this out_trade_no")
    v = replace(v, our_amount=p.amount, our_status=p.state + (" late" if p.late else ""))
    if p.amount != line.amount:
        return replace(v, klass="diff", state="break", note="the amounts differ; nothing was changed")
    if p.state == "SUCCESS":
        if p.message.startswith(SETTLED_BY):
            return replace(v, klass="long", action="late" if p.late else "paid")
        return v
    return replace(v, klass="long", action="settle")


def _refund(line: BillLine, r: OurRefund | None, books: Books) -> Verdict:
    v = Verdict("refund", "matched", line.out_trade_no, line.out_refund_no, line.amount, None, line.status, None,
                "none", "ok")
    if r is None or r.app_id != books.app_id or r.provider != books.provider:
        return replace(v, klass="diff", state="break", note="the channel refunded money we have no refund for")
    v = replace(v, our_amount=r.amount, our_status=r.status)
    if r.amount != line.amount:
        return replace(v, klass="diff", state="break", note="the amounts differ; nothing was changed")
    if r.status != "SUCCESS":
        return replace(v, klass="diff", state="break",
                       note="the channel refunded it; our refund is not SUCCESS (its worker confirms it by query)")
    return v


def match(bill: Bill, books: Books) -> list[Verdict]:
    """One verdict per bill line whose money moved, then one per record of ours the bill lacks."""
    out: list[Verdict] = []
    for line in bill.lines:
        if not line.done:
            continue
        if line.kind == "pay":
            out.append(_pay(line, books.pays.get(line.out_trade_no), books))
        else:
            out.append(_refund(line, books.refunds.get(line.out_refund_no), books))
    shown = {v.key for v in out} | books.seen
    for pid in sorted(set(books.day_pays) - shown):
        p = books.pays[pid]
        out.append(Verdict("pay", "short", pid, None, None, p.amount, None, p.state, "waiting", "pending",
                           "not in the channel's bill; kept open until the next day's bill"))
    for rid in sorted(set(books.day_refunds) - shown):
        r = books.refunds[rid]
        out.append(Verdict("refund", "short", r.payment_id, rid, None, r.amount, None, r.status, "waiting",
                           "pending", "not in the channel's bill; kept open until the next day's bill"))
    return out


@dataclass(frozen=True)
class Totals:
    counts: dict[str, int]
    amounts: dict[str, int]
    breaks: int


def totals(verdicts: Iterable[Verdict]) -> Totals:
    counts = {k: 0 for k in ("matched", "long", "short", "diff")}
    amounts = dict(counts)
    breaks = 0
    for v in verdicts:
        counts[v.klass] += 1
        amounts[v.klass] += v.channel_amount if v.channel_amount is not None else (v.our_amount or 0)
        breaks += v.state == "break"
    return Totals(counts, amounts, breaks)
