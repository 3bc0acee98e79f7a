"""Databases of the benchmark: a fresh PostgreSQL database (created, dropped at the end) or an SQLite file,
migrated with paybutton's migrations, seeded through paybutton's services; and the stock checks that read
the database directly."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from paybutton.apps import service as app_service
from paybutton.clock import SystemClock
from paybutton.config import Settings
from paybutton.db import Database, normalise_url, upgrade
from paybutton.tables import goods, orders

PRICE = 990  # fen
PHOTO = "https://example.com/bench.png"


@dataclass
class Seeded:
    app_id: str
    secret: str
    hot: str
    many: list[str]
    oversell: str
    flash: str = ""
    stock: dict[str, int] = field(default_factory=dict)  # initial stock of every seeded good


def pg_url(admin_url: str, dbname: str) -> str:
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{dbname}"


async def _admin(admin_url: str, sql: str) -> None:
    engine = create_async_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def create_pg_database(admin_url: str) -> tuple[str, str]:
    name = f"pb_bench_{secrets.token_hex(4)}"
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    return name, pg_url(admin_url, name)


def drop_pg_database(admin_url: str, name: str) -> None:
    asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _pg_settings(admin_url: str) -> dict[str, str]:
    engine = create_async_engine(normalise_url(admin_url))
    try:
        async with engine.connect() as conn:
            out = {"version": str((await conn.execute(text("SHOW server_version"))).scalar_one())}
            for name in ("synchronous_commit", "fsync", "shared_buffers", "max_connections"):
                out[name] = str((await conn.execute(text(f"SHOW {name}"))).scalar_one())
            return out
    finally:
        await engine.dispose()


def pg_settings(admin_url: str) -> dict[str, str]:
    """The server settings that decide commit cost (reported next to the figures)."""
    return asyncio.run(_pg_settings(admin_url))


def migrate(url: str) -> None:
    upgrade(url)


async def _create_goods(conn: AsyncConnection, app_id: str, goods_id: str, name: str, stock: int) -> None:
    """Through paybutton.goods.service.create_goods; a plain insert of the goods row where it is missing."""
    try:
        from paybutton.goods.service import create_goods
    except ImportError:
        create_goods = None
    if create_goods is not None:
        await create_goods(conn, SystemClock(), app_id=app_id, goods_id=goods_id, name=name, price=PRICE,
                           stock=stock, photo_url=PHOTO)
        return
    now = SystemClock().now_ms()
    await conn.execute(goods.insert().values(
        app_id=app_id, goods_id=goods_id, name=name, photo_url=PHOTO, price=PRICE, stock=stock, sold=0,
        labels="[]", min_limits=1, max_limits=99999, date_rule="周一至周日可用", phone_required=False,
        biz_line=1, on_shelf=True, created_at=now, updated_at=now,
    ))


async def _seed(url: str, pre_order_url: str, hot_stock: int, many: int, many_stock: int,
                oversell_stock: int, flash_stock: int) -> Seeded:
    clock = SystemClock()
    db = Database(Settings(database_url=url))
    try:
        async with db.tx() as conn:
            # The platform key exists before the server starts, so that every worker process signs with it.
            await app_service.ensure_platform_key(conn, clock)
            app = await app_service.create_app(conn, clock, name="bench shop", pre_order_url=pre_order_url)
            many_ids = [f"bench-many-{i:03d}" for i in range(many)]
            seeded = Seeded(app["app_id"], app["secret"], "bench-hot", many_ids, "bench-oversell")
            seeded.stock[seeded.hot] = hot_stock
            await _create_goods(conn, seeded.app_id, seeded.hot, "Hot item", hot_stock)
            for gid in seeded.many:
                seeded.stock[gid] = many_stock
                await _create_goods(conn, seeded.app_id, gid, f"Item {gid[-3:]}", many_stock)
            seeded.stock[seeded.oversell] = oversell_stock
            await _create_goods(conn, seeded.app_id, seeded.oversell, "Last units", oversell_stock)
            seeded.flash = "bench-flash"
            seeded.stock[seeded.flash] = flash_stock
            await _create_goods(conn, seeded.app_id, seeded.flash, "Flash sale", flash_stock)
        return seeded
    finally:
        await db.dispose()


def seed(url: str, pre_order_url: str, *, hot_stock: int, many: int, many_stock: int,
         oversell_stock: int, flash_stock: int = 500) -> Seeded:
    return asyncio.run(_seed(url, pre_order_url, hot_stock, many, many_stock, oversell_stock, flash_stock))


async def _stock_report(url: str, app_id: str, goods_ids: list[str]) -> dict[str, dict[str, int]]:
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.connect() as conn:
            stock: dict[str, int] = dict((await conn.execute(
                select(goods.c.goods_id, goods.c.stock)
                .where(goods.c.app_id == app_id, goods.c.goods_id.in_(goods_ids))
            )).all())
            live: dict[str, int] = dict((await conn.execute(
                select(orders.c.goods_id, func.coalesce(func.sum(orders.c.quantity), 0))
                .where(orders.c.app_id == app_id, orders.c.goods_id.in_(goods_ids), orders.c.status != "FAIL")
                .group_by(orders.c.goods_id)
            )).all())
            failed: dict[str, int] = dict((await conn.execute(
                select(orders.c.goods_id, func.count())
                .where(orders.c.app_id == app_id, orders.c.goods_id.in_(goods_ids), orders.c.status == "FAIL")
                .group_by(orders.c.goods_id)
            )).all())
    finally:
        await engine.dispose()
    return {g: {"stock": int(stock.get(g, 0)), "live_quantity": int(live.get(g, 0)),
                "failed_orders": int(failed.get(g, 0))} for g in goods_ids}


def check_stock(url: str, seeded: Seeded, goods_ids: list[str]) -> dict[str, Any]:
    """Zero oversell: for every good, units in orders that did not FAIL == initial stock - stock now, and
    the stock never went below zero."""
    report = asyncio.run(_stock_report(url, seeded.app_id, goods_ids))
    bad = {}
    sold = 0
    for g, r in report.items():
        taken = seeded.stock[g] - r["stock"]
        sold += taken
        if r["stock"] < 0 or taken != r["live_quantity"]:
            bad[g] = {**r, "initial": seeded.stock[g]}
    return {"ok": not bad, "units_taken": sold, "mismatches": dict(list(bad.items())[:5]),
            "mismatch_count": len(bad)}


def read_goods(url: str, seeded: Seeded, goods_id: str) -> dict[str, int]:
    return asyncio.run(_stock_report(url, seeded.app_id, [goods_id]))[goods_id]
