"""Paying an order: open the cashier, pay through a payment *attempt*, and settle an attempt exactly once.

An attempt is a `payments` row written PROCESSING *before* the channel is called; its payment_id is the
channel's out_trade_no, so asking the channel again for one attempt can never charge twice. The partial unique
index uq_payments_live_order allows one live (PROCESSING/UNKNOWN) attempt per order: a second pay that arrives
while one is live fails its INSERT and answers with the live attempt instead. The channel's answer is written by
a guarded update (only from a live state); an answer that is lost (timeout, error, crash) leaves the attempt live
for the reconciler (order/reconcile.py), which asks the channel by out_trade_no. `settle` is the one way a live
attempt ends from outside a pay call: the reconciler and the channel notify routes both call it."""

from __future__ import annotations

import json
import logging
import os
import secrets
from dataclasses import asdict, replace
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton import ids
from paybutton.callbacks import outbox
from paybutton.cashier.base import ERROR_NAMES, PAY_CODES, ChargeRequest, ChargeResult, NotifyEvent, Outcome
from paybutton.context import Ctx
from paybutton.errors import TradeError
from paybutton.ledger import trade as ledger_trade
from paybutton.order import store
from paybutton.order.rows import Order
from paybutton.order.states import (
    LIVE_PAYMENT_STATES,
    PAY_CHANNELS,
    UNPAID,
    OrderStatus,
    PaymentState,
    PreOrder,
)
from paybutton.order.views import buyer_order, order_view
from paybutton.payment_state import Payment
from paybutton.tables import receivers
from paybutton.telemetry import metrics

log = logging.getLogger("paybutton.paying")

PROCESSING, UNKNOWN, SUCCESS, CLOSED = (PaymentState.PROCESSING, PaymentState.UNKNOWN, PaymentState.SUCCESS,
                                       PaymentState.CLOSED)
LIVE = LIVE_PAYMENT_STATES
# A PROCESSING attempt whose channel call has not come back after Settings.payment_call_lease_seconds is the
# reconciler's (the process that called the channel may have died); a PENDING or UNKNOWN one is checked sooner.
FIRST_CHECK_MS = 5_000

Settled = Literal["paid", "late", "closed"]


def payment_msg(o: Order, status: str, message: str = "") -> dict[str, Any]:
    """The payment notify msg (reference §14.2)."""
    return {
        "app_id": o.app_id, "order_id": o.order_id, "out_order_no": o.out_order_no or "",
        "status": status, "total_amount": o.total_amount, "discount_amount": o.discount_amount,
        "pay_channel": o.pay_channel, "channel_pay_id": o.channel_pay_id or "",
        "cp_extra": o.cp_extra or "", "item_id": "", "message": message,
        "event_time": o.paid_at or o.updated_at, "delivery_type": o.delivery_type,
        "order_source": "",
    }


def not_payable(order: Order, now: int) -> TradeError:
    if order.status == OrderStatus.SUCCESS:
        return TradeError("CONTINUE_PAY_PARAM_INVALID", "the order is already paid")
    if order.status in UNPAID and order.pre_order_status == PreOrder.PENDING:
        return TradeError("CONTINUE_PAY_PARAM_INVALID", "the merchant has not accepted the order yet")
    if order.status == OrderStatus.TIMEOUT or (order.status in UNPAID and order.pay_expire_at <= now):
        return TradeError("CONTINUE_PAY_PARAM_INVALID", "the order has timed out")
    return TradeError("CONTINUE_PAY_PARAM_INVALID", f"the order is {order.status}")


async def open_cashier(ctx: Ctx, app_id: str, open_id: str, order_ref: str) -> dict[str, Any]:
    """INIT -> PROCESS (idempotent while unpaid); the cashier's view of the order."""
    order, items = await buyer_order(ctx, app_id, open_id, order_ref)
    now = ctx.clock.now_ms()
    async with ctx.db.tx() as conn:
        res = await conn.execute(store.OPEN_CASHIER, {"app": app_id, "oid": order.order_id, "now": now})
    if res.rowcount != 1:
        raise not_payable(order, now)
    order = replace(order, status=OrderStatus.PROCESS.value)
    app = await ctx.app(app_id)
    return {
        "order": order_view(order, items, app=app),
        "merchant_name": app["name"],
        "amount": order.payable,
        "pay_expire_at": order.pay_expire_at,
        "now": now,
        "channels": app["channels"],
        "sandbox": ctx.cashier.sandbox,
        "scenarios": [o.value.lower() for o in Outcome if o not in (Outcome.PENDING, Outcome.UNKNOWN)]
        if ctx.cashier.sandbox else [],
    }


# ------------------------------------------------------------------ reading attempts


attempt_row, live_attempt = store.attempt_row, store.live_attempt  # the attempts' reads are order/store.py's


# ------------------------------------------------------------------ settling


async def issue_vouchers(conn: AsyncConnection, app_id: str, order_id: str, now: int) -> None:
    """Give every paid unit of the order its code and certificate id (in the payment's transaction); the codes
    are redeemed in fulfillment/."""
    for iid in await store.units_without_voucher(conn, app_id, order_id):
        await store.set_voucher(conn, app_id, iid, ids.voucher_code(), "ct" + secrets.token_hex(8), now)


async def _settle_in(conn: AsyncConnection, ctx: Ctx, p: Payment, *, paid: bool, channel_pay_id: str | None,
                     outcome: str | None, message: str) -> Settled | None:
    """End the live attempt `p` in the caller's transaction: the guarded update decides who wins (None: someone
    else settled it first). Paid: the order is paid (items, vouchers, the payment notify in the outbox), or, when
    the order ended meanwhile, the payment is kept as late and the order marked for the automatic refund."""
    now = ctx.clock.now_ms()
    values: store.AttemptChange = {"updated_at": now, "next_check_at": None, "message": message[:500] or None}
    if paid:
        values.update({"state": SUCCESS, "outcome": Outcome.SUCCESS.value, "channel_pay_id": channel_pay_id})
    else:
        values["state"] = CLOSED
        if outcome is not None:
            values["outcome"] = outcome
    if await store.set_attempt(conn, p.app_id, p.payment_id, values, states=LIVE) != 1:
        return None
    if not paid:
        return "closed"
    await ledger_trade.record_payment(conn, p.app_id, p.payment_id, now)  # the money in, in this transaction
    mark = await conn.execute(store.MARK_PAID, {
        "app": p.app_id, "oid": p.order_id, "now": now, "pay_channel": p.pay_channel,
        "channel_pay_id": channel_pay_id, "payment_id": p.payment_id})
    if mark.rowcount == 1:
        await conn.execute(store.ITEMS_PAID, {"app": p.app_id, "oid": p.order_id, "now": now})
        await issue_vouchers(conn, p.app_id, p.order_id, now)
        row = await store.order_row(conn, p.app_id, p.order_id)
        assert row is not None  # MARK_PAID just updated it
        app = await ctx.app_in(conn, p.app_id)
        await outbox.enqueue(conn, ctx.clock, app_id=p.app_id, kind="payment", url=app["payment_notify_url"],
                             msg=payment_msg(row, "SUCCESS"), order_id=p.order_id)
        return "paid"
    # The order ended (timed out, closed, or paid by another attempt) while the buyer paid: keep the money on
    # record and mark it for the automatic refund (refund/worker.refund_late_payment).
    await store.set_attempt(conn, p.app_id, p.payment_id, {"late": True})
    await store.mark_late(conn, p.app_id, p.order_id, now)
    log.warning("payment %s of order %s arrived after the order ended: kept, to be refunded",
                p.payment_id, p.order_id)
    return "late"


async def settle(ctx: Ctx, app_id: str, payment_id: str, *, paid: bool, channel_pay_id: str | None,
                 amount: int | None, source: str, message: str = "") -> bool:
    """End a live attempt once, whoever asks (the reconciler, a channel notify): True when this call ended it.
    An unknown attempt, an amount other than the attempt's, or an attempt already ended changes nothing."""
    async with ctx.db.tx() as conn:
        p = await attempt_row(conn, app_id, payment_id)
        if p is None:
            log.warning("settle from %s: no attempt %s; nothing changed", source, payment_id)
            return False
        if amount is not None and amount != p.amount:
            log.warning("settle from %s: attempt %s is %d fen, the channel says %d; refused, nothing changed",
                        source, payment_id, p.amount, amount)
            return False
        if p.state not in LIVE:
            return False
        got = await _settle_in(conn, ctx, p, paid=paid, channel_pay_id=channel_pay_id, outcome=None,
                               message=message or f"settled by {source}")
    if got is not None:
        log.info("attempt %s settled by %s: %s", payment_id, source, got)
        _count(p.channel, {"paid": "SUCCESS", "closed": "CLOSED", "late": "LATE"}[got], got)
    return got is not None


def _count(channel: str, answer: str, settled: Settled | None) -> None:
    """Count an attempt's answer once committed: the channel's answer to a pay, or how a settle ended it."""
    metrics.payment(channel, answer)
    if settled == "paid":
        metrics.ORDERS_PAID.inc()


async def on_payment_notify(ctx: Ctx, app_id: str, provider: str, ev: NotifyEvent) -> bool:
    """A verified payment notify: False (refused, nothing changed) for an attempt this app and provider do not have
    or another amount; True when taken: the attempt settled now, or already (a replay changes nothing)."""
    async with ctx.db.engine.connect() as conn:
        p = await attempt_row(conn, app_id, ev.out_trade_no)
    if p is None or p.provider != provider:
        log.warning("payment notify via %s for app %s: no attempt %s; refused", provider, app_id, ev.out_trade_no)
        return False
    if ev.amount is not None and ev.amount != p.amount:
        log.warning("payment notify via %s: attempt %s is %d fen, the notify says %d; refused",
                    provider, p.payment_id, p.amount, ev.amount)
        return False
    if p.state in LIVE:
        await settle(ctx, app_id, p.payment_id, paid=ev.paid, channel_pay_id=ev.channel_pay_id, amount=ev.amount,
                     source=f"notify:{provider}")
    elif ev.paid and p.state == CLOSED:
        await _paid_after_close(ctx, p, ev.channel_pay_id)
    return True


async def _paid_after_close(ctx: Ctx, p: Payment, channel_pay_id: str | None) -> None:
    """The channel says a closed attempt was paid (the buyer paid as it was being closed): the money is kept as
    a late payment and refunded automatically, never lost."""
    now = ctx.clock.now_ms()
    async with ctx.db.tx() as conn:
        if await store.set_attempt(conn, p.app_id, p.payment_id, {
                "state": SUCCESS, "outcome": Outcome.SUCCESS.value, "late": True, "channel_pay_id": channel_pay_id,
                "updated_at": now, "message": "paid at the channel after it was closed; refunded"},
                states=(CLOSED,)) == 1:
            await ledger_trade.record_payment(conn, p.app_id, p.payment_id, now)
            await store.mark_late(conn, p.app_id, p.order_id, now)
            log.error("attempt %s was paid after it was closed: kept as a late payment, to be refunded",
                      p.payment_id)


# ------------------------------------------------------------------ paying


def _answer(order: Order, p: Payment, *, joined: bool = False) -> dict[str, Any]:
    """The pay answer for an attempt as it stands: the seed's `pay` detail plus errNo for error outcomes; a live
    attempt says `pending` (with the channel's action, if it gave one) or raises PAYMENT_PENDING. `joined`: this
    pay found the attempt of an earlier pay (the answer names it: paymentId)."""
    base: dict[str, Any] = {"status": "success", "orderId": order.order_id, "outOrderNo": order.out_order_no,
                            "outcome": p.outcome, "late": bool(p.late)}
    if joined:
        base["paymentId"] = p.payment_id
    if p.state in LIVE:
        action = json.loads(p.action) if p.action else None
        if p.state == UNKNOWN or action is None:
            raise TradeError("PAYMENT_PENDING", f"payment {p.payment_id} is {p.state}", paymentId=p.payment_id)
        base["result"] = {"orderId": order.order_id, "pending": True, "action": action, "paymentId": p.payment_id}
        return base
    outcome = Outcome(p.outcome) if p.outcome in Outcome.__members__ else Outcome.FAIL
    if p.state == CLOSED and outcome not in PAY_CODES:
        outcome = Outcome.TIMEOUT  # closed by the reconciler: the buyer never paid at the channel
    base["result"] = {"code": PAY_CODES[outcome], "orderId": order.order_id}
    if p.late:
        base["result"]["code"] = PAY_CODES[Outcome.FAIL]
        base["result"]["errMsg"] = "the order ended before the payment; the payment will be refunded"
    err = ERROR_NAMES.get(outcome)
    if err:
        e = TradeError(err)
        base["errNo"] = e.spec.err_no
        base["errMsg"] = e.text("zh-CN")
        base["result"]["errMsg"] = e.text("zh-CN")
    return base


class _NotPayable(Exception):
    """Rolls back an attempt written for an order that stopped being payable."""


async def _open_attempt(ctx: Ctx, order: Order, new: Payment) -> Payment | None:
    """INSERT the PROCESSING attempt; the partial unique index is the guard. None: written (go on and charge);
    else the live attempt that was there first (answer with it)."""
    now = new.created_at
    for _ in range(3):
        try:
            async with ctx.db.tx() as conn:
                await conn.execute(store.INSERT_PAYMENT, asdict(new))
                # ... and the order is still payable, in the same transaction: an attempt that ended (paid) just
                # before our INSERT freed the index, but its order is paid now. The guarded update locks the
                # order row, so it waits for a settlement in flight and then sees it.
                if not await store.lock_if_payable(conn, order.app_id, order.order_id, now):
                    raise _NotPayable
            return None
        except _NotPayable:
            async with ctx.db.engine.connect() as conn:
                now_row = await store.order_row(conn, order.app_id, order.order_id)
            assert now_row is not None
            if now_row.status == OrderStatus.SUCCESS:
                raise TradeError("CONTINUE_PAY_PARAM_INVALID", "the order is already paid",
                                 paymentId=now_row.payment_id) from None
            raise not_payable(replace(order, status=now_row.status), now) from None
        except IntegrityError:
            async with ctx.db.engine.connect() as conn:
                live = await live_attempt(conn, order.app_id, order.order_id)
            if live is not None:
                return live
            # the live attempt ended between our INSERT and this read: try once more
    raise TradeError("ORDER_STATUS_CONFLICT", "the payment changed meanwhile; try again")


async def pay(ctx: Ctx, app_id: str, open_id: str, order_ref: str, *, channel: str, scenario: str | None = None,
              client: Literal["desktop", "phone", "wechat"] = "desktop", client_ip: str = "127.0.0.1",
              base_url: str = "", return_to: str = "", payer_openid: str = "") -> dict[str, Any]:
    """Pay through an attempt: written first, then the channel (keyed by the attempt id), then the answer written
    by a guarded update. A pay while an attempt is live answers with that attempt, never a second charge."""
    app = await ctx.app(app_id)
    if channel not in PAY_CHANNELS or channel not in app["channels"]:
        raise TradeError("PAYMENT_CHANNEL_INVALID", channel)
    order, _ = await buyer_order(ctx, app_id, open_id, order_ref)
    now = ctx.clock.now_ms()
    if order.status == OrderStatus.SUCCESS:
        async with ctx.db.engine.connect() as conn:
            paid_by = await store.paid_by(conn, app_id, order.order_id)
        raise TradeError("CONTINUE_PAY_PARAM_INVALID", "the order is already paid", paymentId=paid_by)
    if order.status not in UNPAID or order.pre_order_status != PreOrder.OK or order.pay_expire_at <= now:
        raise not_payable(order, now)
    cashier = ctx.cashier_for(app, channel)
    pid = ids.payment_id()
    lease = int(ctx.settings.payment_call_lease_seconds * 1000)
    new = Payment(payment_id=pid, order_id=order.order_id, app_id=app_id, channel=channel,
                  pay_channel=PAY_CHANNELS[channel], amount=order.payable, outcome=Outcome.UNKNOWN.value,
                  channel_pay_id=None, late=False, created_at=now, updated_at=now, state=PROCESSING,
                  provider=cashier.name, action=None, message=None, next_check_at=now + lease, checks=0)
    live = await _open_attempt(ctx, order, new)
    if live is not None:
        return _answer(order, live, joined=True)
    base = (ctx.settings.public_url or base_url).rstrip("/")
    req = ChargeRequest(
        out_trade_no=pid, order_id=order.order_id, amount=order.payable,
        description=str(order.snapshot()["name"])[:100], channel=channel, scenario=scenario, client=client,
        client_ip=client_ip,
        return_url=return_to or f"{base}/pages/cashier?app_id={app_id}&order={order.order_id}&returned=1",
        notify_url=f"{base}/pay/notify/{cashier.name}/{app_id}", expire_at_ms=order.pay_expire_at,
        payer_openid=payer_openid or open_id, profit_sharing=await _sharing_possible(ctx, cashier.name))
    try:
        charge = await cashier.charge(req)
    except TradeError as e:  # the channel refused the request itself (nothing was charged)
        await _write(ctx, new, ChargeResult(Outcome.FAIL, None, e.text("en")))
        raise
    except Exception as e:  # timeout, connection error: the money may have moved; the reconciler asks
        log.warning("attempt %s: the channel did not answer (%s); left for the reconciler", pid, type(e).__name__)
        charge = ChargeResult(Outcome.UNKNOWN, None, f"channel error: {type(e).__name__}")
    if ctx.settings.test_crash_after_charge and charge.outcome is Outcome.SUCCESS:
        log.critical("PAYBUTTON_TEST_CRASH_AFTER_CHARGE: exiting after the channel's answer, before writing it")
        os._exit(86)  # the test hook of test_pay_crash.py: a crash between the channel's answer and the write
    p = await _write(ctx, new, charge)
    answer = _answer(order, p)
    if charge.unavailable:  # nothing reached the channel: the cashier offers the other channels at once
        answer["channelUnavailable"] = channel
    return answer


async def _write(ctx: Ctx, new: Payment, charge: ChargeResult) -> Payment:
    """Write the channel's answer to the attempt (guarded: only while it is live) and return the attempt."""
    app_id, pid = new.app_id, new.payment_id
    now = ctx.clock.now_ms()
    settled: Settled | None = None
    async with ctx.db.tx() as conn:
        p = await attempt_row(conn, app_id, pid)
        assert p is not None
        if p.state in LIVE:
            if charge.outcome is Outcome.SUCCESS:
                settled = await _settle_in(conn, ctx, p, paid=True, channel_pay_id=charge.channel_pay_id, outcome=None,
                                 message=charge.message)
            elif charge.outcome in (Outcome.PENDING, Outcome.UNKNOWN):
                action = None if charge.action is None else json.dumps(
                    {"kind": charge.action.kind, "url": charge.action.url,
                     **({"params": dict(charge.action.params)} if charge.action.params else {})},
                    separators=(",", ":"))
                state = PROCESSING if charge.outcome is Outcome.PENDING and action else UNKNOWN
                await store.set_attempt(conn, app_id, pid, {
                    "state": state, "outcome": charge.outcome.value, "action": action,
                    "channel_pay_id": charge.channel_pay_id, "message": charge.message or None, "updated_at": now,
                    "next_check_at": now + FIRST_CHECK_MS}, states=LIVE)
            else:
                await _settle_in(conn, ctx, p, paid=False, channel_pay_id=None, outcome=charge.outcome.value,
                                 message=charge.message)
        got = await attempt_row(conn, app_id, pid)
    assert got is not None
    _count(new.channel, charge.outcome.value, settled)
    return got


async def _sharing_possible(ctx: Ctx, provider: str) -> bool:
    """WeChat Pay: a payment may be profit-shared only when made with settle_info.profit_sharing (settle/sharing.py),
    asked for while some receiver has a WeChat account registered."""
    if provider != "wechatpay":
        return False
    async with ctx.db.engine.connect() as conn:
        q = select(receivers.c.merchant_uid).where(receivers.c.wechat_account.is_not(None)).limit(1)
        return (await conn.execute(q)).first() is not None
