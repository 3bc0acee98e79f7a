"""Profit sharing on the real channels (issue 20): where the order was paid through WeChat Pay or Alipay and a
settle names receivers, their shares go out through the channel's own profit sharing.

1. `plan`, in create_settle's transaction: one `channel_shares` row per such settle (out_order_no `sh<settle_id>`),
   PROCESSING and not sent; FAILED at once (with the reason) when a receiver has no account at that channel. The
   settle's own ledger txn is unchanged (the receivers are owed their shares).
2. `advance`, after the commit (never inside a transaction): the sharing request (WeChat Pay
   POST /v3/profitsharing/orders, Alipay alipay.trade.order.settle; the same out_order_no again is the same request
   at both), then queries (GET /v3/profitsharing/orders/{out_order_no}, alipay.trade.order.settle.query) until the
   channel says FINISHED or FAILED. The create_settle route and the automatic settles call it once; the worker
   (`run_share_worker`, workers.py) finishes what is left PROCESSING, on the payment reconciler's schedule
   (order/reconcile.delay_ms: 5 s, 10 s, 30 s, 1 min, 2 min, 5 min, then every 10 minutes). The channels share
   asynchronously (WeChat Pay's 请求分账: "此接口采用异步处理模式,即在接收到商户请求后,会先受理请求再异步处理,
   最终的分账结果可以通过查询分账接口获取", https://pay.wechatpay.cn/doc/v3/partner/4012690683; 查询分账结果,
   https://pay.wechatpay.cn/doc/v3/merchant/4012525210), so a share is asked about again later, not every sweep;
   a channel that did not answer is asked again on the same schedule. Safe with several instances: `advance`
   claims a share by moving its next_check_at forward (compare-and-set, as the reconciler claims an attempt), so
   one instance asks the channel per due check.
3. FINISHED: the guarded state change and the `share` ledger txn (receiver:<uid> +amount, channel:<provider>
   -amount: the money left our channel account for the receiver) in one transaction, idempotent by the channel's
   order id. FAILED: the channel's reason is kept, nothing posted.

WeChat Pay only lets a payment made with `settle_info.profit_sharing = true` be shared: paybutton asks for it on
every WeChat payment while some receiver has a WeChat account registered (order/paying.py). The last share of a
payment (no unit left to settle) unfreezes the rest (unfreeze_unsplit / royalty_finish)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton import ledger
from paybutton.cashier.base import ShareLine, ShareResult
from paybutton.context import Ctx, sweep_every
from paybutton.order.reconcile import CHECK_LEASE_MS, delay_ms
from paybutton.settle import rules
from paybutton.tables import channel_shares, payments, receivers

log = logging.getLogger("paybutton.settle.sharing")
PROCESSING, FINISHED, FAILED = "PROCESSING", "FINISHED", "FAILED"
ACCOUNT_COLUMN = {"wechatpay": "wechat_account", "alipay": "alipay_account"}


async def plan(conn: AsyncConnection, settle: dict[str, Any], shares: Sequence[rules.Share],
               kinds: dict[str, str | None], units_left: bool) -> None:
    """The channel_shares row of a settle whose order was paid through a real channel, when it names receivers."""
    mine = [s for s in shares if kinds.get(s.merchant_uid) == "receiver"]
    if not mine:
        return
    pay = (await conn.execute(select(payments.c.payment_id, payments.c.provider, payments.c.channel_pay_id).where(
        payments.c.app_id == settle["app_id"], payments.c.order_id == settle["order_id"],
        payments.c.state == "SUCCESS", payments.c.late.is_(False),
        payments.c.provider.in_(list(ACCOUNT_COLUMN))).limit(1))).first()
    if pay is None or not pay.channel_pay_id:
        return
    column = receivers.c[ACCOUNT_COLUMN[pay.provider]]
    accounts = dict((await conn.execute(select(receivers.c.merchant_uid, column).where(
        receivers.c.merchant_uid.in_([s.merchant_uid for s in mine])))).all())
    missing = [s.merchant_uid for s in mine if not accounts.get(s.merchant_uid)]
    now = settle["created_at"]
    await conn.execute(channel_shares.insert().values(
        out_order_no=f"sh{settle['settle_id']}", settle_id=settle["settle_id"], app_id=settle["app_id"],
        order_id=settle["order_id"], payment_id=pay.payment_id, channel=pay.provider,
        channel_pay_id=pay.channel_pay_id, amount=sum(s.amount for s in mine), finish=not units_left,
        receivers=json.dumps([{"merchant_uid": s.merchant_uid, "account": accounts.get(s.merchant_uid) or "",
                               "amount": s.amount} for s in mine], separators=(",", ":")),
        state=FAILED if missing else PROCESSING, sent=False, tries=0, created_at=now, updated_at=now,
        message=f"no {pay.provider} account registered for {', '.join(missing)} (paybutton receiver add "
                f"--{'wechat' if pay.provider == 'wechatpay' else 'alipay'}-account)" if missing else None))


async def share_of(conn: AsyncConnection, app_id: str, settle_id: str) -> Any:
    return (await conn.execute(select(channel_shares).where(channel_shares.c.app_id == app_id,
                                                            channel_shares.c.settle_id == settle_id))).first()


async def kick(ctx: Ctx, app_id: str, settle_id: str) -> None:
    """After a settle commits: send its channel share now, if it has one (a failure is left to the worker)."""
    try:
        async with ctx.db.engine.connect() as conn:
            row = await share_of(conn, app_id, settle_id)
        if row is not None and row.state == PROCESSING:
            await advance(ctx, app_id, row.out_order_no)
    except Exception:
        log.exception("settle %s: its channel share was not sent now; the worker sends it", settle_id)


async def advance(ctx: Ctx, app_id: str, out_order_no: str) -> str:
    """One step of a PROCESSING share whose check is due: the sharing request if not sent yet, else a query.
    Returns its state (PROCESSING, unasked, when it is not due or another instance has it)."""
    mine = and_(channel_shares.c.app_id == app_id, channel_shares.c.out_order_no == out_order_no)
    async with ctx.db.engine.connect() as conn:
        row = (await conn.execute(select(channel_shares).where(mine))).first()
    if row is None or row.state != PROCESSING:
        return row.state if row is not None else ""
    now = ctx.clock.now_ms()
    if row.next_check_at > now:
        return PROCESSING
    async with ctx.db.tx() as conn:  # the claim: should this instance die while asking, the lease frees it
        claimed = await conn.execute(update(channel_shares).where(
            mine, channel_shares.c.state == PROCESSING, channel_shares.c.next_check_at == row.next_check_at)
            .values(next_check_at=now + CHECK_LEASE_MS))
    if claimed.rowcount != 1:
        return PROCESSING
    cashier: Any = ctx.cashier_by_provider(await ctx.app(row.app_id), row.channel)
    if not row.sent:
        lines = [ShareLine(r["account"], int(r["amount"]), f"分账给{r['merchant_uid']}"[:80])
                 for r in json.loads(row.receivers)]
        res: ShareResult = await cashier.share(out_order_no=row.out_order_no, channel_pay_id=row.channel_pay_id,
                                               lines=lines, finish=row.finish, names=await _names(ctx, row))
    else:
        res = await cashier.query_share(row.out_order_no, row.channel_pay_id)
    return await _record(ctx, row, res)


async def _names(ctx: Ctx, row: Any) -> dict[str, str]:
    """account -> the receiver's registered name (WeChat Pay's receiver `name` for a MERCHANT_ID)."""
    got = {r["merchant_uid"]: r["account"] for r in json.loads(row.receivers)}
    async with ctx.db.engine.connect() as conn:
        named = (await conn.execute(select(receivers.c.merchant_uid, receivers.c.name).where(
            receivers.c.merchant_uid.in_(list(got))))).all()
    return {got[uid]: name for uid, name in named}


async def _record(ctx: Ctx, row: Any, res: ShareResult) -> str:
    now = ctx.clock.now_ms()
    async with ctx.db.tx() as conn:
        mine = (channel_shares.c.app_id == row.app_id, channel_shares.c.out_order_no == row.out_order_no)
        done = await conn.execute(update(channel_shares).where(*mine, channel_shares.c.state == PROCESSING).values(
            state=res.state, sent=row.sent or (not res.unknown and res.state != FAILED),
            channel_order_id=res.channel_order_id or row.channel_order_id, message=res.message[:500] or None,
            tries=row.tries + 1, updated_at=now, next_check_at=now + delay_ms(row.tries)))
        if done.rowcount != 1:  # another instance recorded it first
            return str((await conn.execute(select(channel_shares.c.state).where(*mine))).scalar_one())
        if res.state == FINISHED:
            lines = []
            for r in json.loads(row.receivers):
                lines += [ledger.Line(ledger.receiver(r["merchant_uid"]), int(r["amount"]), order_id=row.order_id),
                          ledger.Line(ledger.channel(row.channel), -int(r["amount"]), order_id=row.order_id)]
            await ledger.post(conn, app_id=row.app_id, kind=ledger.SHARE,
                              ref_id=f"{row.channel}:{res.channel_order_id or row.out_order_no}", lines=lines,
                              at_ms=now, memo=f"settle {row.settle_id}")
    if res.state == FAILED:
        log.warning("channel share %s (settle %s) failed: %s", row.out_order_no, row.settle_id, res.message)
    return res.state


async def advance_due(ctx: Ctx, limit: int = 50) -> int:
    """One sweep: advance every PROCESSING share whose check is due; how many ended (FINISHED or FAILED). The sweep
    reads every app's shares (multi-shard on Citus by nature); each then moves by its app and number."""
    async with ctx.db.engine.connect() as conn:
        due = (await conn.execute(select(channel_shares.c.app_id, channel_shares.c.out_order_no).where(
            channel_shares.c.state == PROCESSING, channel_shares.c.next_check_at <= ctx.clock.now_ms())
            .order_by(channel_shares.c.next_check_at).limit(limit))).all()
    ended = 0
    for app_id, no in due:
        try:
            ended += await advance(ctx, app_id, no) != PROCESSING
        except Exception:
            log.exception("channel share %s: the step failed; tried again when its lease ends", no)
    return ended


async def run_share_worker(ctx: Ctx, stop: asyncio.Event | None = None) -> None:
    """advance_due every sweep interval, forever (or until `stop`)."""
    await sweep_every(ctx, "channel shares", advance_due, stop)
