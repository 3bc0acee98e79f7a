"""The fulfilment tools (核销工具, issue 22): a buyer's certificates (query_user_certificates), whether an order can
be used (order_can_use), one certificate's info, redemption without a verify_token (verify_local_certificates),
locking and unlocking a certificate (change_lock_status) and the merchant's "service done" (push_service_done).
Whether a unit can be used is order/states.redeemable (the one rule, with the booking's day); redemption is
fulfillment/service.verify_unit, the same guarded UPDATE as delivery_verify.

Shapes: Douyin's 查询用户券列表 and 查询订单可用门店 examples (…/write-off/fulfill-tool/query-user-certificates,
order-can-use; the SKIT.FlurlHttpClient.ByteDance model samples carry the same bodies). The toolkit bodies are ours:
the documents give only the paths (docs/openapi.md, "Fulfilment tools")."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.clock import Clock, beijing_day
from paybutton.errors import TradeError
from paybutton.fulfillment.service import QR_PREFIX, verify_unit
from paybutton.order import store as order_store
from paybutton.order.rows import ItemOrder, Order
from paybutton.order.states import ItemStatus, OrderStatus, redeemable
from paybutton.tables import goods, item_orders, orders

DAY_S = 24 * 3600


async def _valid_days(conn: AsyncConnection, app_id: str, goods_id: str) -> int | None:
    q = select(goods.c.valid_days).where(goods.c.app_id == app_id, goods.c.goods_id == goods_id)
    days = (await conn.execute(q)).scalar()
    return None if days is None else int(days)


def certificate_view(order: Order, item: ItemOrder, today: str, valid_days: int | None) -> dict[str, Any]:
    """A unit as Douyin's certificate (times in seconds, as its examples), plus ours: the unit's state, lock and
    booking."""
    snap = order.snapshot()
    start = (order.paid_at or order.created_at) // 1000
    return {
        "certificate_id": item.certificate_id or "", "item_order_id": item.item_order_id,
        "order_id": order.order_id, "encrypted_code": item.voucher_code or "",
        "start_time": start, "expire_time": start + valid_days * DAY_S if valid_days else 0,
        "sku_info": {"account_id": order.app_id, "sku_id": order.goods_id, "third_sku_id": "",
                     "title": snap.get("name", ""), "groupon_type": 1, "market_price": order.unit_price,
                     "sold_start_time": order.created_at // 1000},
        "amount": {"original_amount": order.unit_price, "pay_amount": item.price, "merchant_ticket_amount": 0,
                   "payment_discount_amount": order.unit_price - item.price, "coupon_pay_amount": item.price},
        "status": item.status, "can_use": redeemable(item, today), "lock_status": int(item.locked),
        "book_status": item.book_status, "book_date": item.book_date or "",
        "verify_id": item.verify_id or "", "verify_time": item.verified_at or 0,
        "service_done_time": item.service_done_at or 0, "refunded_amount": item.refunded_amount,
    }


def _usable(item: ItemOrder) -> bool:
    """Listed by the tools: paid, not used up, nothing in flight (it may be locked or booked for another day)."""
    return bool(item.status == ItemStatus.UNUSED and item.refunding_amount == 0)


async def _order_certs(conn: AsyncConnection, order: Order, today: str) -> dict[str, Any]:
    days = await _valid_days(conn, order.app_id, order.goods_id)
    units = await order_store.items_of(conn, order.app_id, order.order_id)
    certs = [certificate_view(order, i, today, days) for i in units if _usable(i)]
    return {"order_id": order.order_id, "can_use": any(c["can_use"] for c in certs), "certificates": certs}


async def user_certificates(conn: AsyncConnection, clock: Clock, app_id: str, *, open_id: str, page: int,
                            page_size: int) -> dict[str, Any]:
    """query_user_certificates: the buyer's paid orders that still have a usable unit, newest first, a page."""
    has_unit = select(item_orders.c.item_order_id).where(
        item_orders.c.app_id == orders.c.app_id, item_orders.c.order_id == orders.c.order_id,
        item_orders.c.status == int(ItemStatus.UNUSED), item_orders.c.refunding_amount == 0).exists()
    where = and_(orders.c.app_id == app_id, orders.c.open_id == open_id,
                 orders.c.status == OrderStatus.SUCCESS.value, has_unit)
    total = int((await conn.execute(select(func.count()).select_from(orders).where(where))).scalar_one())
    rows = [Order.from_row(r) for r in (await conn.execute(
        select(orders).where(where).order_by(orders.c.created_at.desc(), orders.c.order_id)
        .limit(page_size).offset((page - 1) * page_size))).all()]
    today = beijing_day(clock.now_ms())
    return {"orders": [await _order_certs(conn, o, today) for o in rows], "total": total}


async def order_can_use(conn: AsyncConnection, clock: Clock, app_id: str, order_id: str) -> dict[str, Any]:
    """order_can_use: can any unit of the order be redeemed now, and its usable certificates."""
    order = await order_store.find_order(conn, app_id, order_id=order_id)
    if order is None:
        raise TradeError("ORDER_NOT_FOUND", order_id)
    return await _order_certs(conn, order, beijing_day(clock.now_ms()))


async def _unit(conn: AsyncConnection, app_id: str, *, certificate_id: str | None = None,
                code: str | None = None) -> ItemOrder:
    if certificate_id:
        where = item_orders.c.certificate_id == certificate_id
    elif code:
        where = item_orders.c.voucher_code == code.removeprefix(QR_PREFIX)
    else:
        raise TradeError("VOUCHER_NOT_FOUND", "certificate_id or code is required")
    row = (await conn.execute(select(item_orders).where(where, item_orders.c.app_id == app_id))).first()
    if row is None:
        raise TradeError("VOUCHER_NOT_FOUND", certificate_id or code or "")
    return ItemOrder.from_row(row)


async def certificate_info(conn: AsyncConnection, clock: Clock, app_id: str, *, certificate_id: str | None,
                           code: str | None) -> dict[str, Any]:
    """query_certificate_info: one certificate, whatever its state."""
    item = await _unit(conn, app_id, certificate_id=certificate_id, code=code)
    order = await order_store.order_row(conn, item.app_id, item.order_id)
    assert order is not None
    days = await _valid_days(conn, app_id, order.goods_id)
    return {"certificate": certificate_view(order, item, beijing_day(clock.now_ms()), days)}


async def verify_local(conn: AsyncConnection, clock: Clock, app_id: str, certificate_ids: list[str]
                       ) -> list[dict[str, Any]]:
    """verify_local_certificates: redeem each certificate with the guarded UPDATE of delivery_verify; each result
    says why not (locked, booked for another day, ...)."""
    items = [await _unit(conn, app_id, certificate_id=c) for c in dict.fromkeys(certificate_ids)]
    now = clock.now_ms()
    return [await verify_unit(conn, now, i) for i in items]


LOCK = (update(item_orders).where(item_orders.c.status == int(ItemStatus.UNUSED), item_orders.c.refunding_amount == 0,
                                  item_orders.c.locked == 0))
UNLOCK = update(item_orders).where(item_orders.c.locked == 1)


async def change_lock(conn: AsyncConnection, clock: Clock, app_id: str, *, certificate_id: str, lock: bool
                      ) -> dict[str, Any]:
    """change_lock_status: lock an unused certificate (no redemption, no refund) or unlock it. Locking a redeemed,
    refunding or refunded one is refused; locking a locked one (or unlocking an unlocked one) changes nothing."""
    item = await _unit(conn, app_id, certificate_id=certificate_id)
    stmt = LOCK if lock else UNLOCK
    res = await conn.execute(stmt.where(item_orders.c.app_id == app_id,
                                        item_orders.c.item_order_id == item.item_order_id)
                             .values(locked=int(lock), updated_at=clock.now_ms()))
    if res.rowcount != 1 and lock and not item.locked:
        raise TradeError("CERTIFICATE_NOT_LOCKABLE", f"{certificate_id} has status {item.status}")
    return {"certificate_id": certificate_id, "lock_status": int(lock)}


async def service_done(conn: AsyncConnection, clock: Clock, app_id: str, *, order_id: str,
                       item_order_ids: list[str]) -> dict[str, Any]:
    """push_service_done: the merchant says the service of redeemed units is done (all redeemed units, or the
    listed ones, each of which must be redeemed)."""
    order = await order_store.find_order(conn, app_id, order_id=order_id)
    if order is None:
        raise TradeError("ORDER_NOT_FOUND", order_id)
    items = {i.item_order_id: i for i in await order_store.items_of(conn, app_id, order_id)}
    missing = [x for x in item_order_ids if x not in items]
    if missing:
        raise TradeError("ITEM_ORDER_NOT_IN_ORDER", ", ".join(missing))
    wanted = [items[x] for x in dict.fromkeys(item_order_ids)] if item_order_ids else [
        i for i in items.values() if i.status == ItemStatus.REDEEMED]
    bad = [i.item_order_id for i in wanted if i.status != ItemStatus.REDEEMED]
    if bad or not wanted:
        raise TradeError("SERVICE_NOT_DONE", ", ".join(bad) or "no unit of this order is redeemed")
    now = clock.now_ms()
    for i in wanted:
        await conn.execute(update(item_orders).where(item_orders.c.app_id == app_id,
                                                     item_orders.c.item_order_id == i.item_order_id,
                                                     item_orders.c.service_done_at.is_(None))
                           .values(service_done_at=now, updated_at=now))
    return {"order_id": order_id, "item_order_id_list": [i.item_order_id for i in wanted]}


async def order_certificates(conn: AsyncConnection, clock: Clock, app_id: str, order_id: str) -> list[dict[str, Any]]:
    """Every unit of an order as a certificate, whatever its state (`paybutton bookings certificates`)."""
    order = await order_store.find_order(conn, app_id, order_id=order_id)
    if order is None:
        raise TradeError("ORDER_NOT_FOUND", order_id)
    days = await _valid_days(conn, app_id, order.goods_id)
    today = beijing_day(clock.now_ms())
    return [certificate_view(order, i, today, days) for i in await order_store.items_of(conn, app_id, order_id)]
