"""Paying again while an earlier attempt of the order is still live: its channel is asked *now*, the old trade is
closed there when it was not paid, and only then is the new attempt opened. A buyer is never stuck behind an
attempt whose answer was lost, and never charged twice.

`paying.pay` answers a pay that finds a live attempt with that attempt (a double tap must not charge twice). That
is right for an attempt in flight or a pending one on the same channel, but it left a buyer whose attempt is
UNKNOWN (the channel's answer was lost: a timeout after sending) with PAYMENT_PENDING (409) on every channel until
the order expired, and a buyer who switched channels with the first channel's QR or page. Here, before the pay:

- an UNKNOWN attempt, or a pending one (PROCESSING with an action) on another channel, is *superseded*:
  1. `Cashier.query(out_trade_no)`: PAID settles it paid (the order is paid; the answer is the seed's code 0 and
     no new attempt is opened, so no second charge);
  2. otherwise the old trade is closed at the channel. WeChat Pay: "商户订单支付失败需要生成新单号重新发起支付,要对原
     订单号调用关单,避免重复支付" (APIv3 关闭订单, https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter3_4_3.shtml
     Native, chapter3_3_3.shtml H5); Alipay: alipay.trade.close "用于交易创建后,用户在一定时间内未进行支付,可调用
     该接口直接将未付款的交易进行关闭" (https://opendocs.alipay.com/apis/api_1/alipay.trade.close);
  3. one more query: PAID (paid as it was being closed) settles it paid as in 1; anything else ends the attempt
     CLOSED on our side, and the new attempt (a new out_trade_no) is opened.
- an attempt in flight (PROCESSING, no action yet) or pending on the same channel is left alone: `paying.pay`
  answers with it, as before.

When the channel cannot be asked (it is down), the attempt still ends CLOSED here: a buyer who could not reach the
channel cannot have paid its page, and one whose QR was answered late is covered by the channel's notify, which
finds the attempt CLOSED and keeps the money as a late payment, refunded automatically
(paying.on_payment_notify -> _paid_after_close); the money is never lost.
"""

from __future__ import annotations

import logging
from typing import Any, Literal
from urllib.parse import urlsplit

from paybutton.cashier.base import QueryResult, TradeState
from paybutton.context import Ctx
from paybutton.errors import TradeError
from paybutton.order import paying
from paybutton.order.views import buyer_order
from paybutton.payment_state import Payment

log = logging.getLogger("paybutton.repay")


def supersedes(live: Payment, channel: str) -> bool:
    """Does a pay through `channel` end the live attempt first (see the module doc)?"""
    if live.state == paying.UNKNOWN:
        return True
    return live.action is not None and live.channel != channel


async def _ask(ctx: Ctx, cashier: Any, payment_id: str) -> QueryResult:
    try:
        q: QueryResult = await cashier.query(payment_id)
    except Exception as e:  # a channel that raises instead of answering UNKNOWN
        return QueryResult(TradeState.UNKNOWN, message=f"query failed: {type(e).__name__}")
    return q


async def _settle_paid(ctx: Ctx, live: Payment, q: QueryResult) -> None:
    await paying.settle(ctx, live.app_id, live.payment_id, paid=True, channel_pay_id=q.channel_pay_id, amount=q.amount,
                        source="pay again")


async def supersede(ctx: Ctx, live: Payment) -> Literal["paid", "closed"]:
    """Ask the live attempt's channel, close its trade there unless paid, and end the attempt."""
    app = await ctx.app(live.app_id)
    cashier = ctx.cashier_by_provider(app, live.provider)
    q = await _ask(ctx, cashier, live.payment_id)
    if q.state is TradeState.PAID:
        await _settle_paid(ctx, live, q)
        return "paid"
    try:
        await cashier.close(live.payment_id)
    except Exception as e:  # best effort: the query below says how the trade stands
        log.warning("attempt %s: close before paying again failed (%s)", live.payment_id, type(e).__name__)
    q = await _ask(ctx, cashier, live.payment_id)
    if q.state is TradeState.PAID:
        await _settle_paid(ctx, live, q)
        return "paid"
    await paying.settle(ctx, live.app_id, live.payment_id, paid=False, channel_pay_id=None, amount=None,
                        source="pay again", message=f"closed before paying again (the channel says {q.state.value}"
                                f"{': ' + q.message if q.message else ''})")
    log.info("attempt %s of order %s closed before paying again (channel: %s)", live.payment_id, live.order_id,
             q.state.value)
    return "closed"


def origin_of(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


async def pay(ctx: Ctx, app_id: str, open_id: str, order_ref: str, *, channel: str, return_to: str = "",
              **kw: Any) -> dict[str, Any]:
    """`paying.pay`, after superseding a live attempt that the buyer is paying again (see the module doc).
    `return_to`: the page a channel's page returns to (the overlay's host page, on one of the app's allowed
    origins: never an open redirect); default: the hosted cashier."""
    if return_to and origin_of(return_to) not in (await ctx.app(app_id))["allowed_origins"]:
        raise TradeError("RETURN_TO_NOT_ALLOWED", return_to[:64])
    order, _ = await buyer_order(ctx, app_id, open_id, order_ref)
    async with ctx.db.engine.connect() as conn:
        live = await paying.live_attempt(conn, app_id, order.order_id)
    if live is not None and supersedes(live, channel) and await supersede(ctx, live) == "paid":
        async with ctx.db.engine.connect() as conn:
            p = await paying.attempt_row(conn, app_id, live.payment_id)
        assert p is not None
        return paying._answer(order, p, joined=True)
    return await paying.pay(ctx, app_id, open_id, order_ref, channel=channel, return_to=return_to, **kw)
