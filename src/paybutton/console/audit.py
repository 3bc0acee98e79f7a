"""The console's audit page: the signed-in app's audit trail (paybutton/audit), newest first, 20 a page, filtered
by action and by a date range in Beijing time."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from fastapi.responses import HTMLResponse, Response

from paybutton.clock import BEIJING
from paybutton.console import audit_queries
from paybutton.console.deps import SignedIn, console_router
from paybutton.console.page import number, pager
from paybutton.console.queries import PAGE, page_of

router = console_router()


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def _ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=BEIJING).timestamp() * 1000)


def shown(value: Any) -> str:
    """A before/after value as the page shows it: compact JSON, '' for nothing."""
    return "" if value is None else json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


@router.get("/console/audit", response_class=HTMLResponse)
async def audit_page(c: SignedIn) -> Response:
    action, start, end = c.query.get("action", ""), _day(c.query.get("from", "")), _day(c.query.get("to", ""))
    page_no = number(c.query.get("page"), 1)
    actions, action, rows = await audit_queries.audit_page(
        c.ctx, c.app_id, action, since_ms=_ms(start) if start else None,
        until_ms=_ms(end + timedelta(days=1)) if end else None, limit=PAGE + 1, offset=(page_no - 1) * PAGE)
    for r in rows:
        r["before_text"], r["after_text"] = shown(r["before"]), shown(r["after"])
    start_s, end_s = start.isoformat() if start else "", end.isoformat() if end else ""
    labels = {a: c.t.get("act_" + a, a) for a in actions}  # an action the console has no words for: its name
    return c.render("audit.html", nav="audit_trail", page=page_of(rows, page_no), actions=labels, action=action,
                    date_from=start_s, date_to=end_s,
                    link=pager({"action": action, "from": start_s, "to": end_s}))
