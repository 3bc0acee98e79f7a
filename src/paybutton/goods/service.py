"""Goods library use cases (商品库): create, update, query, list, pay-button goods info; never commit."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from paybutton import audit
from paybutton.clock import Clock
from paybutton.errors import TradeError
from paybutton.goods import reopened, rules
from paybutton.goods.problems import Problem, raise_first
from paybutton.tables import apps, goods

MAX_PAGE = 100
UPDATABLE = frozenset(rules.FIELDS) - {"goods_id"}


def goods_view(row: Any, now_ms: int, lang: str = "zh-CN") -> dict[str, Any]:
    """A goods row as the API's JSON: labels parsed, plus `state` and `label_texts`."""
    d = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    labels = d["labels"]
    d["labels"] = json.loads(labels) if isinstance(labels, str) else list(labels or [])
    d["phone_required"] = bool(d["phone_required"])
    d["on_shelf"] = bool(d["on_shelf"])
    d["state"] = rules.goods_state(d, now_ms)
    d["label_texts"] = rules.label_texts(d["labels"], lang)
    return d


async def get_goods_row(
    conn: AsyncConnection, *, app_id: str, goods_id: str, for_update: bool = False
) -> Any:
    """The raw row of one app's goods (GOODS_NOT_FOUND otherwise); `for_update` locks it on PostgreSQL."""
    stmt = select(goods).where(goods.c.app_id == app_id, goods.c.goods_id == goods_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await conn.execute(stmt)).first()
    if row is None:
        raise TradeError("GOODS_NOT_FOUND", f"goods_id {goods_id}", goods_id=goods_id)
    return row


async def get_goods(conn: AsyncConnection, clock: Clock, *, app_id: str, goods_id: str) -> dict[str, Any]:
    if not isinstance(goods_id, str) or not rules.GOODS_ID_RE.fullmatch(goods_id):
        raise TradeError("GOODS_NOT_FOUND", f"goods_id {goods_id!r}", goods_id=goods_id)
    return goods_view(await get_goods_row(conn, app_id=app_id, goods_id=goods_id), clock.now_ms())


def _columns(record: dict[str, Any]) -> dict[str, Any]:
    values = dict(record)
    values["labels"] = json.dumps(record["labels"], ensure_ascii=False, separators=(",", ":"))
    return values


async def create_goods(
    conn: AsyncConnection,
    clock: Clock,
    *,
    app_id: str,
    goods_id: str,
    name: str,
    price: int,
    stock: int,
    photo_url: str = "",
    sale_start: int | None = None,
    sale_end: int | None = None,
    labels: list[dict[str, Any]] | None = None,
    min_limits: int | None = None,
    max_limits: int | None = None,
    date_rule: str | None = None,
    phone_required: bool = False,
    biz_line: int = 1,
    on_shelf: bool = True,
    valid_days: int | None = None,
) -> dict[str, Any]:
    """Add a library good; GOODS_EXISTS if this app already has `goods_id` (race-free: ON CONFLICT)."""
    record = rules.validate_goods(
        {
            "goods_id": goods_id, "name": name, "price": price, "stock": stock, "photo_url": photo_url,
            "sale_start": sale_start, "sale_end": sale_end, "labels": labels, "min_limits": min_limits,
            "max_limits": max_limits, "date_rule": date_rule, "phone_required": phone_required,
            "biz_line": biz_line, "on_shelf": on_shelf, "valid_days": valid_days,
        }
    )
    if (await conn.execute(select(apps.c.app_id).where(apps.c.app_id == app_id))).first() is None:
        raise TradeError("APP_NOT_FOUND", app_id)
    now = clock.now_ms()
    values = {**_columns(record), "app_id": app_id, "sold": 0, "created_at": now, "updated_at": now}
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(goods).values(**values).on_conflict_do_nothing(
        index_elements=[goods.c.app_id, goods.c.goods_id]
    )
    result = await conn.execute(stmt)
    if result.rowcount == 0:
        raise TradeError("GOODS_EXISTS", f"goods_id {goods_id}", goods_id=goods_id)
    made = await get_goods(conn, clock, app_id=app_id, goods_id=goods_id)
    await audit.record(conn, app_id=app_id, action="goods.create", target=goods_id, after=_audited(made), at_ms=now)
    return made


async def update_goods(
    conn: AsyncConnection,
    clock: Clock,
    *,
    app_id: str,
    goods_id: str,
    stock_delta: int | None = None,
    **changes: Any,
) -> dict[str, Any]:
    """Partial update: `changes` are goods fields (None resets a field to its default / clears it).

    The merged record is validated as a whole. `stock` sets the stock; `stock_delta` adjusts it in one
    guarded UPDATE that never takes it below 0 (INVALID_PARAMETER otherwise); not both."""
    unknown = sorted(set(changes) - UPDATABLE)
    if unknown:
        raise TradeError("INVALID_PARAMETER", f"fields {unknown} cannot be updated")
    if stock_delta is not None:
        if "stock" in changes and changes["stock"] is not None:
            raise TradeError("INVALID_PARAMETER", "stock and stock_delta cannot be given together")
        changes.pop("stock", None)
        if not rules.is_int(stock_delta) or abs(stock_delta) > rules.MAX_SAFE_INT:
            raise TradeError("INVALID_PARAMETER", "stock_delta must be an integer", field="stock_delta")
    elif "stock" in changes and changes["stock"] is None:
        raise TradeError("INVALID_PARAMETER", "stock must be an integer >= 0", field="stock")
    row = await get_goods_row(conn, app_id=app_id, goods_id=goods_id, for_update=True)
    current = goods_view(row, clock.now_ms())
    merged = {f: current[f] for f in rules.FIELDS}
    merged.update(changes)
    if stock_delta is not None:
        merged["stock"] = max(0, current["stock"] + stock_delta)  # checked for real by the guarded UPDATE
    record = rules.validate_goods(merged)
    now = clock.now_ms()
    values = {k: v for k, v in _columns(record).items() if k in changes}
    values["updated_at"] = now
    where = and_(goods.c.app_id == app_id, goods.c.goods_id == goods_id)
    await conn.execute(update(goods).where(where).values(**values))
    if stock_delta:
        result = await conn.execute(
            update(goods)
            .where(where, goods.c.stock + stock_delta >= 0)
            .values(stock=goods.c.stock + stock_delta, updated_at=now)
        )
        if result.rowcount == 0:
            raise_first([Problem("INVALID_PARAMETER", "stock_delta", "stock_below_zero",
                                 {"delta": stock_delta, "stock": current["stock"]}, named=True)])
    await reopened.notify_reopen(conn, app_id, goods_id)  # stock, shelf, limits or window: may sell again
    after = await get_goods(conn, clock, app_id=app_id, goods_id=goods_id)
    was, now_is = audit.changed(_audited(current), _audited(after))
    await audit.record(conn, app_id=app_id, action="goods.update", target=goods_id, before=was,
                       after={**now_is, **({"stock_delta": stock_delta} if stock_delta else {})}, at_ms=now)
    return after


def _audited(view: dict[str, Any]) -> dict[str, Any]:
    """A good as the audit trail keeps it: its fields, without what is derived (state, label texts)."""
    return {f: view[f] for f in rules.FIELDS if f != "goods_id"}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_goods(
    conn: AsyncConnection,
    clock: Clock,
    *,
    app_id: str,
    limit: int = 20,
    offset: int = 0,
    cursor: str | None = None,
    on_shelf: bool | None = None,
    search: str | None = None,
) -> dict[str, Any]:
    """One page of an app's goods, ordered by goods_id: by offset, or after `cursor` (the previous page's
    next_cursor). Returns {goods_list, total, has_more, next_cursor}; total counts every match."""
    if not rules.is_int(limit) or not 1 <= limit <= MAX_PAGE:
        raise TradeError("INVALID_PARAMETER", f"limit must be in 1..{MAX_PAGE}", field="limit")
    if not rules.is_int(offset) or offset < 0:
        raise TradeError("INVALID_PARAMETER", "offset must be an integer >= 0", field="offset")
    if cursor and offset:
        raise TradeError("INVALID_PARAMETER", "give cursor or offset, not both", field="cursor")
    if search is not None and len(search) > 256:
        raise TradeError("INVALID_PARAMETER", "search must be at most 256 characters", field="search")
    conds: list[ColumnElement[bool]] = [goods.c.app_id == app_id]
    if on_shelf is not None:
        conds.append(goods.c.on_shelf.is_(on_shelf))
    if search:
        conds.append(goods.c.name.ilike(f"%{_escape_like(search)}%", escape="\\"))
    total = (await conn.execute(select(func.count()).select_from(goods).where(*conds))).scalar_one()
    stmt = select(goods).where(*conds)
    if cursor:
        stmt = stmt.where(goods.c.goods_id > cursor)
    stmt = stmt.order_by(goods.c.goods_id).limit(limit + 1)
    if not cursor:
        stmt = stmt.offset(offset)
    rows = (await conn.execute(stmt)).all()
    has_more = len(rows) > limit
    now = clock.now_ms()
    page = [goods_view(r, now) for r in rows[:limit]]
    return {
        "goods_list": page,
        "total": int(total),
        "has_more": has_more,
        "next_cursor": page[-1]["goods_id"] if has_more and page else None,
    }


async def public_goods_info(
    conn: AsyncConnection, clock: Clock, app_id: str, goods_id: str
) -> dict[str, Any]:
    """What the pay-button's getgoodsinfo needs for a library good (goods-type 1), in the seed's names."""
    view = await get_goods(conn, clock, app_id=app_id, goods_id=goods_id)
    return {
        "goodsId": view["goods_id"],
        "goodsType": 1,
        "goodsName": view["name"],
        "goodsPhoto": view["photo_url"],
        "currentPrice": view["price"],
        "goodsLabels": view["labels"],
        "minLimits": view["min_limits"],
        "maxLimits": view["max_limits"],
        "dateRule": view["date_rule"],
        "validation": {"phoneNumber": {"required": view["phone_required"]}},
        "stock": view["stock"],
        "saleStart": view["sale_start"],
        "saleEnd": view["sale_end"],
        "state": view["state"],
        "bizLine": view["biz_line"],
    }
