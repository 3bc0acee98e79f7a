"""Reading the audit trail: one app's rows (or every app's), newest first, filtered by action and time."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.tables import audit_log

MAX_PAGE = 200


@dataclass(frozen=True)
class Filter:
    app_id: str | None = None  # None: every app (the CLI without --app)
    action: str | None = None  # an exact action, or a prefix ending in "." ("goods." for every goods change)
    since_ms: int | None = None  # at >= since
    until_ms: int | None = None  # at < until


def _where(f: Filter) -> list[Any]:
    conds: list[Any] = []
    if f.app_id is not None:
        conds.append(audit_log.c.app_id == f.app_id)
    if f.action:
        conds.append(audit_log.c.action.startswith(f.action, autoescape=True) if f.action.endswith(".")
                     else audit_log.c.action == f.action)
    if f.since_ms is not None:
        conds.append(audit_log.c.at >= f.since_ms)
    if f.until_ms is not None:
        conds.append(audit_log.c.at < f.until_ms)
    return conds


def entry(row: Any) -> dict[str, Any]:
    m = row._mapping
    return {"id": m["id"], "app_id": m["app_id"], "at": m["at"], "actor": m["actor"], "action": m["action"],
            "target": m["target"], "before": json.loads(m["before"]) if m["before"] else None,
            "after": json.loads(m["after"]) if m["after"] else None}


async def entries(conn: AsyncConnection, f: Filter, *, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """The rows that match, newest first (by time, then by the order they were written)."""
    q = (select(audit_log).where(*_where(f)).order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
         .limit(max(1, min(limit, MAX_PAGE))).offset(max(0, offset)))
    return [entry(r) for r in (await conn.execute(q)).all()]


async def count(conn: AsyncConnection, f: Filter) -> int:
    return int((await conn.execute(select(func.count()).select_from(audit_log).where(*_where(f)))).scalar_one())


async def actions(conn: AsyncConnection, app_id: str) -> list[str]:
    """The actions an app's trail holds (the console's filter offers these)."""
    q = select(audit_log.c.action).where(audit_log.c.app_id == app_id).distinct().order_by(audit_log.c.action)
    return [str(a) for a in (await conn.execute(q)).scalars().all()]
