"""The audit page's reads (paybutton/audit/reading.py) on one connection."""

from __future__ import annotations

from typing import Any

from paybutton.audit import reading
from paybutton.context import Ctx


async def audit_page(ctx: Ctx, app_id: str, action: str, *, since_ms: int | None, until_ms: int | None, limit: int,
                     offset: int) -> tuple[list[str], str, list[dict[str, Any]]]:
    """The app's actions, the action asked for (if it is one of them, else ""), and a page of its entries."""
    async with ctx.db.engine.connect() as conn:
        actions = await reading.actions(conn, app_id)
        action = action if action in actions else ""
        f = reading.Filter(app_id=app_id, action=action or None, since_ms=since_ms, until_ms=until_ms)
        rows = await reading.entries(conn, f, limit=limit, offset=offset)
    return actions, action, rows
