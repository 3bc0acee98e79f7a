"""The console's Reconciliation page: one day (Beijing) of the app's reconciliation with its channels' bills: per
channel the counts and sums per class, a bill that could not be had (and why), the lines that did not simply match
with what was done, and the breaks still open of any day. The runs themselves are recon/'s (worker and CLI)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.responses import HTMLResponse, Response

from paybutton.console.deps import SignedIn, console_router
from paybutton.recon import views
from paybutton.recon.bill import beijing_now, parse_day

router = console_router()


def why(line: dict[str, Any]) -> str:
    """The text key of why a line did not simply match."""
    if line["klass"] == "long":
        return "rc_w_unknown" if line["action"] == "none" else "rc_w_unpaid"
    if line["klass"] == "short":
        return "rc_w_missing"
    if line["our_amount"] is None:
        return "rc_w_norefund"
    return "rc_w_amount" if line["our_amount"] != line["channel_amount"] else "rc_w_status"


@router.get("/console/recon", response_class=HTMLResponse)
async def recon_page(c: SignedIn) -> Response:
    async with c.ctx.db.engine.connect() as conn:
        recent = await views.recent_runs(conn, c.app_id)
        asked = c.query.get("date", "")[:10]
        try:
            day = parse_day(asked).isoformat()
        except ValueError:
            day = recent[0]["date"] if recent else (beijing_now(c.ctx.clock.now_ms()).date()
                                                    - timedelta(days=1)).isoformat()
        rep = await views.day_report(conn, c.app_id, day)
    for r in rep["runs"]:
        for ln in r["lines"]:
            ln["why"] = why(ln)
    for ln in rep["open_breaks"]:
        ln["why"] = why(ln)
    days = sorted({r["date"] for r in recent}, reverse=True)
    return c.render("recon.html", nav="recon", rep=rep, day=day, days=days, classes=views.CLASSES,
                    none_text=c.t["rc_none"].format(hour=c.ctx.settings.recon_hour_beijing, app=c.app_id, day=day))
