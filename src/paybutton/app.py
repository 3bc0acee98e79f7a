"""create_app(settings) -> the ASGI app: routers, error handlers, lifespan. Nothing happens at import time."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager as AsyncContextManager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from paybutton import ids
from paybutton.api import buyer, buyer_marketing, buyer_refund, fast_orders, home, meta, oauth, pay_notify
from paybutton.api.fast_orders import FastOrders
from paybutton.api.schema import PaybuttonAPI
from paybutton.apps import service as app_service
from paybutton.callbacks import api as callbacks_api
from paybutton.clock import Clock, SystemClock
from paybutton.config import Settings
from paybutton.console import pay_settings as console_pay
from paybutton.console import routes as console_routes
from paybutton.context import AppCache, Ctx
from paybutton.db import Database
from paybutton.fulfillment import api as fulfillment_api
from paybutton.goods import api as goods_api
from paybutton.kernel.guard import EdgeGuard
from paybutton.kernel.handlers import install_error_handlers
from paybutton.kernel.outbound import CallbackClient
from paybutton.kernel.signing import Signer
from paybutton.kernel.surfaces import OPENAPI_PREFIXES
from paybutton.order import api as order_api
from paybutton.order.writer_registry import close_writer
from paybutton.pages import routes as pages_routes
from paybutton.refund import api as refund_api
from paybutton.settle import api as settle_api

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
        if len(path) > 1 and path.endswith("/") and path.startswith(OPENAPI_PREFIXES):
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


DESCRIPTION = (
    "A self-hosted trade system wire-compatible with the Douyin mini-program trade system 2.0. "
    "The platform OpenAPI lives under /api/apps/trade/v2/ (with or without a trailing slash) and "
    "answers in the {data, extra} envelope with HTTP 200; the buyer API lives under /api/buyer/v1/."
)
# In the order they are included (the first match of a path answers).
ROUTERS = (oauth.router, goods_api.router, order_api.router, buyer.router, buyer_marketing.router, meta.router,
           home.router, refund_api.router, settle_api.router, fulfillment_api.router, fulfillment_api.douyin_router,
           buyer_refund.router, callbacks_api.router, pay_notify.router, pages_routes.router, console_pay.router,
           console_routes.router)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None, workers: bool | None = None) -> FastAPI:
    settings = settings or Settings()
    run_workers = settings.run_workers if workers is None else workers
    app = PaybuttonAPI(
        title="paybutton",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=_lifespan(settings, clock or SystemClock(), run_workers),
        docs_url=None,  # /docs and /redoc come from api/home.py, with their assets served here (no CDN)
        redoc_url=None,
    )
    _add_middleware(app, settings)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    return app


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    """The last added runs first: PlatformPathMiddleware (logid, trailing slash), then the edge (size limit,
    content type, input guard), then FastOrders (order placement), then FastAPI's routing."""
    app.add_middleware(FastOrders)  # inside PlatformPathMiddleware: it sees the logid
    app.add_middleware(EdgeGuard, max_body=settings.max_body_bytes, limits={fast_orders.PATH: fast_orders.MAX_BODY})
    app.add_middleware(PlatformPathMiddleware)


def _lifespan(settings: Settings, clock: Clock, run_workers: bool) -> Callable[[FastAPI], AsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = await _open_ctx(settings, clock)
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
            await _close(ctx, tasks)

    return lifespan


async def _open_ctx(settings: Settings, clock: Clock) -> Ctx:
    """The process context: the database, the platform key (made on first start), the callback client and the
    cashier (the order writer opens on first use: order/writer_registry.py) (Settings.test_cashier's when set)."""
    db = Database(settings)
    async with db.tx() as conn:
        private_pem, _ = await app_service.ensure_platform_key(conn, clock)
    ctx = Ctx(settings=settings, db=db, clock=clock, signer=Signer(private_pem), http=CallbackClient(),
              apps=AppCache(settings.app_cache_seconds), order_gate=asyncio.Semaphore(settings.order_concurrency))
    if settings.test_cashier:  # TEST HOOK (Settings.test_cashier): a channel living outside this process
        module, _, attr = settings.test_cashier.partition(":")
        ctx.cashier = getattr(importlib.import_module(module), attr)()
    return ctx


async def _close(ctx: Ctx, tasks: list[asyncio.Task[None]]) -> None:
    """Stop the workers, then close what _open_ctx opened."""
    for t in tasks:
        t.cancel()
    for t in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await t
    await ctx.http.aclose()
    await close_writer(ctx.db)
    await ctx.db.dispose()
