"""create_app(settings) -> the ASGI app: routers, error handlers, lifespan. Nothing happens at import time."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from paybutton import ids
from paybutton.api import common, fast_orders
from paybutton.api.fast_orders import FastOrders
from paybutton.api.guard import EdgeGuard
from paybutton.api.schema import PaybuttonAPI
from paybutton.apps import service as app_service
from paybutton.callbacks.http import CallbackClient
from paybutton.callbacks.signing import Signer
from paybutton.clock import Clock, SystemClock
from paybutton.config import Settings
from paybutton.context import Ctx
from paybutton.db import Database
from paybutton.order.writing import close_writer

log = logging.getLogger("paybutton")


class PlatformPathMiddleware:
    """Gives every request a logid and accepts the platform paths with or without a trailing slash."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/") and path.startswith(common.OPENAPI_PREFIXES):
            scope = dict(scope)
            scope["path"] = path.rstrip("/")
            scope["raw_path"] = scope["path"].encode()
        lid = ids.logid()
        scope.setdefault("state", {})["logid"] = lid

        async def send_with_logid(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"x-tt-logid" for k, _ in headers):  # error answers set it already
                    headers.append((b"x-tt-logid", lid.encode()))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_logid)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None, workers: bool | None = None) -> FastAPI:
    settings = settings or Settings()
    the_clock = clock or SystemClock()
    run_workers = settings.run_workers if workers is None else workers

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings)
        async with db.tx() as conn:
            private_pem, _ = await app_service.ensure_platform_key(conn, the_clock)
        http = CallbackClient()
        ctx = Ctx(settings=settings, db=db, clock=the_clock, signer=Signer(private_pem), http=http,
                  order_gate=asyncio.Semaphore(settings.order_concurrency))
        if settings.test_cashier:  # TEST HOOK (Settings.test_cashier): a channel living outside this process
            import importlib

            module, _, attr = settings.test_cashier.partition(":")
            ctx.cashier = getattr(importlib.import_module(module), attr)()
        # Long-lived objects made at start-up leave the collector's generations: shorter GC pauses under load.
        gc.freeze()
        app.state.ctx = ctx
        tasks: list[asyncio.Task[None]] = []
        if run_workers:
            from paybutton import workers as bg

            tasks = bg.start(ctx)
        try:
            yield
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
            await http.aclose()
            await close_writer(db)
            await db.dispose()

    app = PaybuttonAPI(
        title="paybutton",
        version="0.1.0",
        description=(
            "A self-hosted trade system wire-compatible with the Douyin mini-program trade system 2.0. "
            "The platform OpenAPI lives under /api/apps/trade/v2/ (with or without a trailing slash) and "
            "answers in the {data, extra} envelope with HTTP 200; the buyer API lives under /api/buyer/v1/."
        ),
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc come from api/home.py, with their assets served here (no CDN)
        redoc_url=None,
    )
    app.add_middleware(FastOrders)  # inside PlatformPathMiddleware: it sees the logid
    # The edge (size limit, content type, input guard) runs before FastOrders and every route.
    app.add_middleware(EdgeGuard, max_body=settings.max_body_bytes, limits={fast_orders.PATH: fast_orders.MAX_BODY})
    app.add_middleware(PlatformPathMiddleware)
    common.install_error_handlers(app)

    from paybutton.api import buyer, buyer_marketing, home, meta, oauth
    from paybutton.goods import api as goods_api
    from paybutton.order import api as order_api
    from paybutton.pages import routes as pages_routes

    app.include_router(oauth.router)
    app.include_router(goods_api.router)
    app.include_router(order_api.router)
    app.include_router(buyer.router)
    app.include_router(buyer_marketing.router)
    app.include_router(meta.router)
    app.include_router(home.router)
    from paybutton.api import buyer_refund
    from paybutton.fulfillment import api as fulfillment_api
    from paybutton.refund import api as refund_api

    app.include_router(refund_api.router)
    app.include_router(fulfillment_api.router)
    app.include_router(fulfillment_api.douyin_router)
    app.include_router(buyer_refund.router)
    from paybutton.callbacks import api as callbacks_api

    app.include_router(callbacks_api.router)
    from paybutton.api import pay_notify

    app.include_router(pay_notify.router)
    app.include_router(pages_routes.router)
    from paybutton.console import pay_settings as console_pay
    from paybutton.console import routes as console_routes

    app.include_router(console_pay.router)
    app.include_router(console_routes.router)
    return app
