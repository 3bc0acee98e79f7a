"""A channel's bill for one day as data (pure): its lines, its own totals, and the ways fetching it can fail.

Every failure is a `BillProblem` with a kind the CLI and the console explain: the run changes nothing and the day
is tried again later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Literal

from paybutton.clock import BEIJING

ProblemKind = Literal["not_ready", "download", "hash", "format", "encoding"]


class BillProblem(Exception):
    """The bill could not be had or read. `kind`: not_ready (no bill for that day yet), download (the channel did
    not answer or refused), hash (the file is not the one the channel described), format (not the documented
    layout), encoding (not the documented character set)."""

    def __init__(self, kind: ProblemKind, message: str, *, no_trades: bool = False) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind: ProblemKind = kind
        self.message = message
        # not_ready because the channel had no trade that day (WeChat Pay's NO_STATEMENT_EXIST): when we hold
        # nothing for that day either, the day is reconciled as empty instead of asked again forever
        self.no_trades = no_trades


@dataclass(frozen=True)
class BillLine:
    """One line of a bill: a payment (`kind` "pay": out_trade_no is our attempt id) or a refund ("refund":
    out_refund_no is our refund id). `amount` in fen, positive; `status` the channel's word for the line."""

    kind: Literal["pay", "refund"]
    out_trade_no: str
    amount: int
    status: str = "SUCCESS"
    out_refund_no: str = ""
    channel_id: str = ""

    @property
    def key(self) -> str:
        return self.out_refund_no if self.kind == "refund" else self.out_trade_no

    @property
    def done(self) -> bool:
        """The money moved (a paid trade, a refund that succeeded)."""
        return self.status in DONE_WORDS


# The words the bills use for a line whose money moved: WeChat Pay's 交易状态 SUCCESS / 退款状态 SUCCESS; Alipay's
# business lines are all completed ones (业务类型 交易 / 退款); the sandbox's own.
DONE_WORDS = frozenset({"SUCCESS", "交易", "退款"})


@dataclass(frozen=True)
class Bill:
    lines: tuple[BillLine, ...]


def fen(text: str) -> int:
    """'12.34' (yuan, as the bills write amounts) -> 1234, exactly; '-0.01' -> -1; anything else is a format
    problem."""
    try:
        d = Decimal(text.strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise BillProblem("format", f"not an amount: {text[:40]!r}") from None
    cents = d * 100
    if cents != cents.to_integral_value():
        raise BillProblem("format", f"an amount finer than a fen: {text[:40]!r}")
    return int(cents)


def parse_day(text: str) -> date:
    """'2026-12-06' -> the date; ValueError for anything else."""
    return datetime.strptime(text, "%Y-%m-%d").date()


def day_bounds_ms(day: date) -> tuple[int, int]:
    """[start, end) of a Beijing-time day in epoch ms: the bills' days are Beijing days."""
    start = datetime(day.year, day.month, day.day, tzinfo=BEIJING)
    return int(start.timestamp() * 1000), int((start + timedelta(days=1)).timestamp() * 1000)


def beijing_now(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(BEIJING)
