"""Background jobs inside `serve` and `demo`: the order-expiry sweeper, the callback dispatcher, the refund
worker, the payment reconciler, the automatic settles (settle/auto.py) and the channel shares (settle/sharing.py).
All are safe with several instances on one database (guarded updates; leased, SKIP LOCKED claims)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket

from paybutton.callbacks.dispatcher import release_claims, run_dispatcher
from paybutton.context import Ctx, sweep_every
from paybutton.loop import end_task
from paybutton.order import ending as orders
from paybutton.order.reconcile import run_reconciler
from paybutton.recon.running import run_reconciliation
from paybutton.refund import worker as refunds
from paybutton.settle.auto import run_auto_settler
from paybutton.settle.sharing import run_share_worker

log = logging.getLogger("paybutton.workers")


async def run_sweeper(ctx: Ctx, stop: asyncio.Event | None = None) -> None:
    """Time out unpaid orders past their deadline, forever (or until `stop`)."""

    async def sweep(ctx: Ctx) -> int:
        ended = await orders.expire_due(ctx)
        if ended:
            log.info("timed out %d unpaid orders", ended)
        return ended

    await sweep_every(ctx, "expiry sweeper", sweep, stop)


def worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


class Workers:
    """The background jobs of one process, and their graceful stop."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.stop_event = asyncio.Event()
        self.worker_id = worker_id()
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        ctx, stop = self.ctx, self.stop_event
        self.tasks = [
            asyncio.create_task(run_sweeper(ctx, stop), name="paybutton-sweeper"),
            asyncio.create_task(run_dispatcher(ctx, worker_id=self.worker_id, stop=stop), name="paybutton-dispatcher"),
            asyncio.create_task(refunds.run_refund_worker(ctx, stop), name="paybutton-refunds"),
            asyncio.create_task(run_reconciler(ctx, stop), name="paybutton-reconciler"),
            asyncio.create_task(run_reconciliation(ctx, stop), name="paybutton-recon"),
            asyncio.create_task(run_auto_settler(ctx, stop), name="paybutton-settler"),
            asyncio.create_task(run_share_worker(ctx, stop), name="paybutton-shares"),
        ]

    async def stop(self, grace_s: float) -> None:
        """Let each job finish the step it is in (up to `grace_s`), cancel what is left, then hand this worker's
        callback claims back (another instance takes them at once, not after their lease). Every step is
        written to be cut anywhere: a payment attempt or a refund left mid-way is settled by the reconciler or
        the refund worker of any instance; a callback sent and not yet settled is sent again (at least once)."""
        self.stop_event.set()
        if self.tasks:
            _, late = await asyncio.wait(self.tasks, timeout=grace_s)
            for t in late:
                await end_task(t)
            await asyncio.gather(*self.tasks, return_exceptions=True)
            if late:
                log.warning("shutdown: %s cut after %.1f s", ", ".join(t.get_name() for t in late), grace_s)
        try:
            released = await release_claims(self.ctx, self.worker_id)
        except Exception:
            log.exception("shutdown: could not hand back the callback claims; their lease runs out instead")
            return
        if released:
            log.info("shutdown: %d callback claims handed back", released)
