"""Vouchers and verification (核销): a code per paid unit, delivery_prepare -> verify_token, delivery_verify,
verify_cancel, push_delivery (merchant codes). A unit verifies only while unused with no refund in flight,
in one guarded UPDATE, so a verification racing a refund of the same unit: exactly one wins."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton import audit
from paybutton.clock import Clock, beijing_day
from paybutton.errors import TradeError
from paybutton.fulfillment.not_redeemable import why_not
from paybutton.goods import rules as goods_rules
from paybutton.order import store as order_store
from paybutton.order.rows import ItemOrder
from paybutton.order.states import ItemStatus, OrderStatus, redeemable
from paybutton.refund.rules import voucher_state
from paybutton.tables import apps, item_orders, orders

TOKEN_TTL_MS = 30 * 60 * 1000
DELIVERY_THIRD_PARTY = 0  # 三方码: the merchant's own codes, push_delivery (1 = 抖音码, the platform's codes)
QR_PREFIX = "pbv1:"

VERIFY = (
    update(item_orders)
    .where(
        item_orders.c.app_id == bindparam("app"),
        item_orders.c.item_order_id == bindparam("iid"),
        order_store.REDEEMABLE_TODAY,
    )
    .values(status=int(ItemStatus.REDEEMED), verify_id=bindparam("vid"), verified_at=bindparam("now"),
            updated_at=bindparam("now"))
)

CANCEL = (
    update(item_orders)
    .where(
        item_orders.c.app_id == bindparam("app"),
        item_orders.c.order_id == bindparam("oid"),
        item_orders.c.certificate_id == bindparam("cid"),
        item_orders.c.verify_id == bindparam("vid"),
        item_orders.c.status == int(ItemStatus.REDEEMED),
        order_store.UNSETTLED,
    )
    .values(status=int(ItemStatus.UNUSED), verify_id=None, verified_at=None, updated_at=bindparam("now"))
)


def qr_data(code: str) -> str:
    """What the voucher's QR encodes (the `encrypted_data` delivery_prepare accepts)."""
    return QR_PREFIX + code


def _sign(secret: str, order_id: str, exp: int) -> str:
    return hmac.new(secret.encode(), f"{order_id}.{exp}".encode(), hashlib.sha256).hexdigest()[:32]


async def _app_secret(conn: AsyncConnection, app_id: str) -> str:
    return str((await conn.execute(select(apps.c.secret).where(apps.c.app_id == app_id))).scalar_one())


def _cert(i: ItemOrder) -> dict[str, Any]:
    return {"encrypted_code": i.voucher_code, "certificate_id": i.certificate_id, "item_order_id": i.item_order_id}


async def prepare(conn: AsyncConnection, clock: Clock, app_id: str, *, code: str | None,
                  encrypted_data: str | None) -> dict[str, Any]:
    """delivery_prepare: the order behind a code (or QR data), a verify_token and its redeemable certificates."""
    raw = code or (encrypted_data or "")
    raw = raw.removeprefix(QR_PREFIX)
    if not raw:
        raise TradeError("INVALID_PARAMETER", "code or encrypted_data is required")
    row = (await conn.execute(select(item_orders).where(item_orders.c.voucher_code == raw,
                                                        item_orders.c.app_id == app_id))).first()
    if row is None:
        raise TradeError("VOUCHER_NOT_FOUND", raw)
    item = ItemOrder.from_row(row)
    order = await order_store.order_row(conn, item.app_id, item.order_id)
    assert order is not None
    if order.status != OrderStatus.SUCCESS:
        raise TradeError("ORDER_STATUS_CONFLICT", f"the order is {order.status}")
    today = beijing_day(clock.now_ms())
    units = [i for i in await order_store.items_of(conn, order.app_id, order.order_id)
             if redeemable(i, today) and i.voucher_code]
    if not units:
        raise TradeError("VOUCHER_NOT_VERIFIABLE", "no unit of this order can be redeemed")
    exp = clock.now_ms() + TOKEN_TTL_MS
    token = f"{exp}.{_sign(await _app_secret(conn, app_id), order.order_id, exp)}"
    return {"order_id": order.order_id, "out_order_no": order.out_order_no or "", "verify_token": token,
            "certificates": [_cert(i) for i in units]}


async def _check_token(conn: AsyncConnection, clock: Clock, app_id: str, order_id: str, token: str) -> None:
    exp_s, _, sig = token.partition(".")
    if not exp_s.isdigit() or int(exp_s) < clock.now_ms():
        raise TradeError("VERIFY_TOKEN_INVALID")
    if not hmac.compare_digest(sig, _sign(await _app_secret(conn, app_id), order_id, int(exp_s))):
        raise TradeError("VERIFY_TOKEN_INVALID")


async def verify_unit(conn: AsyncConnection, now: int, item: ItemOrder) -> dict[str, Any]:
    vid = "vf" + secrets.token_hex(8)
    res = await conn.execute(VERIFY, {"app": item.app_id, "iid": item.item_order_id, "vid": vid, "now": now,
                                      "today": beijing_day(now)})
    if res.rowcount == 1:
        await audit.record(conn, app_id=item.app_id, action="voucher.verify", target=item.item_order_id,
                           before={"status": int(item.status)}, after={"status": int(ItemStatus.REDEEMED),
                                                                       "verify_id": vid}, at_ms=now)
        return {"item_order_id": item.item_order_id, "certificate_id": item.certificate_id,
                "certificate_code": item.voucher_code, "result_code": 0, "result_msg": "success",
                "verify_id": vid, "verify_time": now}
    # already redeemed when, refunded when, ... (a unit with a certificate has its code: set_voucher sets both;
    # str() names a missing one "None", as the text always did)
    err = await why_not(conn, item.app_id, item.item_order_id, str(item.voucher_code), now)
    return {"item_order_id": item.item_order_id, "certificate_id": item.certificate_id,
            "certificate_code": item.voucher_code, "result_code": err.spec.sub_error_code,
            "result_msg": err.text("zh-CN"), "verify_id": "", "verify_time": 0}


async def verify(conn: AsyncConnection, clock: Clock, app_id: str, *, order_id: str, verify_token: str,
                 certificates: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """delivery_verify: each certificate (encrypted_code, certificate_id) in its own guarded UPDATE."""
    order = await order_store.find_order(conn, app_id, order_id=order_id)
    if order is None:
        raise TradeError("ORDER_NOT_FOUND", order_id)
    await _check_token(conn, clock, app_id, order_id, verify_token)
    if not certificates:
        raise TradeError("INVALID_PARAMETER", "certificates needs at least one entry")
    now = clock.now_ms()
    items = {i.certificate_id: i for i in await order_store.items_of(conn, app_id, order_id) if i.certificate_id}
    results = []
    for code, cid in certificates:
        item = items.get(cid)
        if item is None or item.voucher_code != code:
            raise TradeError("VOUCHER_NOT_FOUND", cid)
        results.append(await verify_unit(conn, now, item))
    return results


async def cancel(conn: AsyncConnection, clock: Clock, app_id: str, *, order_id: str, certificate_id: str,
                 verify_id: str) -> None:
    """verify_cancel: the unit is unused again (and refundable)."""
    if await order_store.find_order(conn, app_id, order_id=order_id) is None:
        raise TradeError("ORDER_NOT_FOUND", order_id)
    res = await conn.execute(CANCEL, {"app": app_id, "oid": order_id, "cid": certificate_id, "vid": verify_id,
                                      "now": clock.now_ms()})
    if res.rowcount != 1:
        settled = (await conn.execute(select(item_orders.c.settle_id).where(
            item_orders.c.app_id == app_id, item_orders.c.order_id == order_id,
            item_orders.c.certificate_id == certificate_id))).scalar()
        if settled:
            raise TradeError("ITEM_SETTLED", "its verification can no longer be cancelled")
        raise TradeError("VERIFY_RECORD_NOT_FOUND")
    await audit.record(conn, app_id=app_id, action="voucher.verify_cancel", target=certificate_id,
                       before={"status": int(ItemStatus.REDEEMED), "verify_id": verify_id},
                       after={"status": int(ItemStatus.UNUSED)}, at_ms=clock.now_ms())


async def push_delivery(conn: AsyncConnection, clock: Clock, app_id: str, *, out_order_no: str,
                        item_order_ids: list[str], use_all: bool) -> list[dict[str, Any]]:
    """push_delivery (三方码, the merchant's own codes): all listed units, or every unused one, or nothing.
    Only for third-party-code orders (delivery_type 0, reference §16); a Douyin-code order is verified with
    delivery_prepare + delivery_verify."""
    order = await order_store.find_order(conn, app_id, out_order_no=out_order_no)
    if order is None:
        raise TradeError("ORDER_NOT_FOUND", out_order_no)
    if order.delivery_type != DELIVERY_THIRD_PARTY:
        raise TradeError("PUSH_DELIVERY_DOUYIN_CODE", f"order {order.order_id} has delivery_type {order.delivery_type}")
    if order.status != OrderStatus.SUCCESS:
        raise TradeError("ORDER_STATUS_CONFLICT", f"the order is {order.status}")
    items = {i.item_order_id: i for i in await order_store.items_of(conn, order.app_id, order.order_id)}
    if use_all:
        wanted = [i for i in items.values() if redeemable(i, beijing_day(clock.now_ms()))]
    else:
        if not item_order_ids:
            raise TradeError("INVALID_PARAMETER", "item_order_list or use_all is required")
        missing = [x for x in item_order_ids if x not in items]
        if missing:
            raise TradeError("ITEM_ORDER_NOT_IN_ORDER", ", ".join(missing))
        wanted = [items[x] for x in dict.fromkeys(item_order_ids)]
    if not wanted:
        raise TradeError("VOUCHER_NOT_VERIFIABLE", "no unit of this order can be redeemed")
    now = clock.now_ms()
    out = []
    for item in sorted(wanted, key=lambda i: i.item_order_id):
        r = await verify_unit(conn, now, item)
        if r["result_code"] != 0:
            raise TradeError("VOUCHER_NOT_VERIFIABLE", item.item_order_id)
        out.append({k: r[k] for k in ("item_order_id", "certificate_id", "verify_id", "verify_time")})
    return out


async def verify_code(conn: AsyncConnection, clock: Clock, code: str, app_id: str | None = None) -> dict[str, Any]:
    """`paybutton verify CODE`: redeem one unit by its code or its QR data (`pbv1:CODE`), the app's (`app_id`) or,
    without it, whichever app's has the code. A code is unique per app (migration 0017: app_id is in every key), so
    when two apps have it the app must be named."""
    raw = code.strip().removeprefix(QR_PREFIX)
    q = select(item_orders).where(item_orders.c.voucher_code == raw)
    found = (await conn.execute(q if app_id is None else q.where(item_orders.c.app_id == app_id))).all()
    if not found:
        raise TradeError("VOUCHER_NOT_FOUND", code)
    if len(found) > 1:
        raise TradeError("INVALID_PARAMETER", f"vouchers of {len(found)} apps have this code: name the app (--app)")
    item = ItemOrder.from_row(found[0])
    order = (await conn.execute(select(orders.c.status).where(orders.c.order_id == item.order_id,
                                                              orders.c.app_id == item.app_id))).scalar_one()
    if order != OrderStatus.SUCCESS:
        raise TradeError("ORDER_STATUS_CONFLICT", f"the order is {order}")
    r = await verify_unit(conn, clock.now_ms(), item)
    if r["result_code"] != 0:
        raise await why_not(conn, item.app_id, item.item_order_id, raw, clock.now_ms())  # redeemed, refunded, ...
    return {**r, "order_id": item.order_id}


def voucher_view(i: ItemOrder) -> dict[str, Any]:
    return {"item_order_id": i.item_order_id, "code": i.voucher_code, "qr_data": qr_data(i.voucher_code)
            if i.voucher_code else None, "certificate_id": i.certificate_id, "status": i.status,
            "state": voucher_state(i.status, i.refunding_amount), "price": i.price,
            "refunded_amount": i.refunded_amount, "verified_at": i.verified_at}


async def buyer_vouchers(conn: AsyncConnection, app_id: str, open_id: str, ref: str) -> dict[str, Any]:
    """The voucher card: the merchant's and goods' names, the label chips (zh-CN and en), and one code (and QR
    data) per unit, with its state and price."""
    order = await order_store.find_buyer_order(conn, app_id, open_id, ref)
    if order is None:
        raise TradeError("ORDER_ID_INVALID", ref)
    items = await order_store.items_of(conn, order.app_id, order.order_id)
    merchant = (await conn.execute(select(apps.c.name).where(apps.c.app_id == app_id))).scalar_one()
    snap = json.loads(order.goods_snapshot)
    return {"order_id": order.order_id, "out_order_no": order.out_order_no or "", "status": order.status,
            "delivery_type": order.delivery_type, "merchant_name": merchant, "goods_name": snap["name"],
            "labels": {lang: goods_rules.label_texts(snap["labels"], lang) for lang in ("zh-CN", "en")},
            "vouchers": [voucher_view(i) for i in items]}
