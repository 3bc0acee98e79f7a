"""The built-in demo merchant server: answers every extension point and notification, checking each
signature with the platform public key, as a real merchant server would."""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from paybutton.kernel.signing import verify

log = logging.getLogger("paybutton.demo.merchant")

# The demo's two promotions (marketing-ready): a goods-level 立减 coupon and an order-level 满减. They do not stack:
# when both are chosen, the larger discount applies.
COUPON: dict[str, Any] = {"id": "DEMO-COUPON-1235", "type": 1, "subtype": 1, "title": "立减券 ¥12.35",
                          "note": "无门槛,每单限用一张", "value": 1235}
FULL_CUT: dict[str, Any] = {"id": "DEMO-FULL-198-30", "type": 2, "subtype": 2, "title": "满 198 减 30",
                            "note": "订单满 ¥198 可用", "value": 3000}
FULL_CUT_THRESHOLD = 19800


def _discounts(total: int) -> dict[str, int]:
    """Each usable offer's discount on a goods line of `total` fen."""
    got = {COUPON["id"]: min(COUPON["value"], total)}
    if total >= FULL_CUT_THRESHOLD:
        got[FULL_CUT["id"]] = FULL_CUT["value"]
    return got


def marketing_offers(goods_id: str, total: int) -> dict[str, Any]:
    """A query_marketing_info answer: the coupon always; 满减 usable from ¥198."""
    usable = _discounts(total)
    cut_ok = FULL_CUT["id"] in usable
    return {
        "goods_valid_marketing_info": [{"goods_id": goods_id, "marketing_info": [COUPON]}],
        "goods_invalid_marketing_info": [],
        "order_valid_marketing_info": [FULL_CUT] if cut_ok else [],
        "order_invalid_marketing_info": [] if cut_ok else [{**FULL_CUT, "reason": "订单未满 ¥198"}],
    }


def _detail_info(offer: dict[str, Any], amount: int, rng: int) -> dict[str, Any]:
    return {"id": offer["id"], "type": offer["type"], "subtype": offer["subtype"], "discount_amount": amount,
            "discount_range": rng, "title": offer["title"], "note": offer["note"], "value": offer["value"]}


def marketing_price(goods: dict[str, Any], chosen: list[str]) -> dict[str, Any]:
    """The calculation (price_calculation_detail) of the chosen offers that are usable; the better one when both."""
    total = goods["price"] * goods["quantity"]
    usable = _discounts(total)
    picked = [i for i in chosen if i in usable]
    if len(picked) > 1:
        picked = [max(picked, key=lambda i: usable[i])]
    g = [_detail_info(COUPON, usable[i], 1) for i in picked if i == COUPON["id"]]
    o = [_detail_info(FULL_CUT, usable[i], 2) for i in picked if i == FULL_CUT["id"]]
    g_sum = sum(d["discount_amount"] for d in g)
    o_sum = sum(d["discount_amount"] for d in o)
    return {
        "calculation_type": 1,
        "goods_discount_detail": [{"goods_id": goods["goods_id"], "quantity": goods["quantity"], "total_amount": total,
                                   "total_discount_amount": g_sum, "marketing_detail_info": g}],
        "order_discount_detail": {"order_total_discount_amount": g_sum + o_sum, "goods_total_discount_amount": g_sum,
                                  "marketing_detail_info": o},
    }


def _ids(refs: Any) -> list[str]:
    return [str(r.get("id")) for r in refs or [] if isinstance(r, dict)]


def answer_marketing(kind: str, msg: dict[str, Any]) -> dict[str, Any]:
    """The data of a query_marketing_info, calculate_price or query_and_calculate answer."""
    if kind == "query_marketing_info":
        g = msg["goods_info"][0]
        return marketing_offers(g["goods_id"], g["price"] * g["quantity"])
    if kind == "calculate_price":
        g = msg["goods_calculation_info"][0]
        return marketing_price(g, _ids(g.get("using_marketing")) + _ids(msg["order_calculation_info"].get(
            "using_marketing")))
    g = msg["goods_marketing_info"][0]
    total = g["price"] * g["quantity"]
    if msg.get("need_default_marketing"):
        usable = _discounts(total)
        chosen = [max(usable, key=lambda i: usable[i])] if usable else []
    else:
        chosen = _ids(g.get("selected_marketing")) + _ids(msg["order_marketing_info"].get("selected_marketing"))
    return {**marketing_offers(g["goods_id"], total), "price_calculation_detail": marketing_price(g, chosen)}


def check_order_amounts(msg: dict[str, Any]) -> str | None:
    """What a careful merchant checks in pre_create_order: the item prices add up to total − discount, and the
    discount is the one its price_calculation_detail gives."""
    payable = msg["total_amount"] - msg["discount"]
    if sum(i["price"] for i in msg["item_order_info_list"]) != payable:
        return "item prices do not add up to total_amount - discount"
    detail = msg.get("price_calculation_detail")
    expected = detail["order_discount_detail"]["order_total_discount_amount"] if detail else 0
    if expected != msg["discount"]:
        return "discount differs from price_calculation_detail"
    return None


def merchant_app(public_pem: str, received: list[dict[str, Any]] | None = None) -> Starlette:
    """POST /callbacks/{kind}: verify, then answer {err_no, err_tips, data}."""
    seen = received if received is not None else []

    async def callback(request: Request) -> JSONResponse:
        raw = await request.body()
        h = request.headers
        ok = verify(public_pem, h.get("byte-timestamp", ""), h.get("byte-nonce-str", ""), raw,
                    h.get("byte-signature", ""))
        if not ok:
            return JSONResponse({"err_no": 40001, "err_tips": "signature check failed"})
        try:
            body = json.loads(raw)
            msg = json.loads(body["msg"])
            kind = body["type"]
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"err_no": 40002, "err_tips": "bad body"})
        seen.append({"type": kind, "msg": msg})
        del seen[:-200]
        if kind == "pre_create_order":
            wrong = check_order_amounts(msg)
            if wrong:
                return JSONResponse({"err_no": 40003, "err_tips": wrong})
            return JSONResponse({"err_no": 0, "err_tips": "success", "data": {
                "out_order_no": "DEMO" + msg["order_id"][2:],
                "order_entry_schema": {"path": "pages/orderDetail/orderDetail",
                                       "params": json.dumps({"orderId": msg["order_id"]})},
            }})
        if kind in ("query_marketing_info", "calculate_price", "query_and_calculate"):
            try:
                data = answer_marketing(kind, msg)
            except (KeyError, IndexError, TypeError) as e:
                return JSONResponse({"err_no": 40002, "err_tips": f"bad {kind} msg: {e!r}"})
            return JSONResponse({"err_no": 0, "err_tips": "success", "data": data})
        if kind == "pre_create_refund":
            return JSONResponse({"err_no": 0, "err_tips": "success", "data": {
                "out_refund_no": "DEMOR" + msg["refund_id"][2:]}})
        return JSONResponse({"err_no": 0, "err_tips": "success", "data": {}})

    async def recent(request: Request) -> JSONResponse:
        return JSONResponse({"received": seen[-50:]})

    return Starlette(routes=[
        Route("/callbacks/{kind}", callback, methods=["POST"]),
        Route("/callbacks", recent, methods=["GET"]),
    ])
