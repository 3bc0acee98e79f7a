"""Order use cases: place an order (stock, item orders, the merchant's pre_create_order), close it, and time
out unpaid orders. Each step is one short transaction; no transaction is held open while the merchant is called."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton import ids
from paybutton.apps import service as app_service
from paybutton.callbacks import outbox
from paybutton.callbacks.merchant import call_extension
from paybutton.context import Ctx
from paybutton.errors import TradeError
from paybutton.goods import rules as goods_rules
from paybutton.marketing import service as marketing
from paybutton.marketing.rules import Choice, Line, Pricing
from paybutton.money import split_exact
from paybutton.order import fastpath, rules, store
from paybutton.order.states import UNPAID, GoodsType, ItemStatus, OrderStatus, PreOrder
from paybutton.tables import callback_attempts, goods

log = logging.getLogger("paybutton.order")


@dataclass
class PlaceOrder:
    app_id: str
    open_id: str
    goods_id: str
    goods_type: int
    quantity: int
    phone_num: str | None = None
    contact_name: str | None = None
    cp_extra: str | None = None
    goods_info: dict[str, Any] | None = None  # merchant goods: what the page's getgoodsinfo returned
    marketing: MarketingChoice | None = None  # marketing-ready: the buyer's offers, re-priced by the merchant


@dataclass
class MarketingChoice:
    """What the order-confirm page's marketing block sent: never a discount, only the choice and what it showed."""

    version: int
    choices: list[Choice]
    expected_payable: int | None = None  # the payable the buyer saw; a different server price refuses the order


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _loads(text: str | None) -> Any:
    return json.loads(text) if text else None


async def _why_not(conn: AsyncConnection, app_id: str, goods_id: str, quantity: int, now: int,
                   phone: str | None) -> TradeError:
    """Why the guarded stock statement took nothing, in the order a buyer can act on."""
    row = (
        await conn.execute(select(goods).where(goods.c.app_id == app_id, goods.c.goods_id == goods_id))
    ).first()
    if row is None:
        return TradeError("GOODS_NOT_FOUND", goods_id)
    if not row.on_shelf:
        return TradeError("GOODS_OFF_SHELF")
    if row.sale_start is not None and now < row.sale_start:
        return TradeError("GOODS_NOT_STARTED")
    if row.sale_end is not None and now >= row.sale_end:
        return TradeError("GOODS_SALE_ENDED")
    if not row.min_limits <= quantity <= row.max_limits:
        limits = f"[{row.min_limits}, {row.max_limits}]"
        return TradeError("QUANTITY_OUT_OF_LIMITS", f"quantity {quantity} is outside {limits}")
    if row.stock == 0:
        return TradeError("GOODS_SOLD_OUT")
    if row.stock < quantity:
        return TradeError("GOODS_SOLD_OUT", f"only {row.stock} left")
    if row.phone_required and phone is None:
        return TradeError("PHONE_REQUIRED")
    return TradeError("ORDER_STATUS_CONFLICT", "the goods changed meanwhile; try again")


def _merchant_goods_snapshot(info: dict[str, Any] | None) -> tuple[dict[str, Any], int, int, int, bool]:
    """Validate what the page's getgoodsinfo said about a merchant good: 21511 labels, 21512 types/limits."""
    if not isinstance(info, dict):
        raise TradeError("GOODS_INFO_TYPE_INVALID", "goods_info is required for merchant goods")
    price = info.get("currentPrice")
    name = info.get("goodsName")
    photo = info.get("goodsPhoto")
    if not isinstance(price, int) or isinstance(price, bool) or not 0 <= price <= goods_rules.MAX_UNIT_PRICE:
        raise TradeError("GOODS_INFO_TYPE_INVALID",
                         f"currentPrice must be an integer 0..{goods_rules.MAX_UNIT_PRICE} (fen)")
    if not isinstance(name, str) or not name:
        raise TradeError("GOODS_INFO_TYPE_INVALID", "goodsName must be a non-empty string")
    if not isinstance(photo, str):
        raise TradeError("GOODS_INFO_TYPE_INVALID", "goodsPhoto must be a string")
    labels = goods_rules.validate_labels(info.get("goodsLabels") or [])
    lo, hi = goods_rules.validate_limits(info.get("minLimits"), info.get("maxLimits"))
    date_rule = info.get("dateRule", "周一至周日可用")
    if not isinstance(date_rule, str):
        raise TradeError("GOODS_INFO_TYPE_INVALID", "dateRule must be a string")
    required = goods_rules.phone_required(info)
    snap = {"name": name, "photo_url": photo, "labels": labels, "date_rule": date_rule}
    return snap, price, lo, hi, required


def _pre_order_msg(
    app: Mapping[str, Any], o: dict[str, Any], items: list[dict[str, Any]], snap: dict[str, Any]
) -> dict[str, Any]:
    """The pre_create_order msg (reference §14.1)."""
    gtype = 1 if o["goods_type"] == GoodsType.LIBRARY else 2
    labels = "｜".join(goods_rules.label_text(lb, "zh-CN") for lb in snap["labels"])
    return {
        "app_id": app["app_id"],
        "open_id": o["open_id"],
        "union_id": "",
        "order_id": o["order_id"],
        "create_order_time": o["created_at"],
        "total_amount": o["total_amount"],
        "discount": o["discount_amount"],
        "cp_extra": o["cp_extra"] or "",
        "phone_num": o["phone_num"] or "",
        "contact_name": o["contact_name"] or "",
        "delivery_type": o["delivery_type"],
        "biz_line": o["biz_line"],
        "fulfill_type": 0,
        "goods": [{
            "goods_id": o["goods_id"], "goods_id_type": gtype, "quantity": o["quantity"],
            "origin_price": o["unit_price"], "price": o["unit_price"], "goods_title": snap["name"],
            "goods_image": snap["photo_url"], "labels": labels, "date_rule": snap["date_rule"],
        }],
        "sku_list": [{
            "sku_id": o["goods_id"], "sku_id_type": gtype, "quantity": o["quantity"],
            "origin_price": o["unit_price"], "price": o["unit_price"],
            "goods_info": {"img_url": snap["photo_url"], "title": snap["name"], "labels": labels,
                           "date_rule": snap["date_rule"], "goods_id": o["goods_id"], "goods_id_type": gtype},
        }],
        "item_order_info_list": [
            {"goods_id": o["goods_id"], "goods_id_type": gtype, "sku_id": o["goods_id"], "sku_id_type": gtype,
             "item_order_id": it["item_order_id"], "price": it["price"]}
            for it in items
        ],
        "price_calculation_detail": _loads(o["price_calculation_detail"]),
    }


def _order_dicts(req: PlaceOrder, app: Mapping[str, Any], oid: str, item_ids: list[str], now: int,
                 snap: dict[str, Any], unit_price: int, pricing: Pricing | None, phone: str | None, biz_line: int,
                 accepted_now: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The order row and its item orders (the payable split exactly over the units)."""
    q = req.quantity
    total = unit_price * q
    discount = pricing.discount if pricing else 0
    detail = _dumps(pricing.detail) if pricing and pricing.detail is not None else None
    prices = split_exact(total - discount, q)
    o: dict[str, Any] = {
        "order_id": oid, "app_id": req.app_id, "out_order_no": oid if accepted_now else None,
        "open_id": req.open_id, "goods_id": req.goods_id, "goods_type": req.goods_type, "quantity": q,
        "unit_price": unit_price, "total_amount": total, "discount_amount": discount,
        "status": OrderStatus.INIT.value,
        "pre_order_status": PreOrder.OK.value if accepted_now else PreOrder.PENDING.value,
        "phone_num": phone, "contact_name": (req.contact_name or None), "cp_extra": req.cp_extra,
        "goods_snapshot": _dumps(snap), "price_calculation_detail": detail, "order_entry_schema": None,
        "delivery_type": app["delivery_type"], "biz_line": biz_line, "legacy": False,
        "pay_expire_at": now + app["pay_expire_seconds"] * 1000, "auto_refund_pending": False,
        "created_at": now, "updated_at": now,
    }
    items = [
        {"item_order_id": iid, "order_id": oid, "app_id": req.app_id, "seq": i, "goods_id": req.goods_id,
         "price": prices[i], "status": int(ItemStatus.UNPAID), "refunded_amount": 0,
         "created_at": now, "updated_at": now}
        for i, iid in enumerate(item_ids)
    ]
    return o, items


async def place_order(ctx: Ctx, req: PlaceOrder) -> dict[str, Any]:
    """Create the order and its item orders, taking stock in one guarded UPDATE, then ask the merchant.

    With a marketing choice the merchant prices it first (never the browser); a priced library order then goes
    through the general path (_take_priced) instead of the fast path, which writes discount 0."""
    app = await ctx.app(req.app_id)
    if app["suspended"]:
        raise TradeError("APP_SUSPENDED")
    if req.goods_type not in (GoodsType.LIBRARY, GoodsType.MERCHANT):
        raise TradeError("GOODS_TYPE_INVALID")
    if not 1 <= req.quantity <= rules.MAX_QUANTITY:
        raise TradeError("QUANTITY_OUT_OF_LIMITS", "quantity must be in 1..99999")
    pre_order_url = app["pre_order_url"]
    if req.goods_type == GoodsType.MERCHANT and not pre_order_url:
        raise TradeError("PRE_ORDER_NOT_CONFIGURED", "merchant goods are priced only by pre_create_order")
    oid = ids.order_id()
    q = req.quantity
    item_ids = ids.item_order_ids(q)
    accepted_now = not pre_order_url
    attempts: list[dict[str, Any]] = []  # marketing calls at order time, logged once the order exists
    try:
        o, items, snap = await _create(ctx, app, req, oid, item_ids, accepted_now, attempts)
    except BaseException:
        if attempts:
            await _record_unplaced(ctx, attempts)
        raise
    if attempts:
        async with ctx.db.tx() as conn:
            await conn.execute(callback_attempts.insert(), attempts)
    if pre_order_url:
        await _ask_merchant(ctx, app, o, items, snap)
    return order_view(o, items, snap, app)


async def _create(ctx: Ctx, app: Mapping[str, Any], req: PlaceOrder, oid: str, item_ids: list[str], accepted_now: bool,
                  attempts: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """Price (marketing), take the stock and write the order and its item orders: the fast path, or the general
    one for a priced library order and for merchant goods."""
    q = req.quantity
    pricing: Pricing | None = None
    if req.goods_type == GoodsType.LIBRARY:
        phone = rules.normalise_phone(req.phone_num, required=False)
        if req.marketing is not None and req.marketing.choices:
            line = await marketing_line(ctx, req.app_id, req.goods_id, req.goods_type, q, None)
            pricing = await _marketing_price(ctx, app, req, line, oid, attempts)
        now = ctx.clock.now_ms()
        if pricing is not None and pricing.detail is not None:
            o, items, snap = await _take_priced(ctx, app, req, oid, item_ids, now, phone, pricing, accepted_now,
                                                line.price)
        else:
            taken = await ctx.writer.take(fastpath.NewOrder(
                order_id=oid, app_id=req.app_id, open_id=req.open_id, goods_id=req.goods_id, quantity=q,
                has_phone=phone is not None, phone_num=phone, contact_name=req.contact_name or None,
                cp_extra=req.cp_extra, out_order_no=oid if accepted_now else None,
                pre_order_status=PreOrder.OK.value if accepted_now else PreOrder.PENDING.value,
                delivery_type=app["delivery_type"], pay_expire_ms=app["pay_expire_seconds"] * 1000,
                item_ids=item_ids, now=now))
            if taken is None:
                async with ctx.db.engine.connect() as conn:
                    raise await _why_not(conn, req.app_id, req.goods_id, q, now, phone)
            snap = {"name": taken.name, "photo_url": taken.photo_url, "labels": json.loads(taken.labels),
                    "date_rule": taken.date_rule}
            o, items = _order_dicts(req, app, oid, item_ids, now, snap, taken.price, None, phone, taken.biz_line,
                                    accepted_now)
    else:
        snap, unit_price, lo, hi, phone_required = _merchant_goods_snapshot(req.goods_info)
        rules.check_quantity(q, lo, hi)
        phone = rules.normalise_phone(req.phone_num, phone_required)
        if req.marketing is not None and req.marketing.choices:
            line = Line(req.goods_id, int(GoodsType.MERCHANT), q, unit_price)
            pricing = await _marketing_price(ctx, app, req, line, oid, attempts)
        now = ctx.clock.now_ms()
        o, items = _order_dicts(req, app, oid, item_ids, now, snap, unit_price, pricing, phone, 1, accepted_now)
        async with ctx.db.tx() as conn:
            await conn.execute(store.INSERT_ORDER, o)
            await conn.execute(store.INSERT_ITEMS, items)
    return o, items, snap


async def marketing_line(ctx: Ctx, app_id: str, goods_id: str, goods_type: int, quantity: int,
                         goods_info: dict[str, Any] | None) -> Line:
    """The goods line a marketing quote prices: a library good's price from our record, a merchant good's from
    its getgoodsinfo (validated as an order would be); the quantity within the goods' limits."""
    if goods_type == GoodsType.LIBRARY:
        async with ctx.db.engine.connect() as conn:
            row = (await conn.execute(select(goods.c.price, goods.c.min_limits, goods.c.max_limits).where(
                goods.c.app_id == app_id, goods.c.goods_id == goods_id))).first()
        if row is None:
            raise TradeError("GOODS_NOT_FOUND", goods_id)
        rules.check_quantity(quantity, row.min_limits, row.max_limits)
        return Line(goods_id, int(GoodsType.LIBRARY), quantity, row.price)
    if goods_type != GoodsType.MERCHANT:
        raise TradeError("GOODS_TYPE_INVALID")
    _, price, lo, hi, _ = _merchant_goods_snapshot(goods_info)
    rules.check_quantity(quantity, lo, hi)
    return Line(goods_id, int(GoodsType.MERCHANT), quantity, price)


async def _marketing_price(ctx: Ctx, app: Mapping[str, Any], req: PlaceOrder, line: Line, oid: str,
                           attempts: list[dict[str, Any]]) -> Pricing | None:
    """Re-ask the merchant to price the buyer's choice. Its answer is the price; when it fails the order goes at
    full price, but only if the buyer saw the full price (or said nothing): otherwise the order is refused with
    the price the server would charge, for the page to show."""
    m = req.marketing
    assert m is not None
    got = await marketing.quote(ctx, app, req.open_id, line, m.version, m.choices, with_offers=False,
                                order_id=oid, attempts=attempts)
    if got.available:
        if m.expected_payable is not None and m.expected_payable != got.payable:
            await _record_unplaced(ctx, attempts)
            raise TradeError("ORDER_DATA_INVALID", f"the discount changed: the payable is now {got.payable} fen, "
                             f"not {m.expected_payable}", reason="MARKETING_PRICE_CHANGED", quote=got.view())
        return got.pricing
    if m.expected_payable is not None and m.expected_payable != line.total:
        await _record_unplaced(ctx, attempts)
        raise TradeError("ORDER_DATA_INVALID", f"discounts are unavailable ({got.reason}): the payable is the full "
                         f"{line.total} fen", reason="MARKETING_UNAVAILABLE", quote=got.view())
    return None


async def _record_unplaced(ctx: Ctx, attempts: list[dict[str, Any]]) -> None:
    """The marketing calls of an order that was not placed: logged without an order id."""
    for a in attempts:
        a["order_id"] = None
    async with ctx.db.tx() as conn:
        await conn.execute(callback_attempts.insert(), attempts)
    attempts.clear()


async def _take_priced(ctx: Ctx, app: Mapping[str, Any], req: PlaceOrder, oid: str, item_ids: list[str], now: int,
                       phone: str | None, pricing: Pricing, accepted_now: bool,
                       price: int) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """The general path for a discounted library order: the same guarded stock statement as the fast path (plus
    the unit price the merchant priced), the order with its discount and detail, the item orders split exactly,
    in one transaction."""
    q = req.quantity
    conds = [goods.c.app_id == req.app_id, goods.c.goods_id == req.goods_id, goods.c.stock >= q,
             goods.c.on_shelf.is_(True), or_(goods.c.sale_start.is_(None), goods.c.sale_start <= now),
             or_(goods.c.sale_end.is_(None), goods.c.sale_end > now), goods.c.min_limits <= q,
             goods.c.max_limits >= q, goods.c.price == price]
    if phone is None:
        conds.append(goods.c.phone_required.is_(False))
    take = (update(goods).where(*conds).values(stock=goods.c.stock - q, sold=goods.c.sold + q, updated_at=now)
            .returning(goods.c.name, goods.c.photo_url, goods.c.labels, goods.c.date_rule, goods.c.biz_line))
    async with ctx.db.tx() as conn:
        row = (await conn.execute(take)).first()
        if row is not None:
            snap = {"name": row.name, "photo_url": row.photo_url, "labels": json.loads(row.labels),
                    "date_rule": row.date_rule}
            o, items = _order_dicts(req, app, oid, item_ids, now, snap, price, pricing, phone, row.biz_line,
                                    accepted_now)
            await conn.execute(store.INSERT_ORDER, o)
            await conn.execute(store.INSERT_ITEMS, items)
            return o, items, snap
    async with ctx.db.engine.connect() as conn:
        raise await _why_not(conn, req.app_id, req.goods_id, q, now, phone)


async def _ask_merchant(ctx: Ctx, app: Mapping[str, Any], o: dict[str, Any], items: list[dict[str, Any]],
                        snap: dict[str, Any]) -> None:
    attempts: list[dict[str, Any]] = []
    try:
        data = await call_extension(
            ctx, app_id=app["app_id"], kind="pre_create_order", url=app["pre_order_url"],
            msg=_pre_order_msg(app, o, items, snap), budget=ctx.settings.pre_order_timeout_seconds,
            order_id=o["order_id"], attempts=attempts, parse=rules.parse_pre_order_answer,
        )
        answer = data
        now = ctx.clock.now_ms()
        pes = answer.get("pay_expire_seconds")
        expire_at = o["created_at"] + pes * 1000 if pes else o["pay_expire_at"]
        schema = _dumps(answer["order_entry_schema"]) if "order_entry_schema" in answer else None
        try:
            accepted = await ctx.writer.accept(o["order_id"], answer["out_order_no"], expire_at, schema, now,
                                               attempts[0] if attempts else None)
        except fastpath.DuplicateOutOrderNo as e:
            raise TradeError("OUT_ORDER_NO_DUPLICATE", answer["out_order_no"]) from e
        if not accepted:
            raise TradeError("ORDER_STATUS_CONFLICT", "the order ended while the merchant was asked")
        attempts.clear()
        o.update(out_order_no=answer["out_order_no"], pre_order_status=PreOrder.OK.value,
                 pay_expire_at=expire_at, order_entry_schema=schema)
    except BaseException as exc:
        message = exc.text("en") if isinstance(exc, TradeError) else f"internal: {type(exc).__name__}"
        await _fail_pending(ctx, o, message, attempts)
        raise


async def _fail_pending(ctx: Ctx, o: dict[str, Any], message: str, attempts: list[dict[str, Any]]) -> None:
    """The merchant refused or failed: the order ends FAIL and its stock returns, in one transaction."""
    now = ctx.clock.now_ms()
    async with ctx.db.tx() as conn:
        res = await conn.execute(store.FAIL_PRE_ORDER, {"oid": o["order_id"], "message": message[:500], "now": now})
        if res.rowcount == 1:
            if o["goods_type"] == GoodsType.LIBRARY:
                back = {"a": o["app_id"], "g": o["goods_id"], "q": o["quantity"], "now": now}
                await conn.execute(store.RETURN_STOCK, back)
            await conn.execute(store.CLOSE_ITEMS, {"oid": o["order_id"], "now": now})
        if attempts:
            await conn.execute(callback_attempts.insert(), attempts)
    o.update(status=OrderStatus.FAIL.value, pre_order_status=PreOrder.FAILED.value, message=message)


def order_view(
    o: Any, items: list[Any], snap: dict[str, Any] | None = None, app: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The buyer-facing order (also the base of the pages)."""
    m = o if isinstance(o, dict) else dict(o._mapping)
    snapshot = snap if snap is not None else json.loads(m["goods_snapshot"])
    its = [i if isinstance(i, dict) else dict(i._mapping) for i in items]
    view: dict[str, Any] = {
        "order_id": m["order_id"],
        "out_order_no": m["out_order_no"],
        "status": m["status"],
        "pre_order_status": m["pre_order_status"],
        "goods_id": m["goods_id"],
        "goods_type": m["goods_type"],
        "goods": {"name": snapshot["name"], "photo_url": snapshot["photo_url"], "labels": snapshot["labels"],
                  "label_texts": [goods_rules.label_text(lb, "zh-CN") for lb in snapshot["labels"]],
                  "date_rule": snapshot["date_rule"]},
        "quantity": m["quantity"],
        "unit_price": m["unit_price"],
        "total_amount": m["total_amount"],
        "discount_amount": m["discount_amount"],
        "payable": m["total_amount"] - m["discount_amount"],
        "price_calculation_detail": _loads(m.get("price_calculation_detail")),
        "pay_expire_at": m["pay_expire_at"],
        "created_at": m["created_at"],
        "paid_at": m.get("paid_at"),
        "pay_channel": m.get("pay_channel"),
        "message": m.get("message"),
        "item_orders": [
            {"item_order_id": i["item_order_id"], "price": i["price"], "status": i["status"],
             "refunded_amount": i["refunded_amount"]}
            for i in its
        ],
    }
    if app is not None:
        view["merchant_name"] = app["name"]
    return view


# ------------------------------------------------------------------ reading


async def get_buyer_order(ctx: Ctx, app_id: str, open_id: str, order_ref: str) -> dict[str, Any]:
    """A buyer's own order by platform order id or merchant out_order_no."""
    async with ctx.db.engine.connect() as conn:
        row = await store.find_buyer_order(conn, app_id, open_id, order_ref)
        if row is None:
            raise TradeError("ORDER_NOT_FOUND", order_ref)
        items = await store.items_of(conn, row.order_id)
    return order_view(row, items, app=await ctx.app(app_id))


# Opening the cashier and paying (payment attempts, settling) are in order/paying.py.


# ------------------------------------------------------------------ ending unpaid orders


async def _end(ctx: Ctx, conn: AsyncConnection, stmt: Any, order_id: str, message: str, notify: bool) -> bool:
    now = ctx.clock.now_ms()
    row = (await conn.execute(stmt, {"oid": order_id, "now": now, "message": message})).first()
    if row is None:
        return False
    if row.goods_type == GoodsType.LIBRARY:
        await conn.execute(store.RETURN_STOCK, {"a": row.app_id, "g": row.goods_id, "q": row.quantity, "now": now})
    await conn.execute(store.CLOSE_ITEMS, {"oid": order_id, "now": now})
    if notify and row.pre_order_status == PreOrder.OK:
        from paybutton.order.paying import payment_msg  # paying.py builds on this module

        app = await app_service.get_app(conn, row.app_id)  # this connection: SQLite's pool has only one
        full = await store.order_row(conn, order_id)
        await outbox.enqueue(conn, ctx.clock, app_id=row.app_id, kind="payment", url=app["payment_notify_url"],
                             msg=payment_msg(full, "CANCEL", message), order_id=order_id)
    return True


async def expire_due(ctx: Ctx, limit: int = 200) -> int:
    """Time out unpaid orders past their deadline and give their stock back. Safe with several instances:
    each order ends in its own guarded transaction, so only one instance wins it."""
    now = ctx.clock.now_ms()
    async with ctx.db.engine.connect() as conn:
        due = [r.order_id for r in (await conn.execute(store.DUE_FOR_EXPIRY, {"now": now, "n": limit})).all()]
    ended = 0
    for order_id in due:
        async with ctx.db.tx() as conn:
            if await _end(ctx, conn, store.TIME_OUT, order_id, "TIME_OUT", notify=True):
                ended += 1
    return ended


async def close_order(ctx: Ctx, conn: AsyncConnection, app_id: str, order_id: str) -> None:
    """The merchant closes an unpaid order (order/close_order): FAIL, stock back, items closed."""
    row = await store.find_order(conn, app_id, order_id=order_id)
    if row is None:
        raise TradeError("ORDER_NOT_FOUND", order_id)
    if row.status not in UNPAID:
        raise TradeError("ORDER_STATUS_CONFLICT", f"the order is {row.status}")
    if not await _end(ctx, conn, store.CLOSE, order_id, "CLOSED", notify=False):
        raise TradeError("ORDER_STATUS_CONFLICT", "the order changed meanwhile")
