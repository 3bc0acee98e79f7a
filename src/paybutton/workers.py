"""Background jobs inside `serve` and `demo`: the order-expiry sweeper, the callback dispatcher, the refund
worker, the payment reconciler and the automatic settles (settle/auto.py). All are safe with several instances on
one database (guarded updates; leased, SKIP LOCKED claims)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket

from paybutton.callbacks.dispatcher import run_dispatcher
from paybutton.context import Ctx
from paybutton.loop import run_every
from paybutton.order import ending as orders
from paybutton.order.reconcile import run_reconciler
from paybutton.refund import worker as refunds
from paybutton.settle.auto import run_auto_settler

log = logging.getLogger("paybutton.workers")


async def run_sweeper(ctx: Ctx, stop: asyncio.Event | None = None) -> None:
    """Time out unpaid orders past their deadline, forever (or until `stop`)."""

    async def step() -> bool:
        ended = await orders.expire_due(ctx)
        if ended:
            log.info("timed out %d unpaid orders", ended)
        return ended > 0

    await run_every("expiry sweeper", step, lambda: ctx.settings.sweep_interval_seconds, stop)


def worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def start(ctx: Ctx) -> list[asyncio.Task[None]]:
    return [
        asyncio.create_task(run_sweeper(ctx), name="paybutton-sweeper"),
        asyncio.create_task(run_dispatcher(ctx, worker_id=worker_id()), name="paybutton-dispatcher"),
        asyncio.create_task(refunds.run_refund_worker(ctx), name="paybutton-refunds"),
        asyncio.create_task(run_reconciler(ctx), name="paybutton-reconciler"),
        asyncio.create_task(run_auto_settler(ctx), name="paybutton-settler"),
    ]
