"""The Cashier port: a channel charges an order and says how it ended. Services never branch on a channel.

A payment is an *attempt* (a `payments` row, written PROCESSING before the channel is called). Its id is the
channel's `out_trade_no`, so asking the channel twice for one attempt can never charge twice. A channel answers
at once (the sandbox: SUCCESS, FAIL, ...) or PENDING with an action for the buyer (a QR to scan, a page to open);
the final word then comes from the channel's notify or from `query`, whichever arrives first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, Protocol


class Outcome(StrEnum):
    SUCCESS = "SUCCESS"
    FAIL = "FAIL"  # the channel refused: errNo 10000
    TIMEOUT = "TIMEOUT"  # the cashier timed out
    USER_CLOSED = "USER_CLOSED"  # the buyer closed the cashier
    CANCEL = "CANCEL"  # the buyer cancelled
    OPEN_FAILED = "OPEN_FAILED"  # the channel app could not be opened: errNo 10001
    APP_MISSING = "APP_MISSING"  # the channel app is not installed: errNo 10002
    PENDING = "PENDING"  # the channel waits for the buyer (ChargeResult.action says where); not final
    UNKNOWN = "UNKNOWN"  # the channel's answer was lost (timeout, error, crash); settled by query; not final


# tt.pay result codes (reference §5.3): 0 paid, 1 timeout, 2 failed, 3 closed, 4 cancelled
PAY_CODES = {
    Outcome.SUCCESS: 0,
    Outcome.TIMEOUT: 1,
    Outcome.FAIL: 2,
    Outcome.OPEN_FAILED: 2,
    Outcome.APP_MISSING: 2,
    Outcome.USER_CLOSED: 3,
    Outcome.CANCEL: 4,
}

# bind:error codes for the outcomes that are errors (seed: 10000-10002)
ERROR_NAMES = {
    Outcome.FAIL: "PAY_FAILED",
    Outcome.OPEN_FAILED: "CHANNEL_OPEN_FAILED",
    Outcome.APP_MISSING: "CHANNEL_NOT_INSTALLED",
}


@dataclass(frozen=True)
class PayAction:
    """What the buyer does at the channel: scan `url` as a QR (`qr`, e.g. WeChat Native's code_url), open it
    (`redirect`, e.g. WeChat H5's h5_url or Alipay's page/wap pay URL), or, inside WeChat's browser, hand the signed
    `params` to WeixinJSBridge's getBrandWCPayRequest (`jsapi`; `url` empty)."""

    kind: Literal["qr", "redirect", "jsapi"]
    url: str
    params: Mapping[str, str] | None = None


@dataclass(frozen=True)
class ChargeRequest:
    """One payment attempt as the channel sees it. `out_trade_no` is the attempt id: the idempotency key."""

    out_trade_no: str
    order_id: str
    amount: int  # fen
    description: str  # the goods name, shown by the channel
    channel: str  # "douyin" | "wechat" | "alipay" | "bankcard"
    scenario: str | None = None  # the sandbox tester's choice; real channels ignore it
    client: Literal["desktop", "phone", "wechat"] = "desktop"  # "wechat": WeChat's in-app browser (JSAPI)
    client_ip: str = "127.0.0.1"
    return_url: str = ""  # where a redirect flow comes back to
    notify_url: str = ""  # where the channel sends its payment notify
    expire_at_ms: int = 0  # the order's pay deadline
    profit_sharing: bool = False  # WeChat Pay: settle_info.profit_sharing (receivers with a WeChat account exist)
    payer_openid: str = ""  # client "wechat": the buyer's openid under the merchant's appid (JSAPI's payer.openid)


@dataclass(frozen=True)
class ChargeResult:
    outcome: Outcome
    channel_pay_id: str | None = None
    message: str = ""
    action: PayAction | None = None  # with PENDING
    # with FAIL: the channel could not be reached at all (nothing was sent, nothing charged); the cashier tells the
    # buyer to choose another channel
    unavailable: bool = False


class TradeState(StrEnum):
    PAID = "PAID"  # the money moved
    WAITING = "WAITING"  # created, not paid yet (the buyer may still pay)
    CLOSED = "CLOSED"  # will never be paid (closed, refused, or never created at the channel)
    UNKNOWN = "UNKNOWN"  # the channel did not answer; ask again later


@dataclass(frozen=True)
class QueryResult:
    state: TradeState
    channel_pay_id: str | None = None
    amount: int | None = None  # fen, as the channel reports it
    message: str = ""
    # with WAITING: the channel has no trade for the attempt yet (Alipay's ACQ.TRADE_NOT_EXIST until the buyer opens
    # its page). Asked after the attempt's deadline (its time_expire) it never can have one: a definite end.
    absent: bool = False


@dataclass(frozen=True)
class RefundResult:
    """How a refund through the channel ended: ok with the channel's refund id, refused with a message, or
    `pending` (accepted, the channel's refund notify or a later query says how it ended)."""

    ok: bool
    channel_refund_id: str | None = None
    message: str = ""
    pending: bool = False


@dataclass(frozen=True)
class ShareLine:
    """One receiver of a channel profit-sharing order: its account at the channel and its fen."""

    account: str
    amount: int
    description: str


@dataclass(frozen=True)
class ShareResult:
    """A channel profit-sharing order as the channel reports it: PROCESSING (accepted, not done), FINISHED (every
    receiver paid) or FAILED (refused, or a receiver closed, with the reason). `unknown`: no answer, ask again."""

    state: Literal["PROCESSING", "FINISHED", "FAILED"]
    channel_order_id: str | None = None
    message: str = ""
    unknown: bool = False


@dataclass(frozen=True)
class NotifyEvent:
    """A channel's notify, verified and decoded. kind "payment": `paid` says whether the trade is paid;
    kind "refund": `ok` says whether the refund succeeded."""

    kind: Literal["payment", "refund"]
    out_trade_no: str
    amount: int | None = None
    channel_pay_id: str | None = None
    paid: bool = False
    out_refund_no: str | None = None
    channel_refund_id: str | None = None
    ok: bool = False
    raw: Mapping[str, object] = field(default_factory=dict)
    # False for a notify that says nothing final (Alipay's WAIT_BUYER_PAY): answered as taken, changes nothing
    final: bool = True


class NotifyRejected(Exception):
    """A notify that fails verification (bad signature, bad body, replay). `reason` is logged, never echoed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class NotifyAnswer:
    """The HTTP answer a channel expects to a notify."""

    status: int
    body: bytes
    content_type: str


class Cashier(Protocol):
    """A payment channel set. `scenario` is a tester's choice in the sandbox; real channels ignore it."""

    name: str
    sandbox: bool

    async def charge(self, req: ChargeRequest) -> ChargeResult:
        """Start (or, asked again with the same out_trade_no, return) the attempt. Raises nothing for a channel
        that is down: answers Outcome.UNKNOWN instead, and the reconciler settles it by `query`."""
        ...

    async def query(self, out_trade_no: str) -> QueryResult: ...

    async def close(self, out_trade_no: str) -> None:
        """Close an unpaid attempt at the channel so it can no longer be paid (best effort)."""
        ...

    async def refund(self, *, refund_id: str, order_id: str, amount: int, channel_pay_id: str | None,
                     out_trade_no: str | None = None, total: int | None = None) -> RefundResult:
        """Give `amount` fen of the attempt's payment back. `refund_id` is the idempotency key: asked twice for
        one refund, a channel answers the first outcome again."""
        ...

    def parse_notify(self, kind: Literal["payment", "refund"], headers: Mapping[str, str],
                     body: bytes) -> NotifyEvent:
        """Verify and decode a notify; raises NotifyRejected."""
        ...

    def notify_answer(self, ok: bool) -> NotifyAnswer: ...
