"""The one background-worker loop: the order-expiry sweeper, the refund worker, the callback dispatcher and the
payment reconciler are each a `step` run by `run_every`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("paybutton.workers")


async def run_every(
    name: str,
    step: Callable[[], Awaitable[bool]],
    interval: Callable[[], float],
    stop: asyncio.Event | None = None,
) -> None:
    """Run `step` until `stop` is set (forever without one).

    `step` returns True when it may have left work behind (a full batch): it then runs again at once, after
    one turn of the event loop. Otherwise the loop waits `interval()` seconds, or until `stop` is set. An
    exception in `step` is logged under `name` and the loop goes on (a database hiccup must not stop a
    worker for good); cancellation ends it."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            more = await step()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: step failed; retrying", name)
            more = False
        if more:
            await asyncio.sleep(0)
            continue
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval()):  # not wait_for: see end_task
                await stop.wait()


async def end_task(task: asyncio.Task[Any]) -> None:
    """Cancel `task` and wait until it has ended. On Python 3.11 `asyncio.wait_for` drops a cancellation that
    arrives as the awaited call finishes (fixed in 3.12, which builds it on asyncio.timeout), so one cancel() may
    be lost by a loop that uses it: cancel again until the task is done."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=1)
    if not task.cancelled() and task.exception() is not None:
        log.warning("%s ended with %r", task.get_name(), task.exception())
