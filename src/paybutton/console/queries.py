"""The console's reads: one page at a time (LIMIT/OFFSET, one row more than shown to know if there is a next
page), every statement filtered by the signed-in app; an order's detail with its timeline."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from paybutton.callbacks import outbox as outbox_mod
from paybutton.goods import service as goods_service
from paybutton.order.states import OrderStatus
from paybutton.refund.rules import AuditStatus, RefundStatus
from paybutton.tables import (
    callback_attempts,
    goods,
    item_orders,
    orders,
    outbox,
    payments,
    platform_keys,
    refund_items,
    refunds,
)

PAGE = 20
MAX_PAGE_NO = 10_000
DAY_MS = 86_400_000


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _page(rows: list[Any], page: int) -> dict[str, Any]:
    return {"rows": rows[:PAGE], "page": page, "has_prev": page > 1, "has_next": len(rows) > PAGE}


async def goods_page(conn: AsyncConnection, app_id: str, now_ms: int, *, shelf: bool | None, q: str, page: int,
                     lang: str) -> dict[str, Any]:
    conds: list[ColumnElement[bool]] = [goods.c.app_id == app_id]
    if shelf is not None:
        conds.append(goods.c.on_shelf.is_(shelf))
    if q:
        like = f"%{_escape_like(q)}%"
        conds.append(or_(goods.c.goods_id.ilike(like, escape="\\"), goods.c.name.ilike(like, escape="\\")))
    stmt = select(goods).where(*conds).order_by(goods.c.goods_id).limit(PAGE + 1).offset((page - 1) * PAGE)
    rows = (await conn.execute(stmt)).all()
    return _page([goods_service.goods_view(r, now_ms, lang) for r in rows], page)


async def orders_page(conn: AsyncConnection, app_id: str, *, status: str | None, q: str, page: int) -> dict[str, Any]:
    conds: list[ColumnElement[bool]] = [orders.c.app_id == app_id]
    if status:
        conds.append(orders.c.status == status)
    if q:
        conds.append(or_(orders.c.order_id == q, orders.c.out_order_no == q, orders.c.open_id == q))
    cols = [orders.c.order_id, orders.c.out_order_no, orders.c.open_id, orders.c.goods_id, orders.c.quantity,
            orders.c.total_amount, orders.c.discount_amount, orders.c.status, orders.c.created_at, orders.c.paid_at,
            orders.c.goods_snapshot, last_attempt()]
    stmt = (select(*cols).where(*conds).order_by(orders.c.created_at.desc(), orders.c.order_id.desc())
            .limit(PAGE + 1).offset((page - 1) * PAGE))
    rows = [_order_summary(r) for r in (await conn.execute(stmt)).all()]
    return _page(rows, page)


def last_attempt() -> Any:
    """The outcome of the order's newest payment attempt (None before any): an order back at the cashier after a
    failed payment says so beside its status."""
    return (select(payments.c.outcome).where(payments.c.order_id == orders.c.order_id)
            .order_by(payments.c.created_at.desc(), payments.c.payment_id.desc()).limit(1)
            .scalar_subquery().label("last_pay"))


def _order_summary(r: Any) -> dict[str, Any]:
    d = dict(r._mapping)
    try:
        d["goods_name"] = json.loads(d.pop("goods_snapshot") or "{}").get("name", d["goods_id"])
    except (ValueError, AttributeError):
        d["goods_name"] = d["goods_id"]
    d["payable"] = d["total_amount"] - d["discount_amount"]
    return d


async def refunds_page(conn: AsyncConnection, app_id: str, *, status: str | None, audit: str | None, q: str = "",
                       page: int) -> dict[str, Any]:
    """One page of the app's refunds, newest first; `q` is an exact refund id, order id, out_refund_no or the
    order's out_order_no."""
    conds: list[ColumnElement[bool]] = [refunds.c.app_id == app_id]
    if status:
        conds.append(refunds.c.status == status)
    if audit:
        conds.append(refunds.c.audit_status == audit)
    if q:
        by_out_order = select(orders.c.order_id).where(orders.c.app_id == app_id, orders.c.out_order_no == q)
        conds.append(or_(refunds.c.refund_id == q, refunds.c.order_id == q, refunds.c.out_refund_no == q,
                         refunds.c.order_id.in_(by_out_order)))
    stmt = (select(refunds).where(*conds).order_by(refunds.c.created_at.desc(), refunds.c.refund_id.desc())
            .limit(PAGE + 1).offset((page - 1) * PAGE))
    rows = [_refund(r) for r in (await conn.execute(stmt)).all()]
    return _page(rows, page)


def _refund(r: Any) -> dict[str, Any]:
    d = dict(r._mapping)
    try:
        d["reason"] = ", ".join(str(x) for x in json.loads(d["reason"] or "[]"))
    except ValueError:
        d["reason"] = d["reason"] or ""
    d["can_audit"] = d["status"] == RefundStatus.PROCESSING and d["audit_status"] == AuditStatus.TOAUDIT
    return d


async def refund_of(conn: AsyncConnection, app_id: str, refund_id: str) -> dict[str, Any] | None:
    row = (await conn.execute(select(refunds).where(refunds.c.app_id == app_id,
                                                     refunds.c.refund_id == refund_id))).first()
    return None if row is None else _refund(row)


async def dashboard(conn: AsyncConnection, app_id: str, now_ms: int) -> dict[str, int]:
    """The last 24 hours at a glance. Takings are net: what paid orders took in the window (by paid_at) less what
    refunds gave back in it (by refund_at)."""
    since = now_ms - DAY_MS
    recent = (await conn.execute(
        select(func.count()).select_from(orders).where(orders.c.app_id == app_id, orders.c.created_at >= since)
    )).scalar_one()
    gross = (await conn.execute(
        select(func.coalesce(func.sum(orders.c.total_amount - orders.c.discount_amount), 0))
        .where(orders.c.app_id == app_id, orders.c.status == OrderStatus.SUCCESS.value, orders.c.paid_at >= since)
    )).scalar_one()
    refunded = (await conn.execute(
        select(func.coalesce(func.sum(refunds.c.refund_total_amount), 0))
        .where(refunds.c.app_id == app_id, refunds.c.status == RefundStatus.SUCCESS.value,
               refunds.c.refund_at >= since)
    )).scalar_one()
    to_audit = (await conn.execute(select(func.count()).select_from(refunds).where(
        refunds.c.app_id == app_id, refunds.c.status == RefundStatus.PROCESSING.value,
        refunds.c.audit_status == AuditStatus.TOAUDIT.value))).scalar_one()
    dead = (await conn.execute(select(func.count()).select_from(outbox).where(
        outbox.c.app_id == app_id, outbox.c.status == outbox_mod.DEAD))).scalar_one()
    on_shelf = (await conn.execute(select(func.count()).select_from(goods).where(
        goods.c.app_id == app_id, goods.c.on_shelf.is_(True)))).scalar_one()
    return {"orders_24h": int(recent), "paid_24h": int(gross) - int(refunded), "gross_24h": int(gross),
            "refunded_24h": int(refunded), "to_audit": int(to_audit),
            "dead_cb": int(dead), "on_shelf_goods": int(on_shelf)}


async def order_detail(conn: AsyncConnection, app_id: str, order_id: str) -> dict[str, Any] | None:
    """The order, its item orders, payments, refunds and callbacks, and one timeline of all of it (oldest first)."""
    row = (await conn.execute(select(orders).where(orders.c.app_id == app_id, orders.c.order_id == order_id))).first()
    if row is None:
        return None
    order = dict(row._mapping)
    order["payable"] = order["total_amount"] - order["discount_amount"]
    try:
        order["snapshot"] = json.loads(order["goods_snapshot"] or "{}")
    except ValueError:
        order["snapshot"] = {}
    order["offers"] = applied_offers(order.get("price_calculation_detail"))
    items = [dict(r._mapping) for r in (await conn.execute(
        select(item_orders).where(item_orders.c.order_id == order_id, item_orders.c.app_id == app_id)
        .order_by(item_orders.c.seq))).all()]
    pays = [dict(r._mapping) for r in (await conn.execute(
        select(payments).where(payments.c.order_id == order_id, payments.c.app_id == app_id)
        .order_by(payments.c.created_at))).all()]
    refs = [_refund(r) for r in (await conn.execute(
        select(refunds).where(refunds.c.order_id == order_id, refunds.c.app_id == app_id)
        .order_by(refunds.c.created_at))).all()]
    for r in refs:
        r["items"] = [dict(i._mapping) for i in (await conn.execute(
            select(refund_items).where(refund_items.c.refund_id == r["refund_id"])
            .order_by(refund_items.c.item_order_id))).all()]
    cbs = [dict(r._mapping) for r in (await conn.execute(
        select(outbox.c.id, outbox.c.type, outbox.c.status, outbox.c.attempts, outbox.c.created_at,
               outbox.c.last_http_status, outbox.c.refund_id)
        .where(outbox.c.app_id == app_id, outbox.c.order_id == order_id).order_by(outbox.c.id).limit(100))).all()]
    pre = [dict(r._mapping) for r in (await conn.execute(
        select(callback_attempts).where(callback_attempts.c.app_id == app_id,
                                        callback_attempts.c.order_id == order_id,
                                        callback_attempts.c.outbox_id.is_(None))
        .order_by(callback_attempts.c.id).limit(50))).all()]
    return {"order": order, "items": items, "payments": pays, "refunds": refs, "callbacks": cbs,
            "timeline": timeline(order, items, pays, refs, cbs, pre)}


def timeline(order: dict[str, Any], items: list[dict[str, Any]], pays: list[dict[str, Any]],
             refs: list[dict[str, Any]], cbs: list[dict[str, Any]], pre: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events as {at, kind, text, ok}: kind names the words (ev_*), text is what happened, in the data's terms.
    `pre` are the order's synchronous merchant calls, each shown by its type (pre_create_order or a marketing
    call: query_marketing_info, calculate_price, query_and_calculate)."""
    ev: list[dict[str, Any]] = [{"at": order["created_at"], "kind": "ev_created", "ok": True,
                                 "text": f"{order['quantity']} × {order['goods_id']}"}]
    for a in pre:
        ev.append({"at": a["started_at"], "kind": SYNC_EVENTS.get(a["type"], "ev_sync_call"), "ok": bool(a["ok"]),
                   "text": f"{a['type']} · HTTP {a['http_status'] or '-'} · {a['duration_ms']} ms"
                           + (f" · {a['error']}" if a.get("error") else "")})
    if not any(a["type"] == "pre_create_order" for a in pre):
        ev.append({"at": order["created_at"], "kind": "ev_pre_order", "ok": order["pre_order_status"] == "OK",
                   "text": order["pre_order_status"]})
    for p in pays:
        # every payment attempt: its id (the channel's out_trade_no), channel and provider, state and outcome
        ev.append({"at": p["created_at"], "kind": "ev_paid", "ok": p["outcome"] == "SUCCESS",
                   "text": f"{p['channel']} · {p['outcome']}" + (" · late" if p["late"] else ""),
                   "detail": f"{p['payment_id']} · {p.get('provider') or ''} · {p.get('state') or ''}"
                             + (f" · {p['message']}" if p.get("message") else "")})
    if order["status"] in (OrderStatus.FAIL.value, OrderStatus.TIMEOUT.value):
        ev.append({"at": order["updated_at"], "kind": "ev_closed", "ok": False,
                   "text": order["status"] + (f" · {order['message']}" if order.get("message") else "")})
    for r in refs:
        ev.append({"at": r["created_at"], "kind": "ev_refund", "ok": True, "text": r["refund_id"],
                   "fen": r["refund_total_amount"]})
        if r["need_refund_audit"] == 1:
            ev.append({"at": r["updated_at"] if r["audit_status"] != AuditStatus.TOAUDIT else r["created_at"],
                       "kind": "ev_audit", "ok": r["audit_status"] != AuditStatus.DENY,
                       "text": r["audit_status"] + (f" · {r['deny_message']}" if r.get("deny_message") else "")})
        if r["status"] != RefundStatus.PROCESSING:
            ev.append({"at": r["refund_at"] or r["updated_at"], "kind": "ev_refund_end",
                       "ok": r["status"] == RefundStatus.SUCCESS, "text": f"{r['refund_id']} · {r['status']}"})
    for i in items:
        if i.get("verified_at"):
            ev.append({"at": i["verified_at"], "kind": "ev_verified", "ok": True,
                       "text": f"{i['item_order_id']} · {i['voucher_code']}"})
    for c in cbs:
        ev.append({"at": c["created_at"], "kind": "ev_callback", "ok": c["status"] != outbox_mod.DEAD,
                   "text": f"#{c['id']} {c['type']} · {c['status']} · {c['attempts']}", "callback_id": c["id"]})
    ev.sort(key=lambda e: e["at"] or 0)
    return ev


SYNC_EVENTS = {"pre_create_order": "ev_pre_order", "query_marketing_info": "ev_query_marketing_info",
               "calculate_price": "ev_calculate_price", "query_and_calculate": "ev_query_and_calculate"}


def applied_offers(detail_json: str | None) -> list[dict[str, Any]]:
    """The offers an order's price_calculation_detail applied (goods-level, then order-level): id, title,
    discount in fen. Empty for an order at full price (or a detail that cannot be read)."""
    try:
        d = json.loads(detail_json or "null")
    except ValueError:
        return []
    if not isinstance(d, dict):
        return []
    found: list[Any] = []
    for g in d.get("goods_discount_detail") or []:
        if isinstance(g, dict):
            found.extend(g.get("marketing_detail_info") or [])
    o = d.get("order_discount_detail")
    if isinstance(o, dict):
        found.extend(o.get("marketing_detail_info") or [])
    return [{"id": str(m.get("id", "")), "title": str(m.get("title") or m.get("id", "")),
             "fen": m.get("discount_amount") if isinstance(m.get("discount_amount"), int) else None}
            for m in found if isinstance(m, dict)]


async def active_public_key(conn: AsyncConnection) -> str:
    row = (await conn.execute(select(platform_keys.c.public_pem).where(platform_keys.c.active.is_(True))
                              .order_by(platform_keys.c.id.desc()).limit(1))).first()
    return str(row.public_pem) if row else ""


async def voucher_owner(conn: AsyncConnection, app_id: str, code: str) -> str | None:
    """The order id behind a voucher code of this app (None for no such code, or another app's)."""
    row = (await conn.execute(select(item_orders.c.order_id).where(item_orders.c.voucher_code == code,
                                                                    item_orders.c.app_id == app_id))).first()
    return None if row is None else str(row.order_id)
