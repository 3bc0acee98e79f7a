"""order/create_order: the developer's server creates an order, which the buyer then pays with the pay-button
(mode 1, order-status 0) or the hosted cashier exactly as an order the button placed.

The order is written by the same order writer as a button's order (order/writer.py: the guarded stock statement
for a library good, one item order per unit), then accepted in one transaction that stores the developer's
out_order_no and entry schema with the request's record (`dev_orders`). The developer's server is the merchant,
so no pre_create_order is sent. Refusals are checked before anything is written; if the acceptance fails (an
out_order_no taken meanwhile), the order ends FAIL and its stock returns, as a refused pre-order does.

Rules from Douyin's 开发者发起下单 page
(https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/locallife/general-ability/agency-trade-system/pre-order/create-order,
"请求参数": total_amount is the goods' price × quantity summed, pay_expire_seconds at most 48 h, out_order_no
unique per app); one goods per order is paybutton's model (the seed's), said in docs/openapi.md."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from paybutton import ids
from paybutton.context import Ctx
from paybutton.devorders.api_models import CreateOrderBody, DevGoods
from paybutton.errors import TradeError
from paybutton.marketing import rules as marketing_rules
from paybutton.marketing.rules import Line, MarketingInvalid
from paybutton.order import rules, store
from paybutton.order.ending import end_order
from paybutton.order.placing import marketing_line
from paybutton.order.rows import ItemRow, NewOrder, dumps, item_rows
from paybutton.order.states import GoodsType, OrderStatus, PreOrder
from paybutton.order.writer_registry import writer_of
from paybutton.tables import dev_orders, orders


@dataclass(frozen=True)
class Checked:
    """A create_order request that passed every rule: its goods line and what the order costs."""

    goods: DevGoods
    line: Line
    discount: int
    detail: str | None


def body_hash(body: CreateOrderBody) -> str:
    text = json.dumps(body.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


async def create_order(ctx: Ctx, app_id: str, body: CreateOrderBody) -> dict[str, Any]:
    """The order and its item orders (the create_order answer's data); the same body again answers the same."""
    digest = body_hash(body)
    again = await _earlier(ctx, app_id, body.out_order_no, digest)
    if again is not None:
        return again
    app = await ctx.app(app_id)
    if app["suspended"]:
        raise TradeError("APP_SUSPENDED")
    checked = await _check(ctx, app_id, body)
    expire_s = body.pay_expire_seconds or app["pay_expire_seconds"]
    new = NewOrder(
        order_id=ids.order_id(), app_id=app_id, open_id=body.open_id, goods_id=checked.goods.goods_id,
        goods_type=checked.goods.goods_id_type, quantity=checked.goods.quantity, phone_num=None,
        contact_name=body.contact_name or None, cp_extra=body.cp_extra, out_order_no=None,
        pre_order_status=PreOrder.PENDING.value, delivery_type=app["delivery_type"], pay_expire_ms=expire_s * 1000,
        item_ids=ids.item_order_ids(checked.goods.quantity), now=0, price=checked.line.price,
        discount=checked.discount, price_detail=checked.detail)
    new.phone_num = rules.normalise_phone(body.phone_num, required=False)
    items = await _write(ctx, new, checked.goods)
    answer = _answer(new, items)
    await _accept(ctx, new, body, digest, answer)
    return answer


async def _earlier(ctx: Ctx, app_id: str, out_order_no: str, digest: str) -> dict[str, Any] | None:
    """The answer of an earlier create_order with this out_order_no and body; another body is refused, and so is an
    out_order_no a button's order already carries."""
    async with ctx.db.engine.connect() as conn:
        # The order first, then its record: a create_order's order gets its out_order_no in the transaction that
        # writes its dev_orders row, so an order seen here has its record seen by the next read. (Read the other way
        # round, a create_order committing in between looked like a button's order: OUT_ORDER_NO_DUPLICATE.)
        if await store.find_order(conn, app_id, out_order_no=out_order_no) is None:
            return None
        row = (await conn.execute(select(dev_orders.c.body_hash, dev_orders.c.answer).where(
            dev_orders.c.app_id == app_id, dev_orders.c.out_order_no == out_order_no))).first()
        if row is None:
            raise TradeError("OUT_ORDER_NO_DUPLICATE", out_order_no)
    if row.body_hash != digest:
        raise TradeError("OUT_ORDER_NO_REUSED", out_order_no)
    answer: dict[str, Any] = json.loads(row.answer)
    return answer


async def _check(ctx: Ctx, app_id: str, body: CreateOrderBody) -> Checked:
    """Every rule, before anything is written: one goods, known and at its price, the totals and the discount."""
    if len(body.goods_list) != 1:
        raise TradeError("DEV_ORDER_ONE_GOODS", f"{len(body.goods_list)} goods given")
    g = body.goods_list[0]
    rules.check_total(g.price, g.quantity)
    if body.total_amount != g.price * g.quantity:
        raise TradeError("DEV_ORDER_TOTAL_MISMATCH", f"total_amount {body.total_amount} != {g.price} × {g.quantity}")
    if g.goods_id_type == GoodsType.LIBRARY:
        line = await marketing_line(ctx, app_id, g.goods_id, int(GoodsType.LIBRARY), g.quantity, None)
        if line.price != g.price:
            raise TradeError("DEV_ORDER_PRICE_MISMATCH", f"{g.goods_id} costs {line.price} fen, not {g.price}")
    else:
        rules.merchant_goods(_goods_info(g))  # the same checks as a page's merchant good
        line = Line(g.goods_id, int(GoodsType.MERCHANT), g.quantity, g.price)
    rules.normalise_phone(body.phone_num, required=False)  # PHONE_INVALID before anything is written
    discount = body.discount_amount
    if g.discount_amount > discount or discount >= line.total:
        raise TradeError("DEV_ORDER_DISCOUNT_INVALID",
                         f"discount_amount {discount} (goods {g.discount_amount}) must be below the total {line.total}"
                         " and cover the goods' discount")
    detail = None
    if body.price_calculation_detail is not None:
        detail = dumps(_priced(body.price_calculation_detail, line, discount))
    return Checked(g, line, discount, detail)


def _goods_info(g: DevGoods) -> dict[str, Any]:
    """A developer's good as the page's getgoodsinfo would describe it (order/rules.merchant_goods)."""
    info: dict[str, Any] = {"currentPrice": g.price, "goodsName": g.goods_title or g.goods_id,
                            "goodsPhoto": g.goods_image or "", "maxLimits": rules.MAX_QUANTITY}
    if g.date_rule is not None:
        info["dateRule"] = g.date_rule
    return info


def _marketing_ids(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for info in node.get("marketing_detail_info") or []:
            if isinstance(info, dict) and isinstance(info.get("id"), str):
                found.add(info["id"])
        for v in node.values():
            found |= _marketing_ids(v)
    elif isinstance(node, list):
        for v in node:
            found |= _marketing_ids(v)
    return found


def _priced(detail: dict[str, Any], line: Line, discount: int) -> dict[str, Any]:
    """price_calculation_detail checked as a merchant's calculation is (marketing/rules.parse_calculation): its
    discount must be the order's."""
    try:
        pricing = marketing_rules.parse_calculation(detail, line, _marketing_ids(detail))
    except MarketingInvalid as e:
        raise TradeError("DEV_ORDER_DISCOUNT_INVALID", f"price_calculation_detail: {e.message}") from e
    if pricing.discount != discount or pricing.detail is None:
        raise TradeError("DEV_ORDER_DISCOUNT_INVALID",
                         f"price_calculation_detail discounts {pricing.discount} fen, discount_amount says {discount}")
    return pricing.detail


async def _write(ctx: Ctx, new: NewOrder, g: DevGoods) -> list[ItemRow]:
    """The order and its item orders through the order writer: a library good takes its stock (guarded by the sell
    condition and the price), a developer's good is written as described."""
    writer = await writer_of(ctx)
    if g.goods_id_type == GoodsType.LIBRARY:
        new.now = ctx.clock.now_ms()
        taken = await writer.take(new)
        return item_rows(new, taken.price)
    goods = rules.merchant_goods(_goods_info(g)).goods
    new.now = ctx.clock.now_ms()
    await writer.insert(new, goods)
    return item_rows(new, goods.price)


def _answer(new: NewOrder, items: list[ItemRow]) -> dict[str, Any]:
    return {
        "order_id": new.order_id, "out_order_no": "", "pay_order_id": new.order_id, "pay_order_token": "",
        "item_order_info_list": [{
            "goods_id": new.goods_id, "item_order_id_list": [i["item_order_id"] for i in items],
            "item_order_detail": [{"item_order_id": i["item_order_id"], "price": i["price"]} for i in items]}],
    }


async def _accept(ctx: Ctx, new: NewOrder, body: CreateOrderBody, digest: str, answer: dict[str, Any]) -> None:
    """The developer's number and entry on the order, with its record, in one transaction; on a conflict the order
    ends FAIL (stock back) and the earlier order with that number answers, or the conflict is the error."""
    answer["out_order_no"] = body.out_order_no
    schema = dumps(body.order_entry_schema.model_dump(exclude_none=True)) if body.order_entry_schema else None
    now = ctx.clock.now_ms()
    try:
        async with ctx.db.tx() as conn:
            done = await conn.execute(update(orders).where(
                orders.c.app_id == new.app_id, orders.c.order_id == new.order_id,
                orders.c.status == OrderStatus.INIT.value, orders.c.pre_order_status == PreOrder.PENDING.value).values(
                out_order_no=body.out_order_no, pre_order_status=PreOrder.OK.value, order_entry_schema=schema,
                updated_at=now))
            if done.rowcount != 1:
                raise TradeError("ORDER_STATUS_CONFLICT", "the order ended before it was accepted")
            await conn.execute(dev_orders.insert().values(
                order_id=new.order_id, app_id=new.app_id, out_order_no=body.out_order_no, body_hash=digest,
                answer=dumps(answer), request=dumps(body.model_dump(mode="json", exclude_none=True)),
                created_at=now))
    except IntegrityError as e:
        await _fail(ctx, new.app_id, new.order_id)
        earlier = await _earlier(ctx, new.app_id, body.out_order_no, digest)
        if earlier is None:
            raise TradeError("OUT_ORDER_NO_DUPLICATE", body.out_order_no) from e
        answer.clear()
        answer.update(earlier)
    except BaseException:
        await _fail(ctx, new.app_id, new.order_id)
        raise


async def _fail(ctx: Ctx, app_id: str, order_id: str) -> None:
    async with ctx.db.tx() as conn:
        await end_order(ctx, conn, store.FAIL_PRE_ORDER, app_id, order_id, "OUT_ORDER_NO_DUPLICATE", notify=False)
