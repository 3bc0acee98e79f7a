"""Automatic settles (issue 21), one step of the worker loop (workers.py): every sweep, the paid orders of apps that
settle `verify` (核销 D+N: once every unit is redeemed or refunded, N Beijing calendar days after the last
redemption) or `pay` (支付 D+N after payment) are settled whole when due, with the `settle` callback's
`is_auto_settle: true`.

Safe with several instances: an order's automatic settle has the out_settle_no `auto-<order_id>` (unique per app),
and each unit's money is taken by a guarded update, so a second instance finds it done and writes nothing."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import IntegrityError

from paybutton.context import Ctx, sweep_every
from paybutton.errors import TradeError
from paybutton.order import store as order_store
from paybutton.settle import rules, sharing, store
from paybutton.settle.creating import SettleRequest, create_settle

log = logging.getLogger("paybutton.settle")


async def run_auto_settler(ctx: Ctx, stop: asyncio.Event | None = None) -> None:
    """settle_due every sweep interval, forever (or until `stop`); errors are logged and the loop goes on."""
    await sweep_every(ctx, "auto settler", settle_due, stop)


async def settle_due(ctx: Ctx, limit: int = 100) -> int:
    """One sweep: how many orders were settled."""
    async with ctx.db.engine.connect() as conn:  # a sweep over every app (multi-shard on Citus by nature)
        due = [(r.app_id, r.order_id) for r in await conn.execute(store.auto_candidates(limit, ctx.clock.now_ms()))]
    settled = 0
    for app_id, order_id in due:
        try:
            settled += await settle_one(ctx, app_id, order_id)
        except (TradeError, IntegrityError) as e:  # another instance settled it first, or it changed meanwhile
            log.info("order %s: no automatic settle (%s)", order_id, getattr(e, "name", type(e).__name__))
        except Exception:
            log.exception("order %s: the automatic settle failed", order_id)
    return settled


async def settle_one(ctx: Ctx, app_id: str, order_id: str) -> int:
    """Settle the order now if its app's rule says it is due: 1 when a settle was written, else 0."""
    async with ctx.db.tx() as conn:
        order = await order_store.order_row(conn, app_id, order_id)
        if order is None:
            return 0
        app = await ctx.app_in(conn, order.app_id)
        units = await store.units(conn, app_id, order_id)
        if not rules.auto_due(app["settle_mode"], app["settle_days"], order.paid_at, units, ctx.clock.now_ms()):
            return 0
        out_no = f"auto-{order_id}"
        if await store.by_out_settle_no(conn, order.app_id, out_no) is not None:
            return 0
        row = await create_settle(conn, ctx, order, SettleRequest(out_settle_no=out_no, settle_desc="自动结算",
                                                                   auto=True))
    await sharing.kick(ctx, app_id, row.settle_id)  # after the commit: the receivers' shares through the channel
    return 1
