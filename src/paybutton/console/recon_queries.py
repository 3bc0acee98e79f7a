"""The Reconciliation page's reads: the app's recent runs and one day's report (recon/views.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from paybutton.context import Ctx
from paybutton.recon import views
from paybutton.recon.bill import beijing_now, parse_day


async def day_page(ctx: Ctx, app_id: str, asked: str) -> tuple[str, list[str], dict[str, Any]]:
    """The day shown (the one asked for, else the latest run's, else yesterday), the recent days, its report."""
    async with ctx.db.engine.connect() as conn:
        recent = await views.recent_runs(conn, app_id)
        try:
            day = parse_day(asked).isoformat()
        except ValueError:
            day = recent[0]["date"] if recent else (beijing_now(ctx.clock.now_ms()).date()
                                                    - timedelta(days=1)).isoformat()
        rep = await views.day_report(conn, app_id, day)
    return day, sorted({r["date"] for r in recent}, reverse=True), rep
