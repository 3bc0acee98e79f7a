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

from paybutton.callbacks.signing import verify

log = logging.getLogger("paybutton.demo.merchant")


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
            return JSONResponse({"err_no": 0, "err_tips": "success", "data": {
                "out_order_no": "DEMO" + msg["order_id"][2:],
                "order_entry_schema": {"path": "pages/orderDetail/orderDetail",
                                       "params": json.dumps({"orderId": msg["order_id"]})},
            }})
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
