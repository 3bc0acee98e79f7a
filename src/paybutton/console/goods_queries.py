"""The console's goods: a page of the app's goods, one good, and creating and changing goods (through the goods
service, which checks the rules)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.sql.elements import ColumnElement

from paybutton.console.queries import PAGE, Page, escape_like, on_sale_now, page_of
from paybutton.context import Ctx
from paybutton.goods import service as goods_service
from paybutton.tables import goods


async def goods_page(ctx: Ctx, app_id: str, *, shelf: bool | None, q: str, page: int,
                     lang: str, buyable: bool = False) -> Page[dict[str, Any]]:
    """A page of the app's goods: on or off the shelf, or (`buyable`) those a buyer can buy now."""
    conds: list[ColumnElement[bool]] = [goods.c.app_id == app_id]
    if shelf is not None:
        conds.append(goods.c.on_shelf.is_(shelf))
    if buyable:
        conds.append(on_sale_now(ctx.clock.now_ms()))
    if q:
        like = f"%{escape_like(q)}%"
        conds.append(or_(goods.c.goods_id.ilike(like, escape="\\"), goods.c.name.ilike(like, escape="\\")))
    stmt = select(goods).where(*conds).order_by(goods.c.goods_id).limit(PAGE + 1).offset((page - 1) * PAGE)
    now_ms = ctx.clock.now_ms()
    async with ctx.db.engine.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    return page_of([goods_service.goods_view(r, now_ms, lang) for r in rows], page)


async def get_goods(ctx: Ctx, app_id: str, goods_id: str) -> dict[str, Any]:
    """One good of the app as the API shows it; GOODS_NOT_FOUND otherwise."""
    async with ctx.db.engine.connect() as conn:
        return await goods_service.get_goods(conn, ctx.clock, app_id=app_id, goods_id=goods_id)


async def create_goods(ctx: Ctx, app_id: str, goods_id: str, fields: dict[str, Any]) -> None:
    async with ctx.db.tx() as conn:
        await goods_service.create_goods(conn, ctx.clock, app_id=app_id, goods_id=goods_id, **fields)


async def update_goods(ctx: Ctx, app_id: str, goods_id: str, stock_delta: int | None,
                       changes: dict[str, Any]) -> None:
    async with ctx.db.tx() as conn:
        await goods_service.update_goods(conn, ctx.clock, app_id=app_id, goods_id=goods_id,
                                         stock_delta=stock_delta, **changes)
