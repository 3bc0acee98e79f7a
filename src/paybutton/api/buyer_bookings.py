"""The buyer API for reservations (ours, behind the order-detail page): GET /api/buyer/v1/orders/{ref}/bookings,
the buyer's own order's bookings (book/query_book's entries), oldest first."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from paybutton.api.buyer import PathId
from paybutton.booking import service
from paybutton.booking.api_models import BOOK_EXAMPLE, ORDER_ID, BookInfo
from paybutton.context import CtxDep
from paybutton.kernel.answers import answer, example
from paybutton.kernel.auth import BuyerDep

router = APIRouter(prefix="/api/buyer/v1", tags=["buyer"])


class OrderBookings(BaseModel):
    """An order's bookings: status BOOKING (awaiting the merchant), SUCCESS (for book_date), FAIL or CANCEL."""

    model_config = example({"order_id": ORDER_ID, "bookings": [BOOK_EXAMPLE]})
    order_id: str
    bookings: list[BookInfo]


@router.get("/orders/{order_ref}/bookings", summary="The buyer's order's bookings (预约)", **answer(OrderBookings))
async def order_bookings(order_ref: PathId, buyer: BuyerDep, ctx: CtxDep) -> dict[str, Any]:
    async with ctx.db.engine.connect() as conn:
        return await service.buyer_bookings(conn, buyer.app_id, buyer.open_id, order_ref)
