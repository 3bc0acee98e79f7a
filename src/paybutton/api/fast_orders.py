"""POST /api/buyer/v1/orders answered at the ASGI level. This is the path that answers every order placement:
the FastAPI route declared in api/buyer.py is never reached (this middleware answers the path, with or without
its trailing slash, before routing); it stays declared for /openapi.json.

The busiest route skips FastAPI's per-request machinery (routing, dependency solving, the generic encoder), which
cost about a third of the server's CPU per order in the benchmark. What it does is the route's, through the same
functions: the route's pydantic model, the kernel's buyer-token check (kernel/auth.buyer_of), api/buyer.place
(Idempotency-Key included), and the kernel's one error renderer and language choice (kernel/render.py).

The edge (kernel/guard.py) runs first: it enforces MAX_BODY for this path, the JSON Content-Type and the input
guard, and leaves the parsed body in the scope, so this path validates that object and parses nothing again."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from paybutton.api.buyer import PlaceOrderBody, place
from paybutton.errors import TradeError
from paybutton.kernel.auth import buyer_of
from paybutton.kernel.guard import parsed_body
from paybutton.kernel.render import JSON, Rendered, dumps, render_scope, send_rendered, validation_error

log = logging.getLogger("paybutton")
PATH = "/api/buyer/v1/orders"
MAX_BODY = 256 * 1024


class FastOrders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in (PATH, PATH + "/"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            await self._drain(receive)
            answer = Rendered(200, await self._place(scope, headers, parsed_body(scope)), JSON)
        except TradeError as e:
            answer = render_scope(scope, e, "api")
        except Exception:
            log.exception("unhandled error on POST %s", PATH)
            answer = render_scope(scope, TradeError("INTERNAL_ERROR"), "api")
        await send_rendered(send, answer)

    @staticmethod
    async def _drain(receive: Receive) -> None:
        """Consume the body the edge replays (it has been read, size-checked and parsed there)."""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise TradeError("PARSE_ERROR", "the client went away")
            if not message.get("more_body"):
                return

    @staticmethod
    async def _place(scope: Scope, headers: dict[str, str], parsed: Any) -> bytes:
        ctx = scope["app"].state.ctx
        buyer = await buyer_of(ctx, headers.get("authorization"), headers.get("x-buyer-token"))
        if parsed is None:
            raise TradeError("PARSE_ERROR", "the body is empty")
        try:
            body = PlaceOrderBody.model_validate(parsed)
        except ValidationError as e:
            raise validation_error(list(e.errors())) from None
        view = await place(ctx, buyer, body, headers.get("idempotency-key"))
        return dumps(view)
