"""The channels' notify routes, the same for every channel: the app's Cashier for `provider` verifies and decodes
the notify (Cashier.parse_notify) and says how to answer it (Cashier.notify_answer).

POST /pay/notify/{provider}/{app_id}         a payment notify: settles the attempt (order/paying.settle), once
POST /pay/notify/{provider}/{app_id}/refund  a refund notify: ends the refund waiting for the channel, once

A notify that fails verification, names an attempt or refund this app does not have, or carries another amount is
refused (answered as the provider expects a refusal) and logged with the reason; nothing changes. A replay of a
notify already taken is answered ok and changes nothing. A notify that says nothing final (Alipay's WAIT_BUYER_PAY)
is answered ok and changes nothing: the attempt stays live. A refund notify that names its amount (WeChat Pay's
amount.refund) must carry the refund's amount."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import PlainTextResponse

from paybutton.cashier.base import Cashier, NotifyEvent, NotifyRejected
from paybutton.context import CtxDep
from paybutton.errors import TradeError
from paybutton.inputs import PATH_ID_PATTERN
from paybutton.order import paying
from paybutton.refund import settling as refunds
from paybutton.refund import store as refund_store

router = APIRouter(tags=["channels"])
# Both path segments are ids (a provider name, an app id): the edge's id rule, documented in /openapi.json.
Segment = Annotated[str, Path(pattern=PATH_ID_PATTERN, description="an id: 1-64 of A-Z a-z 0-9 _ . | * @ -")]
log = logging.getLogger("paybutton.notify")
# How each channel's Cashier.notify_answer answers (documented; a refusal's 400/500 is in api/schema.py).
ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "Taken (Alipay `success`, the sandbox an empty body) or refused as Alipay wants it (`fail`)",
          "content": {"text/plain": {"schema": {"type": "string", "enum": ["success", "fail", ""]},
                                     "example": "success"}}},
    204: {"description": "Taken (WeChat Pay v3 wants an empty 204)"},
}


def _answer(cashier: Cashier, ok: bool) -> Response:
    a = cashier.notify_answer(ok)
    return Response(a.body, status_code=a.status, media_type=a.content_type)


async def _verified(ctx: CtxDep, request: Request, provider: str, app_id: str,
                    kind: str) -> tuple[Cashier, NotifyEvent | None]:
    try:
        app = await ctx.app(app_id)
    except TradeError as e:
        raise TradeError("NOTIFY_PROVIDER_UNKNOWN", f"no app {app_id}") from e
    cashier = ctx.cashier_by_provider(app, provider)
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        ev = cashier.parse_notify("refund" if kind == "refund" else "payment", headers, body)
    except NotifyRejected as e:
        log.warning("%s notify for app %s via %s refused: %s", kind, app_id, provider, e.reason)
        return cashier, None
    if ev.kind != kind:
        log.warning("%s notify for app %s via %s refused: it is a %s notify", kind, app_id, provider, ev.kind)
        return cashier, None
    return cashier, ev


@router.post("/pay/notify/{provider}/{app_id}", summary="A payment channel's payment notify", response_model=None,
             response_class=PlainTextResponse, responses=ANSWERS)
async def payment_notify(provider: Segment, app_id: Segment, request: Request, ctx: CtxDep) -> Response:
    cashier, ev = await _verified(ctx, request, provider, app_id, "payment")
    if ev is None:
        return _answer(cashier, False)
    if not ev.final:
        log.info("payment notify for app %s via %s: attempt %s not final (%s); taken, nothing changed", app_id,
                 provider, ev.out_trade_no, ev.raw.get("trade_status", ""))
        return _answer(cashier, True)
    return _answer(cashier, await paying.on_payment_notify(ctx, app_id, provider, ev))


async def _amount_differs(ctx: CtxDep, app_id: str, provider: str, ev: NotifyEvent) -> bool:
    if ev.amount is None or not ev.out_refund_no:
        return False
    async with ctx.db.engine.connect() as conn:
        r = await refund_store.refund_row(conn, app_id, ev.out_refund_no)
    if r is None or r.refund_total_amount == ev.amount:
        return False
    log.warning("refund notify for app %s via %s refused: refund %s is %d fen, the notify says %d", app_id, provider,
                ev.out_refund_no, r.refund_total_amount, ev.amount)
    return True


@router.post("/pay/notify/{provider}/{app_id}/refund", summary="A payment channel's refund notify",
             response_model=None, response_class=PlainTextResponse, responses=ANSWERS)
async def refund_notify(provider: Segment, app_id: Segment, request: Request, ctx: CtxDep) -> Response:
    cashier, ev = await _verified(ctx, request, provider, app_id, "refund")
    if ev is None:
        return _answer(cashier, False)
    if not ev.out_refund_no:
        log.warning("refund notify for app %s via %s refused: no out_refund_no", app_id, provider)
        return _answer(cashier, False)
    if await _amount_differs(ctx, app_id, provider, ev):
        return _answer(cashier, False)
    got = await refunds.settle_channel_refund(ctx, app_id, ev.out_refund_no, out_trade_no=ev.out_trade_no or None,
                                              ok=ev.ok, channel_refund_id=ev.channel_refund_id)
    return _answer(cashier, got is not None)
