"""The toolkit settings of an app, one row per app (`toolkit_settings`), each setting a JSON column."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.tables import toolkit_settings

COLUMNS = ("merchant_conf", "merchant_paths", "button_white")


async def read(conn: AsyncConnection, app_id: str) -> dict[str, Any]:
    """{merchant_conf, merchant_paths, button_white}, each the stored object or None."""
    row = (await conn.execute(select(toolkit_settings).where(toolkit_settings.c.app_id == app_id))).first()
    if row is None:
        return dict.fromkeys(COLUMNS)
    return {c: json.loads(getattr(row, c)) if getattr(row, c) else None for c in COLUMNS}


async def write(conn: AsyncConnection, app_id: str, column: str, value: Any, now: int) -> None:
    """Set one setting (the caller's transaction); the row is made on the first write."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    done = await conn.execute(update(toolkit_settings).where(toolkit_settings.c.app_id == app_id)
                              .values({column: text, "updated_at": now}))
    if done.rowcount == 0:
        await conn.execute(toolkit_settings.insert().values({"app_id": app_id, column: text, "updated_at": now}))
