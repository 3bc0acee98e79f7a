"""The console's callbacks: the log and the attempts (filtered as outbox.CallbackFilter / AttemptFilter say),
one callback, replaying a dead letter and sending a test callback (through callbacks.ops, as the API and the CLI
do)."""

from __future__ import annotations

from typing import Any, Unpack

from paybutton.callbacks import ops, targets
from paybutton.callbacks.outbox import AttemptFilter, CallbackFilter
from paybutton.console.queries import PAGE
from paybutton.context import Ctx


async def callbacks_page(ctx: Ctx, app_id: str, cursor: int | None, **flt: Unpack[CallbackFilter]) -> dict[str, Any]:
    async with ctx.db.engine.connect() as conn:
        return await ops.list_callbacks(conn, app_id, limit=PAGE, cursor=cursor, **flt)


async def attempts_page(ctx: Ctx, app_id: str, cursor: int | None, **flt: Unpack[AttemptFilter]) -> dict[str, Any]:
    async with ctx.db.engine.connect() as conn:
        return await ops.list_attempts(conn, app_id, limit=PAGE, cursor=cursor, **flt)


async def get_callback(ctx: Ctx, app_id: str, callback_id: int) -> dict[str, Any]:
    """One of the app's callbacks with its attempts, and `next_url`: where its next attempt (or a replay) goes, the
    app's URL as it is now; CALLBACK_NOT_FOUND otherwise."""
    async with ctx.db.engine.connect() as conn:
        cb = await ops.get_callback(conn, app_id, callback_id)
        (cb["next_url"],) = await targets.urls_now(conn, [targets.QueuedRow(app_id, cb["type"], cb["url"],
                                                                             cb["refund_id"])])
    return cb


async def replay(ctx: Ctx, app_id: str, callback_id: int) -> None:
    async with ctx.db.tx() as conn:
        await ops.replay(conn, ctx.clock, app_id, callback_id)


async def send_test(ctx: Ctx, app_id: str, target: str) -> int:
    """Queue a signed test callback to the app's URL for `target`; its id."""
    async with ctx.db.tx() as conn:
        return await ops.send_test_callback(conn, ctx.clock, app_id, target)
