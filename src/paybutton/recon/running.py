"""One day's reconciliation for one app and channel, claimed once, and the worker step that runs yesterday's.

A run is a `recon_runs` row, unique per (app, channel, day). The first instance to insert it (or to move a FAILED
or abandoned RUNNING one on, by a compare-and-set on its state and tries) owns it; everyone else answers the row as
it stands. So a day run twice, or by two instances at once, acts once: a DONE day is only read back. A bill that
cannot be had (not made yet, not downloaded, a wrong hash, an unexpected format or encoding) changes nothing: the
run is FAILED with the reason and tried again RETRY_MS later (by the worker; `paybutton reconcile` retries at once).

Longs are settled through the existing paths before the lines are written (order/paying.settle for a live attempt,
the late-payment path of a channel notify for a closed one): both are guarded, so a crash in between and a re-run
settle nothing twice."""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from paybutton.cashier.base import NotifyEvent
from paybutton.cashier.registry import CHANNEL_OF, configured
from paybutton.context import Ctx
from paybutton.loop import run_every
from paybutton.order import paying
from paybutton.recon import alipay_bill, sandbox_bill, store, wechat_bill
from paybutton.recon.bill import Bill, BillProblem, beijing_now, day_bounds_ms
from paybutton.recon.matching import Books, Verdict, match, totals
from paybutton.tables import RECON_TOTALS, apps

log = logging.getLogger("paybutton.recon")

RUN_LEASE_MS = 10 * 60_000  # a RUNNING run whose instance died is free again after this
RETRY_MS = 30 * 60_000  # a FAILED day is tried again by the worker after this
CHECK_EVERY_SECONDS = 60.0


class DayNotOver(Exception):
    """The day asked for has not ended (Beijing time): there is no bill for it yet."""


def channels_of(ctx: Ctx, app: Any) -> list[str]:
    """The channels (providers) an app's money goes through: the sandbox (when this process's cashier is it), and
    WeChat Pay / Alipay when the app has their settings."""
    out = [ctx.cashier.name] if ctx.cashier.sandbox else []
    out += [p for ch, p in (("wechat", "wechatpay"), ("alipay", "alipay")) if configured(app, ch)]
    return out


async def _claim(ctx: Ctx, app_id: str, channel: str, day: str, *, retry_now: bool) -> str | None:
    """The claim token when this call owns the run now, else None (done, running elsewhere, or not due)."""
    now = ctx.clock.now_ms()
    token = secrets.token_hex(8)
    async with ctx.db.engine.connect() as conn:
        run = await store.run_row(conn, app_id, channel, day)
    if run is None:
        row = {"run_id": "rc" + secrets.token_hex(12), "app_id": app_id, "channel": channel, "bill_date": day,
               "state": "RUNNING", "lease_until": now + RUN_LEASE_MS, "claimed_by": token, "tries": 1,
               "created_at": now, "updated_at": now, **{k: 0 for k in RECON_TOTALS}}
        try:
            async with ctx.db.tx() as conn:
                await store.insert_run(conn, row)
            return token
        except IntegrityError:
            async with ctx.db.engine.connect() as conn:
                run = await store.run_row(conn, app_id, channel, day)
            if run is None:
                return None
    if run.state == "DONE" or (run.state == "RUNNING" and (run.lease_until or 0) > now):
        return None
    if run.state == "FAILED" and not retry_now and (run.next_try_at or 0) > now:
        return None
    async with ctx.db.tx() as conn:
        won = await store.claim(conn, run, {"state": "RUNNING", "lease_until": now + RUN_LEASE_MS,
                                            "claimed_by": token, "tries": run.tries + 1, "updated_at": now})
    return token if won else None




async def fetch_bill(ctx: Ctx, app: Any, channel: str, day: date) -> Bill:
    if channel in ("wechatpay", "alipay"):
        cfg = app["pay_secrets"].channel(CHANNEL_OF[channel])
        if cfg is None:
            raise BillProblem("download", f"the app has no {channel} settings any more")
        if channel == "wechatpay":
            return await wechat_bill.fetch(cfg, day, ctx.settings.wechatpay_timeout_seconds)
        return await alipay_bill.fetch(cfg, day, ctx.settings.alipay_timeout_seconds)
    start, end = day_bounds_ms(day)
    async with ctx.db.engine.connect() as conn:
        return await sandbox_bill.bill(conn, app["app_id"], channel, start, end)


async def _bill(ctx: Ctx, app: Any, channel: str, day: date) -> Bill:
    """The channel's bill; a day the channel says it had no trade on, and we hold nothing for, is an empty bill."""
    try:
        return await fetch_bill(ctx, app, channel, day)
    except BillProblem as e:
        if not e.no_trades:
            raise
        books = await _books(ctx, app["app_id"], channel, day, Bill(()))
        if list(books.day_pays) or list(books.day_refunds):
            raise
        return Bill(())


async def _books(ctx: Ctx, app_id: str, channel: str, day: date, bill: Bill) -> Books:
    start, end = day_bounds_ms(day)
    async with ctx.db.engine.connect() as conn:
        pays = await store.pays_by_id(conn, [ln.out_trade_no for ln in bill.lines if ln.kind == "pay"])
        refunds = await store.refunds_by_id(conn, [ln.out_refund_no for ln in bill.lines if ln.kind == "refund"])
        dp = await store.day_pays(conn, app_id, channel, start, end)
        dr = await store.day_refunds(conn, app_id, channel, start, end)
        seen = await store.seen_keys(conn, app_id, channel, day.isoformat(), [*dp, *dr])
    return Books(app_id, channel, {**pays, **dp}, {**refunds, **dr}, list(dp), list(dr), frozenset(seen))


async def _settle(ctx: Ctx, app_id: str, channel: str, day: date, v: Verdict, pay_id: str) -> Verdict:
    """A long payment through the existing path, once: a live attempt is settled paid (the order is paid, or the
    payment kept as late and refunded automatically if the order ended); a closed one takes the late-payment path
    of a channel notify."""
    async with ctx.db.engine.connect() as conn:
        p = (await store.pays_by_id(conn, [v.out_trade_no]))[v.out_trade_no]
    if p.state in paying.LIVE:
        await paying.settle(ctx, p.app_id, p.payment_id, paid=True, channel_pay_id=pay_id or None,
                            amount=v.channel_amount, source=f"bill {channel} {day.isoformat()}")
    else:
        ev = NotifyEvent("payment", p.payment_id, v.channel_amount, pay_id or None, paid=True)
        await paying.on_payment_notify(ctx, app_id, channel, ev)
    async with ctx.db.engine.connect() as conn:
        now = (await store.pays_by_id(conn, [v.out_trade_no]))[v.out_trade_no]
    if now.state != "SUCCESS":
        return replace(v, action="none", state="break", our_status=now.state,
                       note="the channel has it paid; settling it here did not take (see the attempt)")
    log.warning("recon %s %s: attempt %s was paid at the channel, held as %s here: settled (%s)", channel, day,
                p.payment_id, p.state, "late" if now.late else "paid")
    return replace(v, action="late" if now.late else "paid", our_status="SUCCESS" + (" late" if now.late else ""),
                   note="settled from the bill" + (": the order had ended, so it is refunded" if now.late else ""))


async def _finish(ctx: Ctx, run_id: str, token: str, app_id: str, channel: str, day: str,
                  verdicts: list[Verdict], bill_lines: int) -> None:
    now = ctx.clock.now_ms()
    t = totals(verdicts)
    shown = {v.key for v in verdicts if v.klass in ("matched", "long")}
    async with ctx.db.tx() as conn:
        earlier = await store.open_lines(conn, app_id, channel, before=day)
        found = [r.id for r in earlier if (r.out_refund_no or r.out_trade_no) in shown]
        missed = [r.id for r in earlier if r.state == "pending" and r.id not in found]
        await store.close_lines(conn, found, "resolved", now, f"shown in the bill of {day}")
        await store.close_lines(conn, missed, "break", now, f"not in the bill of {day} either")
        await store.write_lines(conn, run_id, app_id, verdicts)
        values: dict[str, Any] = {"state": "DONE", "problem": None, "message": None, "lease_until": None,
                                  "next_try_at": None, "bill_lines": bill_lines, "breaks": t.breaks,
                                  "updated_at": now, "finished_at": now}
        for k in t.counts:
            values[k], values[f"{k}_amount"] = t.counts[k], t.amounts[k]
        if not await store.set_run(conn, run_id, token, values):
            raise RuntimeError(f"recon run {run_id}: the claim was lost; nothing written")


async def run_day(ctx: Ctx, app_id: str, channel: str, day: date, *, retry_now: bool = True) -> bool:
    """Reconcile one app's channel for one Beijing day. True when this call ran it (False: done already, or
    another instance has it). A bill problem leaves the run FAILED with its reason (and is not raised)."""
    if day_bounds_ms(day)[1] > ctx.clock.now_ms():
        raise DayNotOver(f"{day} has not ended yet (Beijing time): its bill comes the next day")
    ds = day.isoformat()
    token = await _claim(ctx, app_id, channel, ds, retry_now=retry_now)
    if token is None:
        return False
    async with ctx.db.engine.connect() as conn:
        run = await store.run_row(conn, app_id, channel, ds)
    assert run is not None
    app = await ctx.app(app_id)
    try:
        bill = await _bill(ctx, app, channel, day)
    except BillProblem as e:
        now = ctx.clock.now_ms()
        log.warning("recon %s %s %s: %s", app_id, channel, ds, e)
        async with ctx.db.tx() as conn:
            await store.set_run(conn, run.run_id, token, {
                "state": "FAILED", "problem": e.kind, "message": e.message[:500], "lease_until": None,
                "next_try_at": now + RETRY_MS, "updated_at": now})
        return True
    books = await _books(ctx, app_id, channel, day, bill)
    ids = {ln.out_trade_no: ln.channel_id for ln in bill.lines if ln.kind == "pay"}
    verdicts = [await _settle(ctx, app_id, channel, day, v, ids.get(v.out_trade_no, ""))
                if v.action == "settle" else v for v in match(bill, books)]
    await _finish(ctx, run.run_id, token, app_id, channel, ds, verdicts, len(bill.lines))
    return True


async def reconcile_app(ctx: Ctx, app_id: str, day: date) -> None:
    """Every channel of the app for `day`, on demand (a FAILED day is tried again at once)."""
    app = await ctx.app(app_id)
    for channel in channels_of(ctx, app):
        await run_day(ctx, app_id, channel, day)


async def reconcile_due(ctx: Ctx) -> int:
    """The worker step: once the hour of the bills has come (Settings.recon_hour_beijing), yesterday's run of every
    app and channel that has none yet, or whose FAILED try is due again. Returns how many runs it made."""
    now = beijing_now(ctx.clock.now_ms())
    if now.hour < ctx.settings.recon_hour_beijing:
        return 0
    day = now.date() - timedelta(days=1)
    async with ctx.db.engine.connect() as conn:
        app_ids = [str(a) for (a,) in await conn.execute(select(apps.c.app_id).order_by(apps.c.app_id))]
    ran = 0
    for app_id in app_ids:
        app = await ctx.app(app_id)
        for channel in channels_of(ctx, app):
            try:
                ran += await run_day(ctx, app_id, channel, day, retry_now=False)
            except Exception:
                log.exception("recon %s %s %s failed; tried again later", app_id, channel, day)
    return ran


async def run_reconciliation(ctx: Ctx, stop: asyncio.Event | None = None) -> None:
    """reconcile_due every minute, forever (or until `stop`)."""

    async def step() -> bool:
        await reconcile_due(ctx)
        return False

    await run_every("reconciliation", step, lambda: CHECK_EVERY_SECONDS, stop)

