"""The console's money pages (issue 21): the dashboard's balances and charts, and the Statement page per Beijing
day or month (the same figures and ledger lines as `paybutton statement`, with its CSV)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from fastapi.responses import HTMLResponse, Response

from paybutton.clock import BEIJING
from paybutton.console import forms, money_queries
from paybutton.console.charts import Chart, chart
from paybutton.console.deps import SignedIn, console_router
from paybutton.console.page import Console, choice
from paybutton.ledger.statement import Statement, line_row
from paybutton.ledger.statement_csv import to_csv

router = console_router()


async def dashboard_money(c: Console) -> dict[str, Any]:
    """What the dashboard adds: the balances, and the four charts of the span asked for (?span=24h|7d|30d)."""
    span = choice(c.query.get("span", ""), money_queries.SPANS) or "24h"
    w, series = await money_queries.series(c.ctx, c.app_id, span)
    labels = [w.label(i) for i in range(w.count)]

    def show_yuan(fen: int) -> str:
        return "¥" + forms.fen_to_yuan(fen)

    charts: list[Chart] = [chart(name, c.t["c_" + name], labels, values, str if name == "orders" else show_yuan)
                           for name, values in series.items()]
    return {"balances": await money_queries.balances(c.ctx, c.app_id), "charts": charts, "span": span,
            "spans": money_queries.SPANS}


def _period(c: Console) -> tuple[dt.date, dt.date, str, str] | None:
    """(first day, last day, kind, value) of ?day=YYYY-MM-DD or ?month=YYYY-MM; today (Beijing) by default;
    None when the address names neither properly."""
    day, month = c.query.get("day", ""), c.query.get("month", "")
    try:
        if month:
            first = dt.date.fromisoformat(month[:7] + "-01")
            if len(month) != 7:
                return None
            last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
            return first, last, "month", month
        d = dt.date.fromisoformat(day) if day else dt.datetime.fromtimestamp(c.ctx.clock.now_ms() / 1000,
                                                                             BEIJING).date()
    except ValueError:
        return None
    return d, d, "day", d.isoformat()


def _neighbours(first: dt.date, last: dt.date, kind: str) -> tuple[str, str]:
    if kind == "month":
        before = (first - dt.timedelta(days=1)).strftime("%Y-%m")
        after = (last + dt.timedelta(days=1)).strftime("%Y-%m")
        return "?" + urlencode({"month": before}), "?" + urlencode({"month": after})
    return ("?" + urlencode({"day": (first - dt.timedelta(days=1)).isoformat()}),
            "?" + urlencode({"day": (first + dt.timedelta(days=1)).isoformat()}))


async def _statement(c: Console, first: dt.date, last: dt.date) -> Statement:
    return await money_queries.statement_of(c.ctx, c.app_id, first, last)


@router.get("/console/statement", response_class=HTMLResponse)
async def statement_page(c: SignedIn) -> Response:
    period = _period(c)
    status, error = 200, ""
    if period is None:
        status, error = 400, c.t["bad_period"]
        today = dt.datetime.fromtimestamp(c.ctx.clock.now_ms() / 1000, BEIJING).date()
        period = (today, today, "day", today.isoformat())
    first, last, kind, value = period
    st = await _statement(c, first, last)
    prev_link, next_link = _neighbours(first, last, kind)
    return c.render("statement.html", status, nav="statement", st=st, f=st.figures(), kind=kind, value=value,
                    rows=[line_row(line) for line in st.lines], error=error, prev_link=prev_link,
                    next_link=next_link, csv_link="/console/statement.csv?" + urlencode({kind: value}))


@router.get("/console/statement.csv")
async def statement_csv(c: SignedIn) -> Response:
    period = _period(c)
    if period is None:
        return c.not_found()
    first, last, _, value = period
    body = to_csv(await _statement(c, first, last), c.lang)
    name = f"statement-{c.app_id}-{value}.csv"
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
