"""What `paybutton reconcile` and the console's Reconciliation page show: a day's runs with their counts and sums
per class, the lines that did not simply match (what broke, what was done), and the breaks still open."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.recon import store

CLASSES = ("matched", "long", "short", "diff")


def line_view(r: Row[Any]) -> dict[str, Any]:
    m = r._mapping
    return {k: m[k] for k in ("id", "kind", "klass", "out_trade_no", "out_refund_no", "channel_amount", "our_amount",
                              "channel_status", "our_status", "action", "state", "note")}


def run_view(run: Row[Any], lines: list[Row[Any]]) -> dict[str, Any]:
    m = run._mapping
    return {"channel": m["channel"], "date": m["bill_date"], "state": m["state"], "problem": m["problem"],
            "message": m["message"], "tries": m["tries"], "bill_lines": m["bill_lines"],
            "counts": {k: m[k] for k in CLASSES}, "amounts": {k: m[f"{k}_amount"] for k in CLASSES},
            "breaks_at_finish": m["breaks"], "lines": [line_view(r) for r in lines]}


async def day_report(conn: AsyncConnection, app_id: str, day: str) -> dict[str, Any]:
    """The day's runs (every channel) and the app's breaks still open (any day)."""
    runs = [r for r in await store.runs_of(conn, app_id, limit=1000) if r.bill_date == day]
    out = [run_view(r, await store.lines_of(conn, r.run_id)) for r in runs]
    open_ = await store.open_lines(conn, app_id)
    return {"app_id": app_id, "date": day, "runs": out,
            "open_breaks": [{**line_view(r), "date": r.bill_date, "channel": r.channel}
                            for r in open_ if r.state == "break"],
            "pending": sum(r.state == "pending" for r in open_)}


async def recent_runs(conn: AsyncConnection, app_id: str, limit: int = 30) -> list[dict[str, Any]]:
    return [run_view(r, []) for r in await store.runs_of(conn, app_id, limit)]

