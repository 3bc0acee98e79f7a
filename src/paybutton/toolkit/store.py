"""The toolkit settings of an app, one row per app (`toolkit_settings`), each setting a JSON column."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.tables import toolkit_settings

COLUMNS = ("merchant_conf", "merchant_paths", "button_white")


async def read(conn: AsyncConnection, app_id: str) -> dict[str, Any]:
    """{merchant_conf, merchant_paths, button_white}, each the stored object or None."""
    row = (await conn.execute(select(toolkit_settings).where(toolkit_settings.c.app_id == app_id))).first()
    if row is None:
        return dict.fromkeys(COLUMNS)
    return {c: json.loads(getattr(row, c)) if getattr(row, c) else None for c in COLUMNS}


async def ensure_row(conn: AsyncConnection, app_id: str, now: int) -> None:
    """The app's row, made empty if it is missing (INSERT ... ON CONFLICT DO NOTHING: concurrent first writes of
    one app never conflict later, in their own transactions)."""
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    await conn.execute(dialect_insert(toolkit_settings).values(app_id=app_id, updated_at=now)
                       .on_conflict_do_nothing(index_elements=["app_id"]))


async def write(conn: AsyncConnection, app_id: str, column: str, value: Any, now: int) -> None:
    """Set one setting (the caller's transaction) on the app's row (ensure_row made it)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    await conn.execute(update(toolkit_settings).where(toolkit_settings.c.app_id == app_id)
                       .values({column: text, "updated_at": now}))
