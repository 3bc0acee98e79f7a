"""order/query_cps: an order's payment, its creator commission (CPS) records, its refunds and its redemptions, in
the shape of Douyin's 查询 CPS 信息 answer
(https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/locallife/general-ability/self-operated-trading/query-info/query-cps,
"响应参数"; field names and the status words 已退款 / 已核销 as the SKIT.FlurlHttpClient.ByteDance SDK's sample
answer gives them). An order carries commission records only when a creator brought the sale (`order_cps`);
paybutton has no creators of its own, so cps_item_list is empty unless rows were written for the order."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.clock import BEIJING
from paybutton.context import Ctx
from paybutton.errors import TradeError
from paybutton.order import store
from paybutton.order.rows import Order
from paybutton.order.states import payable
from paybutton.tables import order_cps, refund_items, refunds

REFUND_WORDS = {"SUCCESS": "已退款", "PROCESSING": "退款中", "FAIL": "退款失败"}


def _pay_time(ms: int | None) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, BEIJING).strftime("%Y-%m-%d %H:%M:%S") if ms else ""


async def query_cps(ctx: Ctx, app_id: str, order_id: str | None, out_order_no: str | None) -> dict[str, Any]:
    if not order_id and not out_order_no:
        raise TradeError("INVALID_PARAMETER", "order_id or out_order_no is required")
    async with ctx.db.engine.connect() as conn:
        row = await store.find_order(conn, app_id, order_id=order_id, out_order_no=out_order_no)
        if row is None:
            raise TradeError("ORDER_NOT_FOUND")
        cps = (await conn.execute(select(order_cps).where(order_cps.c.app_id == row.app_id,
                                                          order_cps.c.order_id == row.order_id)
                                  .order_by(order_cps.c.item_order_id))).all()
        refund_rows = await _refunds(conn, row.app_id, row.order_id)
        items = await store.items_of(conn, row.app_id, row.order_id)
    used = [i for i in items if i.verified_at]
    return {
        "order_id": row.order_id,
        "out_order_no": row.out_order_no or "",
        "payment_info": _payment(row),
        "cps_info": {"total_commission_amount": sum(c.commission_amount for c in cps),
                     "cps_item_list": [_cps_item(c) for c in cps]},
        "refund_info": {
            "total_refund_amount": sum(r.amount for r in refund_rows if r.status == "SUCCESS"),
            "refund_items": [{"item_order_id": r.item_order_id, "out_refund_no": r.out_refund_no or "",
                              "refund_amount": r.amount, "refund_status": REFUND_WORDS.get(r.status, r.status),
                              "refund_at": r.refund_at} for r in refund_rows]},
        "delivery_info": {
            "total_delivery_amount": sum(i.price for i in used),
            "delivery_items": [{"item_order_id": i.item_order_id, "delivery_amount": i.price,
                                "delivery_status": "已核销", "delivery_at": i.verified_at} for i in used]},
    }


def _payment(row: Order) -> dict[str, Any]:
    return {"order_status": row.status, "total_fee": payable(row.total_amount, row.discount_amount),
            "seller_uid": "", "pay_channel": row.pay_channel, "channel_pay_id": row.channel_pay_id or "",
            "pay_time": _pay_time(row.paid_at), "cp_extra": row.cp_extra or "", "message": row.message or ""}


def _cps_item(c: Row[Any]) -> dict[str, Any]:
    keys = ("item_order_id", "sell_amount", "source_type", "status", "commission_amount", "commission_rate",
            "commission_user_douyinid", "commission_user_nickname", "task_id", "item_id")
    return {k: getattr(c, k) for k in keys}


async def _refunds(conn: AsyncConnection, app_id: str, order_id: str) -> list[Any]:
    q = (select(refund_items.c.item_order_id, refund_items.c.amount, refunds.c.out_refund_no, refunds.c.status,
                refunds.c.refund_at)
         .join(refunds, and_(refunds.c.app_id == refund_items.c.app_id,
                             refunds.c.refund_id == refund_items.c.refund_id))
         .where(refunds.c.app_id == app_id, refunds.c.order_id == order_id)
         .order_by(refunds.c.created_at, refund_items.c.item_order_id))
    return list((await conn.execute(q)).all())
