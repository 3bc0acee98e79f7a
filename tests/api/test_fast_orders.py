"""POST /api/buyer/v1/orders at the ASGI level answers like the rest of the buyer API."""

from __future__ import annotations

from typing import Any

from paybutton import buyer_token
from paybutton.apps import service as app_service


async def test_fast_route_errors_and_slash(running: Any) -> None:
    async with running.ctx.db.tx() as conn:
        a = await app_service.create_app(conn, running.ctx.clock, name="A")
    auth = {"Authorization": "Bearer " + buyer_token.mint(a["app_id"], a["secret"], "u1")}
    big = await running.client.post("/api/buyer/v1/orders", headers=auth, content=b"x" * (300 * 1024))
    slash = await running.client.post("/api/buyer/v1/orders/", headers=auth,
                                      json={"goods_id": "none", "goods_type": 1})
    lang = await running.client.post("/api/buyer/v1/orders", headers={**auth, "Accept-Language": "en"},
                                     json={"goods_id": "none", "goods_type": 1})
    assert big.status_code == 413 and big.json()["error"] == "BODY_TOO_LARGE"
    assert slash.status_code == 404 and slash.json()["error"] == "GOODS_NOT_FOUND" and slash.json()["errNo"] == 21506
    assert lang.json()["errMsg"].startswith("goods not found")
    assert big.json()["errLogId"] and big.headers["x-tt-logid"] == big.json()["errLogId"]


async def test_database_sessions_replan_with_the_real_table_sizes(running: Any, db_url: str) -> None:
    """Both the SQLAlchemy engine's and the order path's PostgreSQL connections use custom plans: a generic plan
    frozen while the tables were empty cost 3-5 times the database CPU per order (bench/README.md)."""
    from sqlalchemy import text

    from paybutton.order.writer_pg import PostgresWriter
    from paybutton.order.writer_registry import writer_of
    from paybutton.order.writer_sqlite import SqliteWriter

    if not db_url.startswith("postgresql"):  # SQLite has no plan cache: its order path is the writer thread
        assert isinstance(await writer_of(running.ctx), SqliteWriter)
        return
    async with running.ctx.db.engine.connect() as conn:
        assert (await conn.execute(text("show plan_cache_mode"))).scalar() == "force_custom_plan"
    writer = await writer_of(running.ctx)
    assert isinstance(writer, PostgresWriter)
    async with writer.pool.acquire() as raw:
        assert await raw.fetchval("show plan_cache_mode") == "force_custom_plan"
