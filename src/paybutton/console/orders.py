"""The console's order pages: the list (by status, searched), one order with its timeline, and redeeming a
voucher by its code."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi.responses import HTMLResponse, Response

from paybutton.console import forms, order_queries
from paybutton.console.deps import Form, SignedIn, console_router
from paybutton.console.forms import text
from paybutton.console.page import choice, number, pager
from paybutton.errors import TradeError
from paybutton.fulfillment import service as fulfillment
from paybutton.order.states import OrderStatus

router = console_router()

ORDER_STATUSES = tuple(s.value for s in OrderStatus)


@router.get("/console/orders", response_class=HTMLResponse)
async def orders_list(c: SignedIn) -> Response:
    status = choice(c.query.get("status", ""), ORDER_STATUSES)
    q = c.query.get("q", "").strip()[:128]
    page = await order_queries.orders_page(c.ctx, c.app_id, status=status or None, q=q,
                                           page=number(c.query.get("page"), 1))
    return c.render("orders.html", nav="orders", page=page, q=q, status=status, statuses=ORDER_STATUSES,
                    link=pager({"status": status, "q": q}))


@router.get("/console/orders/{order_id}", response_class=HTMLResponse)
async def order_page(order_id: str, c: SignedIn) -> Response:
    detail = await order_queries.order_detail(c.ctx, c.app_id, order_id[:64])
    if detail is None:
        return c.not_found()
    books = await order_queries.bookings_of(c.ctx, c.app_id, detail["order"]["order_id"])
    return c.render("order.html", nav="orders", d=detail, o=detail["order"], bookings=books)


@router.get("/console/verify", response_class=HTMLResponse)
async def verify_page(c: SignedIn) -> Response:
    iid = c.query.get("done", "")[:32]
    done = await order_queries.redeemed(c.ctx, c.app_id, iid) if iid else None
    return c.render("verify.html", nav="verify", code="", error="", done=done)


@router.post("/console/verify", response_class=HTMLResponse)
async def verify(c: SignedIn, form: Form) -> Response:
    typed = text(form, "code")[:128]
    code = typed.removeprefix(fulfillment.QR_PREFIX).strip()
    try:
        if not code:
            raise TradeError("INVALID_PARAMETER", c.t["code"])
        item_order_id = await order_queries.redeem(c.ctx, c.app_id, code)
    except TradeError as e:
        return c.render("verify.html", 400 if e.name == "INVALID_PARAMETER" else 409, nav="verify", code=typed,
                        error=forms.error_text(e, c.lang), done=None)
    return c.redirect("/console/verify?" + urlencode({"done": item_order_id}))
