"""The console's Reconciliation page: one day (Beijing) of the app's reconciliation with its channels' bills: per
channel the counts and sums per class, a bill that could not be had (and why), the lines that did not simply match
with what was done, and the breaks still open of any day. The runs themselves are recon/'s (worker and CLI)."""

from __future__ import annotations

from typing import Any

from fastapi.responses import HTMLResponse, Response

from paybutton.console import recon_queries
from paybutton.console.deps import SignedIn, console_router
from paybutton.recon import views

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
    day, days, rep = await recon_queries.day_page(c.ctx, c.app_id, c.query.get("date", "")[:10])
    for ln in [*(ln for r in rep["runs"] for ln in r["lines"]), *rep["open_breaks"]]:
        ln["why"] = why(ln)
    return c.render("recon.html", nav="recon", rep=rep, day=day, days=days, classes=views.CLASSES,
                    none_text=c.t["rc_none"].format(hour=c.ctx.settings.recon_hour_beijing, app=c.app_id, day=day))
