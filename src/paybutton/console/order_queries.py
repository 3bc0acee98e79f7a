"""The console's reads of orders: a page of the app's orders, one order's detail with its timeline (oldest
first), and the vouchers the verify page redeems."""

from __future__ import annotations

import json
from typing import Any, NotRequired, TypedDict

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from paybutton.booking import service as booking
from paybutton.callbacks import outbox as outbox_mod
from paybutton.console.queries import PAGE, Page, page_of
from paybutton.console.refund_queries import columns_of, refund_row
from paybutton.context import Ctx
from paybutton.errors import TradeError
from paybutton.fulfillment import service as fulfillment
from paybutton.order import store as order_store
from paybutton.order.rows import ItemOrder, Order
from paybutton.order.states import ItemStatus, OrderStatus, payable
from paybutton.payment_state import Payment
from paybutton.refund import store as refund_store
from paybutton.refund.rules import AuditStatus, RefundStatus
from paybutton.refund.store import Refund
from paybutton.tables import callback_attempts, item_orders, orders, outbox, payments, refund_items, refunds

# The words (ev_*) of each synchronous merchant call on an order's timeline.
SYNC_EVENTS = {t: "ev_pre_order" if t == "pre_create_order" else f"ev_{t}" for t in outbox_mod.SYNC_TYPES}


class Event(TypedDict):
    """One line of an order's timeline: `kind` names the words (ev_*), `text` is what happened, in the data's
    terms."""

    at: int | None
    kind: str
    ok: bool
    text: str
    detail: NotRequired[str]
    fen: NotRequired[int]
    callback_id: NotRequired[int]


class Offer(TypedDict):
    id: str
    title: str
    fen: int | None


class OrderDetail(TypedDict):
    order: dict[str, Any]
    items: list[dict[str, Any]]
    payments: list[dict[str, Any]]
    refunds: list[dict[str, Any]]
    callbacks: list[dict[str, Any]]
    timeline: list[Event]


async def orders_page(ctx: Ctx, app_id: str, *, status: str | None, q: str, page: int) -> Page[dict[str, Any]]:
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
    async with ctx.db.engine.connect() as conn:
        rows = [_order_summary(r) for r in (await conn.execute(stmt)).all()]
    return page_of(rows, page)


def last_attempt() -> Any:
    """The outcome of the order's newest payment attempt (None before any): an order back at the cashier after a
    failed payment says so beside its status."""
    return (select(payments.c.outcome).where(payments.c.order_id == orders.c.order_id)
            .order_by(payments.c.created_at.desc(), payments.c.payment_id.desc()).limit(1)
            .scalar_subquery().label("last_pay"))


def _order_summary(r: Any) -> dict[str, Any]:
    """A list row, a mapping: the page selects a dozen columns and the last attempt's outcome, not the whole Order
    (its price detail and entry schema JSON would be read for every order of the page, never shown)."""
    d = dict(r._mapping)
    try:
        d["goods_name"] = json.loads(d.pop("goods_snapshot") or "{}").get("name", d["goods_id"])
    except (ValueError, AttributeError):
        d["goods_name"] = d["goods_id"]
    d["payable"] = payable(d["total_amount"], d["discount_amount"])
    return d


async def order_detail(ctx: Ctx, app_id: str, order_id: str) -> OrderDetail | None:
    """The order, its item orders, payments, refunds and callbacks, and one timeline of all of it."""
    async with ctx.db.engine.connect() as conn:
        return await read_order_detail(conn, app_id, order_id)


async def read_order_detail(conn: AsyncConnection, app_id: str, order_id: str) -> OrderDetail | None:
    """order_detail on a connection (`paybutton orders show` reads the same): read typed (order/rows, refund/store),
    shown as the templates' dicts."""
    o = await order_store.order_row(conn, app_id, order_id)
    if o is None:
        return None
    items = await order_store.items_of(conn, app_id, order_id)
    pays = [Payment.from_row(r) for r in (await conn.execute(
        select(payments).where(payments.c.order_id == order_id, payments.c.app_id == app_id)
        .order_by(payments.c.created_at))).all()]
    refs = [Refund.from_row(r) for r in (await conn.execute(
        select(refunds).where(refunds.c.order_id == order_id, refunds.c.app_id == app_id)
        .order_by(refunds.c.created_at))).all()]
    ref_views = []
    for r in refs:
        ref_views.append({**refund_row(r), "items": [
            columns_of(i, refund_items) for i in await refund_store.items_of(conn, app_id, r.refund_id)]})
    cbs = await _dicts(conn, select(outbox.c.id, outbox.c.type, outbox.c.status, outbox.c.attempts,
                                    outbox.c.created_at, outbox.c.last_http_status, outbox.c.refund_id)
                       .where(outbox.c.app_id == app_id, outbox.c.order_id == order_id)
                       .order_by(outbox.c.id).limit(100))
    pre = await _dicts(conn, select(callback_attempts).where(
        callback_attempts.c.app_id == app_id, callback_attempts.c.order_id == order_id,
        callback_attempts.c.outbox_id.is_(None)).order_by(callback_attempts.c.id).limit(50))
    return {"order": _order(o), "items": [columns_of(i, item_orders) for i in items],
            "payments": [columns_of(p, payments) for p in pays], "refunds": ref_views, "callbacks": cbs,
            "timeline": timeline(o, items, pays, refs, cbs, pre)}


async def _dicts(conn: AsyncConnection, stmt: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in (await conn.execute(stmt)).all()]


def _order(o: Order) -> dict[str, Any]:
    """The order as its page shows it: its columns, the payable, the goods snapshot and the offers applied."""
    order = columns_of(o, orders)
    order["payable"] = o.payable
    try:
        order["snapshot"] = json.loads(o.goods_snapshot or "{}")
    except ValueError:
        order["snapshot"] = {}
    order["offers"] = applied_offers(o.price_calculation_detail)
    return order


def timeline(order: Order, items: list[ItemOrder], pays: list[Payment], refs: list[Refund],
             cbs: list[dict[str, Any]], pre: list[dict[str, Any]]) -> list[Event]:
    """Every event of the order, oldest first. `pre` are the order's synchronous merchant calls, each shown by
    its type (pre_create_order or a marketing call: query_marketing_info, calculate_price, query_and_calculate)."""
    ev: list[Event] = [{"at": order.created_at, "kind": "ev_created", "ok": True,
                        "text": f"{order.quantity} × {order.goods_id}"}]
    for a in pre:
        ev.append({"at": a["started_at"], "kind": SYNC_EVENTS.get(a["type"], "ev_sync_call"), "ok": bool(a["ok"]),
                   "text": f"{a['type']} · HTTP {a['http_status'] or '-'} · {a['duration_ms']} ms"
                           + (f" · {a['error']}" if a.get("error") else "")})
    if not any(a["type"] == "pre_create_order" for a in pre):
        ev.append({"at": order.created_at, "kind": "ev_pre_order", "ok": order.pre_order_status == "OK",
                   "text": order.pre_order_status})
    for p in pays:
        # every payment attempt: its id (the channel's out_trade_no), channel and provider, state and outcome
        ev.append({"at": p.created_at, "kind": "ev_paid", "ok": p.outcome == "SUCCESS",
                   "text": f"{p.channel} · {p.outcome}" + (" · late" if p.late else ""),
                   "detail": f"{p.payment_id} · {p.provider or ''} · {p.state or ''}"
                             + (f" · {p.message}" if p.message else "")})
    if order.status in (OrderStatus.FAIL.value, OrderStatus.TIMEOUT.value):
        ev.append({"at": order.updated_at, "kind": "ev_closed", "ok": False,
                   "text": order.status + (f" · {order.message}" if order.message else "")})
    for r in refs:
        ev.extend(_refund_events(r))
    for i in items:
        if i.verified_at:
            ev.append({"at": i.verified_at, "kind": "ev_verified", "ok": True,
                       "text": f"{i.item_order_id} · {i.voucher_code}"})
    for c in cbs:
        ev.append({"at": c["created_at"], "kind": "ev_callback", "ok": c["status"] != outbox_mod.DEAD,
                   "text": f"#{c['id']} {c['type']} · {c['status']} · {c['attempts']}", "callback_id": c["id"]})
    ev.sort(key=lambda e: e["at"] or 0)
    return ev


def _refund_events(r: Refund) -> list[Event]:
    """A refund asked for, its audit (when the app audits refunds), and its end."""
    ev: list[Event] = [{"at": r.created_at, "kind": "ev_refund", "ok": True, "text": r.refund_id,
                        "fen": r.refund_total_amount}]
    if r.need_refund_audit == 1:
        ev.append({"at": r.updated_at if r.audit_status != AuditStatus.TOAUDIT else r.created_at,
                   "kind": "ev_audit", "ok": r.audit_status != AuditStatus.DENY,
                   "text": r.audit_status + (f" · {r.deny_message}" if r.deny_message else "")})
    if r.status != RefundStatus.PROCESSING:
        ev.append({"at": r.refund_at or r.updated_at, "kind": "ev_refund_end",
                   "ok": r.status == RefundStatus.SUCCESS, "text": f"{r.refund_id} · {r.status}"})
    return ev


def applied_offers(detail_json: str | None) -> list[Offer]:
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


# ------------------------------------------------------------------ vouchers


class Redeemed(TypedDict):
    item: str
    order: str


async def redeemed(ctx: Ctx, app_id: str, item_order_id: str) -> Redeemed | None:
    """The app's item order `item_order_id` when it is redeemed (the verify page's "done")."""
    async with ctx.db.engine.connect() as conn:
        row = (await conn.execute(select(item_orders.c.item_order_id, item_orders.c.order_id).where(
            item_orders.c.item_order_id == item_order_id, item_orders.c.app_id == app_id,
            item_orders.c.status == int(ItemStatus.REDEEMED)))).first()
    return None if row is None else {"item": row.item_order_id, "order": row.order_id}


async def voucher_owner(conn: AsyncConnection, app_id: str, code: str) -> str | None:
    """The order id behind a voucher code of this app (None for no such code, or another app's)."""
    row = (await conn.execute(select(item_orders.c.order_id).where(item_orders.c.voucher_code == code,
                                                                    item_orders.c.app_id == app_id))).first()
    return None if row is None else str(row.order_id)


async def redeem(ctx: Ctx, app_id: str, code: str) -> str:
    """Redeem one of the app's vouchers by its code; the item order id. VOUCHER_NOT_FOUND for another app's."""
    async with ctx.db.tx() as conn:
        if await voucher_owner(conn, app_id, code) is None:
            raise TradeError("VOUCHER_NOT_FOUND", code)
        result = await fulfillment.verify_code(conn, ctx.clock, code, app_id)
    return str(result["item_order_id"])


async def bookings_of(ctx: Ctx, app_id: str, order_id: str) -> list[dict[str, Any]]:
    """The order's reservations (paybutton/booking), for its page."""
    async with ctx.db.engine.connect() as conn:
        return await booking.of_order(conn, app_id, order_id)
