"""`paybutton audit`: the audit trail of one app (or of every app), newest first, filtered like the console's."""

from __future__ import annotations

import json
from typing import Any

import typer

from paybutton import clikit
from paybutton.audit import reading
from paybutton.cli.goods import parse_time
from paybutton.clikit import DatabaseOpt, JsonFlag
from paybutton.db import Database
from paybutton.errors import TradeError


def _line(e: dict[str, Any]) -> str:
    change = ""
    if e["before"] is not None or e["after"] is not None:
        change = (f"  {json.dumps(e['before'], ensure_ascii=False)} -> "
                  f"{json.dumps(e['after'], ensure_ascii=False)}")
    return f"{clikit.beijing_time(e['at'])}  {e['app_id']}  {e['actor']}  {e['action']}  {e['target']}{change}"


def _human(rows: list[dict[str, Any]]) -> str:
    return "\n".join(_line(e) for e in rows) if rows else "no audit entries"


def audit_cmd(
    app_id: str | None = typer.Option(None, "--app", help="the app (default: every app, and the platform's '*')"),
    action: str | None = typer.Option(None, help="one action (goods.update), or a prefix ending in '.' (goods.)"),
    since: str | None = typer.Option(None, help="from this time (ISO-8601, Beijing time without an offset)"),
    until: str | None = typer.Option(None, help="before this time"),
    limit: int = typer.Option(50, min=1, max=reading.MAX_PAGE),
    offset: int = typer.Option(0, min=0),
    as_json: bool = JsonFlag,
    database: str | None = DatabaseOpt,
) -> None:
    """Print the audit trail: who changed what (console, CLI, OpenAPI), when, before and after (secrets masked)."""
    try:
        f = reading.Filter(app_id=app_id, action=action,
                           since_ms=parse_time(since, "--since") if since else None,
                           until_ms=parse_time(until, "--until") if until else None)
    except TradeError as e:
        clikit.fail_trade(e)

    async def go(db: Database) -> list[dict[str, Any]]:
        async with db.engine.connect() as conn:
            return await reading.entries(conn, f, limit=limit, offset=offset)

    clikit.out(clikit.run(database, go, app_id=app_id if app_id not in (None, "*") else None), as_json, _human)
