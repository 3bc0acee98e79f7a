"""The buyer API behind the hosted pages and the pay-button (ours): /api/buyer/v1/...

Reading an app's name, goods state and payment capability needs no sign-in; everything about an order
needs the buyer token (`Authorization: Bearer …` or `X-Buyer-Token`), and a buyer reaches only their own."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, WithJsonSchema

from paybutton.api.buyer_marketing import (
    MERCHANT_GOODS_NEED_INFO,
    GoodsInfo,
    MarketingBody,
    choices_of,
)
from paybutton.api.models_buyer import AppInfo, CashierView, OrderView, PayAnswer, PublicGoods, UnpaidOrder
from paybutton.context import Ctx, CtxDep
from paybutton.errors import TradeError
from paybutton.goods import service as goods_service
from paybutton.inputs import NAME_PATTERN, PATH_ID_PATTERN
from paybutton.kernel import order_keys
from paybutton.kernel.answers import answer, example
from paybutton.kernel.auth import Buyer, BuyerDep
from paybutton.order import paying, repay, resume, views
from paybutton.order import placing as orders

router = APIRouter(prefix="/api/buyer/v1", tags=["buyer"])

PathId = Annotated[str, Path(pattern=PATH_ID_PATTERN, description="an id: 1-64 of A-Z a-z 0-9 _ . | * @ -")]
# Documented, not validated by pydantic: a wrong value answers with its own code (GOODS_TYPE_INVALID 21502 …).
GoodsType = Annotated[StrictInt, WithJsonSchema({"type": "integer", "enum": [1, 2]})]
Channel = Annotated[StrictStr, WithJsonSchema({"type": "string", "enum": ["douyin", "wechat", "alipay", "bankcard"]})]




class PlaceOrderBody(BaseModel):
    model_config = ConfigDict(extra="ignore", json_schema_extra={
        **MERCHANT_GOODS_NEED_INFO, "examples": [{"goods_id": "spu_1001", "goods_type": 1, "quantity": 2}]})
    goods_id: StrictStr = Field(min_length=1, max_length=64)
    goods_type: GoodsType = Field(description="1 library goods, 2 merchant goods")
    quantity: StrictInt = Field(default=1, ge=1, le=99999)
    phone_num: Annotated[StrictStr | None, WithJsonSchema({"anyOf": [
        {"type": "string", "pattern": r"^(\+86)?1[3-9][0-9]{9}$"}, {"type": "null"}]})] = Field(
        default=None, description="a mainland mobile number (spaces, dashes and +86 are tolerated)")
    contact_name: StrictStr | None = Field(default=None, max_length=64, pattern=NAME_PATTERN)
    cp_extra: StrictStr | None = Field(default=None, max_length=4096)
    goods_info: GoodsInfo = Field(
        default=None, description="merchant goods: the object the page's bind:getgoodsinfo resolved"
    )
    marketing: MarketingBody | None = Field(default=None, description="marketing-ready: the buyer's offers")


class PayBody(BaseModel):
    model_config = example({"channel": "douyin", "scenario": "success"}, extra="ignore")
    channel: Channel = Field(description="douyin, wechat, alipay or bankcard")
    scenario: StrictStr | None = Field(
        default=None, description="sandbox only: success, fail, timeout, user_closed, cancel, open_failed, "
        "app_missing; late: the buyer pays after the order's deadline (at most 60 s away): the answer comes 2 s "
        "after it, the payment is kept as late (`late`: true) and refunded automatically")
    wechat_openid: StrictStr | None = Field(
        default=None, min_length=1, max_length=128,
        description="inside WeChat's browser (JSAPI): the buyer's openid under the merchant's appid, from the "
                    "official account's OAuth (snsapi_base); default: the buyer's open_id")
    return_to: StrictStr | None = Field(
        default=None, max_length=2048,
        description="the page a channel's page (Alipay, WeChat H5) returns to: one on the app's allowed origins "
                    "(the overlay's host page); default: the hosted cashier")


@router.get("/apps/{app_id}", summary="The merchant's public face: name and payment capability", **answer(AppInfo))
async def app_info(app_id: PathId, ctx: CtxDep) -> dict[str, Any]:
    try:
        app = await ctx.app(app_id, fresh=True)  # a page load: allowed origins and suspension as they are now
    except TradeError as e:
        raise TradeError("PAY_CAPABILITY_PARAM_INVALID", app_id) from e
    return {
        "app_id": app["app_id"],
        "name": app["name"],
        "channels": app["channels"],
        "can_pay": bool(app["channels"]) and not app["suspended"],
        "sandbox": ctx.cashier.sandbox,
        "allowed_origins": app["allowed_origins"],
        "login_url": app["login_url"],
    }


@router.get("/goods/{goods_id}", summary="A library good as the pay-button sees it (price, limits, state)",
            **answer(PublicGoods))
async def goods_info(goods_id: PathId, ctx: CtxDep, app_id: Annotated[str, Query(min_length=1)]) -> dict[str, Any]:
    async with ctx.db.engine.connect() as conn:
        info: dict[str, Any] = await goods_service.public_goods_info(conn, ctx.clock, app_id, goods_id)
    return info


async def place(ctx: Ctx, buyer: Buyer, body: PlaceOrderBody, idempotency_key: str | None = None,
                order_id: str | None = None) -> dict[str, Any]:
    """Place the buyer's order, one at a time per gate slot (FIFO: under load, orders finish in arrival order);
    once per Idempotency-Key (kernel/order_keys.py). Called by api/fast_orders.py, which answers every placement."""
    if idempotency_key:
        async def find(oid: str) -> dict[str, Any] | None:
            try:
                return await views.get_buyer_order(ctx, buyer.app_id, buyer.open_id, oid)
            except TradeError as e:
                if e.name == "ORDER_NOT_FOUND":
                    return None
                raise

        return await order_keys.place_once(ctx, buyer.app_id, buyer.open_id, idempotency_key,
                                           body.model_dump(mode="json"), lambda oid: place(ctx, buyer, body,
                                                                                           order_id=oid),
                                           find, int(ctx.settings.order_key_lease_seconds * 1000))
    async with ctx.order_gate:
        return await orders.place_order(ctx, orders.PlaceOrder(
            app_id=buyer.app_id, open_id=buyer.open_id, goods_id=body.goods_id, goods_type=body.goods_type,
            quantity=body.quantity, phone_num=body.phone_num, contact_name=body.contact_name,
            cp_extra=body.cp_extra, goods_info=body.goods_info, marketing=None if body.marketing is None else
            orders.MarketingChoice(body.marketing.version, choices_of(body.marketing.selected) or [],
                                   body.marketing.expected_payable), order_id=order_id))


@router.post("/orders", summary="Place an order (order-confirm's 立即支付)", **answer(OrderView))
async def place_order(body: PlaceOrderBody, buyer: BuyerDep, ctx: CtxDep, request: Request) -> Response:
    """With an `Idempotency-Key` header (one per tap), a retry of the same request answers the first order."""
    # Declared for /openapi.json: the ASGI shortcut api/fast_orders.py answers this path before routing (same
    # place(), same kernel error renderer), so this body is never reached.
    view = await place(ctx, buyer, body, request.headers.get("idempotency-key"))
    return Response(json.dumps(view, ensure_ascii=False, separators=(",", ":")).encode(),
                    media_type="application/json")


@router.get("/unpaid-order", summary="The buyer's unpaid order of a good, to continue paying it",
            **answer(UnpaidOrder))
async def unpaid_order(goods_id: Annotated[str, Query(min_length=1, max_length=64)], buyer: BuyerDep,
                       ctx: CtxDep, response: Response) -> dict[str, Any]:
    """`{"order": …}`: the buyer's newest order of the good that can still be paid, or null (order/resume.py).
    Never cached: the browser's back would otherwise answer with the copy from before the order was placed."""
    response.headers["Cache-Control"] = "no-store"
    return {"order": await resume.unpaid_for_goods(ctx, buyer.app_id, buyer.open_id, goods_id)}


@router.post("/orders/{order_ref}/close", summary="Close the buyer's own unpaid order (its stock goes back)",
             **answer(OrderView))
async def close_order(order_ref: PathId, buyer: BuyerDep, ctx: CtxDep) -> dict[str, Any]:
    return await resume.buyer_close(ctx, buyer.app_id, buyer.open_id, order_ref)


@router.get("/orders/{order_ref}", summary="One of the buyer's orders, by order id or out_order_no",
            **answer(OrderView))
async def get_order(order_ref: PathId, buyer: BuyerDep, ctx: CtxDep) -> dict[str, Any]:
    return await views.get_buyer_order(ctx, buyer.app_id, buyer.open_id, order_ref)


@router.post("/orders/{order_ref}/cashier", summary="Open the cashier (INIT -> PROCESS)", **answer(CashierView))
async def open_cashier(order_ref: PathId, buyer: BuyerDep, ctx: CtxDep) -> dict[str, Any]:
    return await paying.open_cashier(ctx, buyer.app_id, buyer.open_id, order_ref)


@router.post("/orders/{order_ref}/pay", summary="Pay through the cashier; answers the seed's `pay` detail",
             **answer(PayAnswer))
async def pay(order_ref: PathId, body: PayBody, buyer: BuyerDep, ctx: CtxDep, request: Request) -> dict[str, Any]:
    """One payment attempt per order at a time: a pay while one is live answers with it (paymentId), PENDING with
    the channel's action (a QR or a redirect), or PAYMENT_PENDING while it is in flight. An attempt whose answer
    was lost, or a pending one on another channel, is first asked about and closed at its channel (order/repay.py).
    A channel that cannot be reached fails at once (errNo 10000 and channelUnavailable: the channel)."""
    ua = request.headers.get("user-agent", "")
    phone = any(k in ua for k in ("Mobile", "Android", "iPhone"))
    # WeChat's in-app browser says MicroMessenger: WeChat Pay there is JSAPI (WeixinJSBridge), not H5
    client = "wechat" if "MicroMessenger" in ua else "phone" if phone else "desktop"
    return await repay.pay(ctx, buyer.app_id, buyer.open_id, order_ref, channel=body.channel,
                           scenario=body.scenario, client=client, payer_openid=body.wechat_openid or "",
                           client_ip=request.client.host if request.client else "127.0.0.1",
                           base_url=str(request.base_url), return_to=body.return_to or "")
