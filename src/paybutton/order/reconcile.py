"""The payment reconciler: live attempts whose outcome is not known yet are settled by asking the channel.

A live attempt (PROCESSING or UNKNOWN) carries `next_check_at`. A pay sets it when it writes the attempt (the
call lease, Settings.payment_call_lease_seconds: a process that died mid-call leaves it for us) and again when the
channel answers PENDING or not at all (5 s later). Each check asks `cashier.query(out_trade_no)`:

- PAID -> settle(paid=True): the order is paid, or, if it ended meanwhile, the payment is kept and refunded;
- CLOSED -> settle(paid=False);
- WAITING with no trade at the channel (`absent`: Alipay's ACQ.TRADE_NOT_EXIST, a page never opened) after the
  attempt's deadline (the time_expire it was created with: the order's pay_expire_at) -> CLOSED: the trade can
  never be created now;
- WAITING on an order that ended -> `cashier.close`, then one more query: PAID (it slipped in) settles as a late
  payment, CLOSED closes the attempt;
- otherwise the next check, on the schedule SCHEDULE_SECONDS after each check (5 s, 10 s, 30 s, 1 min, 2 min,
  5 min), then every 10 minutes for as long as the attempt is live.

Safe with several instances: an instance claims a due attempt by moving its next_check_at forward with a guarded
update (compare-and-set on the value it read), and settle() itself is guarded, so one check settles it."""

from __future__ import annotations

import asyncio
import logging

from paybutton.cashier.base import Cashier, QueryResult, TradeState
from paybutton.context import Ctx, sweep_every
from paybutton.order import paying, store
from paybutton.order.states import UNPAID

log = logging.getLogger("paybutton.reconcile")

SCHEDULE_SECONDS = (5, 10, 30, 60, 120, 300)
THEN_EVERY_SECONDS = 600
CHECK_LEASE_MS = 60_000  # a claimed attempt is free again after this, should the checking instance die


def delay_ms(checks: int) -> int:
    """Milliseconds from check number `checks` (0-based) to the next one."""
    return (SCHEDULE_SECONDS[checks] if checks < len(SCHEDULE_SECONDS) else THEN_EVERY_SECONDS) * 1000


async def _claim(ctx: Ctx, app_id: str, payment_id: str, seen: int) -> bool:
    now = ctx.clock.now_ms()
    async with ctx.db.tx() as conn:
        won = await store.set_attempt(conn, app_id, payment_id, {"next_check_at": now + CHECK_LEASE_MS},
                                      states=paying.LIVE, next_check_at=seen)
    return won == 1


async def _next_check(ctx: Ctx, app_id: str, payment_id: str, checks: int, message: str) -> None:
    now = ctx.clock.now_ms()
    async with ctx.db.tx() as conn:
        await store.set_attempt(conn, app_id, payment_id, {
            "checks": checks + 1, "next_check_at": now + delay_ms(checks), "updated_at": now,
            "message": message[:500] or None},
                                states=paying.LIVE)


async def _ask(ctx: Ctx, cashier: Cashier, payment_id: str) -> QueryResult:
    try:
        return await cashier.query(payment_id)
    except Exception as e:  # the channel is down: ask again later
        log.warning("attempt %s: query failed (%s)", payment_id, type(e).__name__)
        return QueryResult(TradeState.UNKNOWN, message=f"query failed: {type(e).__name__}")


def _never_created(q: QueryResult, deadline_ms: int, now_ms: int) -> QueryResult:
    """A trade the channel never created, asked about after the attempt's time_expire, never will be: CLOSED."""
    if q.state is TradeState.WAITING and q.absent and deadline_ms <= now_ms:
        return QueryResult(TradeState.CLOSED, message=q.message or "never created at the channel; expired")
    return q


async def check(ctx: Ctx, app_id: str, payment_id: str) -> str:
    """Ask the channel about one live attempt and settle it when the answer is final. Returns what happened."""
    async with ctx.db.engine.connect() as conn:
        p = await store.attempt_row(conn, app_id, payment_id)
        order = await store.order_row(conn, app_id, p.order_id) if p is not None else None
    if p is None or order is None or p.state not in paying.LIVE:
        return "gone"
    app = await ctx.app(p.app_id)
    cashier = ctx.cashier_by_provider(app, p.provider)
    q = _never_created(await _ask(ctx, cashier, payment_id), order.pay_expire_at, ctx.clock.now_ms())
    ended = order.status not in UNPAID or order.pay_expire_at <= ctx.clock.now_ms()
    if q.state is TradeState.WAITING and ended:
        try:
            await cashier.close(payment_id)
        except Exception as e:
            log.warning("attempt %s: close failed (%s)", payment_id, type(e).__name__)
        q = _never_created(await _ask(ctx, cashier, payment_id), order.pay_expire_at, ctx.clock.now_ms())
        if q.state is TradeState.WAITING:
            q = QueryResult(TradeState.UNKNOWN, message="the order ended; the channel has not closed the trade yet")
    if q.state is TradeState.PAID:
        if await paying.settle(ctx, app_id, payment_id, paid=True, channel_pay_id=q.channel_pay_id, amount=q.amount,
                               source="reconciler"):
            return "paid"
    elif q.state is TradeState.CLOSED:
        if await paying.settle(ctx, app_id, payment_id, paid=False, channel_pay_id=None, amount=None,
                               source="reconciler", message=q.message or "closed at the channel"):
            return "closed"
    await _next_check(ctx, app_id, payment_id, p.checks, q.message or f"channel says {q.state.value}")
    return "later"


async def reconcile_due(ctx: Ctx, limit: int | None = None) -> int:
    """Check every live attempt whose next_check_at is due (the worker step). Returns how many were settled."""
    now = ctx.clock.now_ms()
    async with ctx.db.engine.connect() as conn:
        due = await store.due_attempts(conn, now, limit or ctx.settings.reconcile_batch)
    settled = 0
    for app_id, pid, seen in due:
        if not await _claim(ctx, app_id, pid, seen):
            continue  # another instance has it
        try:
            if await check(ctx, app_id, pid) in ("paid", "closed"):
                settled += 1
        except Exception:
            log.exception("attempt %s: reconcile failed; tried again after the lease", pid)
    return settled


async def run_reconciler(ctx: Ctx, stop: asyncio.Event | None = None) -> None:
    """reconcile_due every sweep interval, forever (or until `stop`); errors are logged and the loop goes on."""
    await sweep_every(ctx, "reconciler", reconcile_due, stop)
