"""Placing an order: check the request, price the buyer's marketing choice (the merchant prices it, never the
browser), write the order through the database's order writer (library goods take their stock in the same
round trip), then ask the merchant (pre_create_order) when the app has a pre-order URL. No transaction is held
open while the merchant is called; a refusal or failure ends the order FAIL and returns its stock."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select

from paybutton import ids
from paybutton.callbacks.merchant import ExtensionCall, call_extension
from paybutton.context import Ctx
from paybutton.errors import TradeError
from paybutton.marketing import service as marketing
from paybutton.marketing.rules import Choice, Line, Pricing
from paybutton.order import rules, store
from paybutton.order.ending import end_order
from paybutton.order.rows import (
    Goods,
    ItemOrder,
    NewOrder,
    Order,
    Snapshot,
    dumps,
    item_rows,
    order_row,
    snapshot,
)
from paybutton.order.states import GoodsType, PreOrder
from paybutton.order.views import order_view
from paybutton.order.writer import Acceptance, DuplicateOutOrderNo
from paybutton.order.writer_registry import writer_of
from paybutton.tables import callback_attempts, goods
from paybutton.telemetry import metrics

log = logging.getLogger("paybutton.order")


@dataclass
class MarketingChoice:
    """What the order-confirm page's marketing block sent: never a discount, only the choice and what it showed."""

    version: int
    choices: list[Choice]
    expected_payable: int | None = None  # the payable the buyer saw; a different server price refuses the order


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
    order_id: str | None = None  # the id an Idempotency-Key's placement reserved for it (kernel/order_keys.py)


@dataclass
class Placed:
    """An order as written: its row, its item orders and the goods snapshot the buyer sees."""

    order: Order  # replaced when the merchant accepts it
    items: list[ItemOrder]
    snap: Snapshot


async def place_order(ctx: Ctx, req: PlaceOrder) -> dict[str, Any]:
    """Write the order and its item orders, then ask the merchant; the buyer's view of the order. Counted
    (telemetry/metrics.py) and logged: placed, or refused with the error's name."""
    try:
        view = await _place_order(ctx, req)
    except TradeError as e:
        metrics.order_refused(e.name)
        log.info("order refused: %s", e.name, extra={"app_id": req.app_id, "goods_id": req.goods_id,
                                                      "errNo": e.spec.err_no, "detail": e.message or ""})
        raise
    metrics.ORDERS_PLACED.inc()
    return view


async def _place_order(ctx: Ctx, req: PlaceOrder) -> dict[str, Any]:
    app = await ctx.app(req.app_id)
    _check(req, app)
    new = _new_order(ctx, req, app)
    attempts: list[dict[str, Any]] = []  # marketing calls at order time, logged once the order exists
    try:
        placed = await _write(ctx, app, req, new, attempts)
    except BaseException:
        if attempts:
            await _record_unplaced(ctx, attempts)
        raise
    if attempts:
        async with ctx.db.tx() as conn:
            await conn.execute(callback_attempts.insert(), attempts)
    if app["pre_order_url"]:
        await _ask_merchant(ctx, app, placed)
    return order_view(placed.order, placed.items, placed.snap, app)


def _check(req: PlaceOrder, app: Mapping[str, Any]) -> None:
    if app["suspended"]:
        raise TradeError("APP_SUSPENDED")
    if req.goods_type not in (GoodsType.LIBRARY, GoodsType.MERCHANT):
        raise TradeError("GOODS_TYPE_INVALID")
    if not 1 <= req.quantity <= rules.MAX_QUANTITY:
        raise TradeError("QUANTITY_OUT_OF_LIMITS", "quantity must be in 1..99999")
    if req.goods_type == GoodsType.MERCHANT and not app["pre_order_url"]:
        raise TradeError("PRE_ORDER_NOT_CONFIGURED", "merchant goods are priced only by pre_create_order")


def _new_order(ctx: Ctx, req: PlaceOrder, app: Mapping[str, Any]) -> NewOrder:
    """The order before its goods and price are known (phone and `now` are set when it is written)."""
    oid = req.order_id or ids.order_id()
    accepted_now = not app["pre_order_url"]
    return NewOrder(
        order_id=oid, app_id=req.app_id, open_id=req.open_id, goods_id=req.goods_id, goods_type=req.goods_type,
        quantity=req.quantity, phone_num=None, contact_name=req.contact_name or None, cp_extra=req.cp_extra,
        out_order_no=oid if accepted_now else None,
        pre_order_status=PreOrder.OK.value if accepted_now else PreOrder.PENDING.value,
        delivery_type=app["delivery_type"], pay_expire_ms=app["pay_expire_seconds"] * 1000,
        item_ids=ids.item_order_ids(req.quantity), now=0)


async def _write(ctx: Ctx, app: Mapping[str, Any], req: PlaceOrder, new: NewOrder,
                 attempts: list[dict[str, Any]]) -> Placed:
    """Price (marketing) and write: a library good through the guarded stock statement, a merchant good as the
    page described it. Both through the database's order writer."""
    wants_price = req.marketing is not None and bool(req.marketing.choices)
    writer = await writer_of(ctx)
    if req.goods_type == GoodsType.LIBRARY:
        new.phone_num = rules.normalise_phone(req.phone_num, required=False)
        if wants_price:
            line = await marketing_line(ctx, req.app_id, req.goods_id, req.goods_type, req.quantity, None)
            _priced(new, line, await _marketing_price(ctx, app, req, line, new.order_id, attempts))
        new.now = ctx.clock.now_ms()
        return _placed(new, await writer.take(new))
    m = rules.merchant_goods(req.goods_info)
    rules.check_quantity(req.quantity, m.min_limits, m.max_limits)
    rules.check_total(m.goods.price, req.quantity)
    new.phone_num = rules.normalise_phone(req.phone_num, m.phone_required)
    if wants_price:
        line = Line(req.goods_id, int(GoodsType.MERCHANT), req.quantity, m.goods.price)
        _priced(new, line, await _marketing_price(ctx, app, req, line, new.order_id, attempts))
    new.now = ctx.clock.now_ms()
    await writer.insert(new, m.goods)
    return _placed(new, m.goods)


def _priced(new: NewOrder, line: Line, pricing: Pricing | None) -> None:
    """The merchant's price for the order (a library good is then taken only at the unit price it priced)."""
    if pricing is not None and pricing.detail is not None:
        new.price = line.price
        new.discount = pricing.discount
        new.price_detail = dumps(pricing.detail)


def _placed(new: NewOrder, g: Goods) -> Placed:
    return Placed(Order.from_new(order_row(new, g)), [ItemOrder.from_new(i) for i in item_rows(new, g.price)],
                  snapshot(g))


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
    m = rules.merchant_goods(goods_info)
    rules.check_quantity(quantity, m.min_limits, m.max_limits)
    return Line(goods_id, int(GoodsType.MERCHANT), quantity, m.goods.price)


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


async def _ask_merchant(ctx: Ctx, app: Mapping[str, Any], p: Placed) -> None:
    """pre_create_order: the merchant's out_order_no (and maybe deadline and entry) accepts the order."""
    o = p.order
    attempts: list[dict[str, Any]] = []
    try:
        answer = await call_extension(ctx, ExtensionCall(
            app_id=app["app_id"], kind="pre_create_order", url=app["pre_order_url"],
            msg=rules.pre_order_msg(app["app_id"], o, p.items, p.snap),
            budget=ctx.settings.pre_order_timeout_seconds, order_id=o.order_id,
            parse=rules.parse_pre_order_answer), attempts=attempts)
        pes = answer.get("pay_expire_seconds")
        expire_at = o.created_at + pes * 1000 if pes else o.pay_expire_at
        schema = dumps(answer["order_entry_schema"]) if "order_entry_schema" in answer else None
        acceptance = Acceptance(o.order_id, answer["out_order_no"], expire_at, schema, ctx.clock.now_ms(),
                                attempts[0] if attempts else None, app_id=app["app_id"])
        try:
            accepted = await (await writer_of(ctx)).accept(acceptance)
        except DuplicateOutOrderNo as e:
            raise TradeError("OUT_ORDER_NO_DUPLICATE", answer["out_order_no"]) from e
        if not accepted:
            raise TradeError("ORDER_STATUS_CONFLICT", "the order ended while the merchant was asked")
        attempts.clear()
        p.order = replace(o, out_order_no=answer["out_order_no"], pre_order_status=PreOrder.OK.value,
                          pay_expire_at=expire_at, order_entry_schema=schema)
    except BaseException as exc:
        message = exc.text("en") if isinstance(exc, TradeError) else f"internal: {type(exc).__name__}"
        await _fail_pending(ctx, o, message, attempts)
        raise


async def _fail_pending(ctx: Ctx, o: Order, message: str, attempts: list[dict[str, Any]]) -> None:
    """The merchant refused or failed: the order ends FAIL and its stock returns, in one transaction."""
    async with ctx.db.tx() as conn:
        await end_order(ctx, conn, store.FAIL_PRE_ORDER, o.app_id, o.order_id, message[:500], notify=False)
        if attempts:
            await conn.execute(callback_attempts.insert(), attempts)
