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
from paybutton.api import (
    buyer,
    buyer_bookings,
    buyer_marketing,
    buyer_refund,
    fast_orders,
    home,
    meta,
    oauth,
    pay_notify,
)
from paybutton.api import metrics as metrics_api
from paybutton.api.fast_orders import FastOrders
from paybutton.api.schema import PaybuttonAPI
from paybutton.apps import service as app_service
from paybutton.booking import api as booking_api
from paybutton.callbacks import api as callbacks_api
from paybutton.clock import Clock, SystemClock
from paybutton.config import Settings
from paybutton.console import pay_settings as console_pay
from paybutton.console import routes as console_routes
from paybutton.context import AppCache, Ctx
from paybutton.db import Database
from paybutton.devorders import api as devorders_api
from paybutton.fulfillment import api as fulfillment_api
from paybutton.fulfillment import tools_api as fulfillment_tools
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
from paybutton.telemetry import metrics
from paybutton.telemetry.http import Observe
from paybutton.toolkit import api as toolkit_api

log = logging.getLogger("paybutton")


class PlatformPathMiddleware:
    """Accepts the platform paths with or without a trailing slash, and answers with the request's id
    (telemetry/http.Observe made it) as its `x-tt-logid`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/") and path.startswith(OPENAPI_PREFIXES):
            # In place: Observe (outside) reads the route the router puts in this scope for its metrics.
            scope["path"] = path.rstrip("/")
            scope["raw_path"] = scope["path"].encode()
        state = scope.setdefault("state", {})
        lid = state.get("logid") or ids.logid()  # Observe (outside) made the request's id; a new one without it
        state["logid"] = lid

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
           home.router, metrics_api.router, refund_api.router, settle_api.router, fulfillment_api.router,
           fulfillment_api.douyin_router,
           buyer_refund.router, callbacks_api.router, pay_notify.router, pages_routes.router, console_pay.router,
           console_routes.router,
           devorders_api.router,  # issue 22: order/create_order, order/query_cps
           devorders_api.marketing_router,  # issue 22: /api/trade/v2/marketing/query_and_calculate
           toolkit_api.router,  # issue 22: the fulfilment tool's settings
           booking_api.router,  # issue 22: book/*
           fulfillment_tools.douyin_router,  # issue 22: /api/trade/v2/fulfillment/*
           fulfillment_tools.toolkit_router,  # issue 22: toolkit/ certificate calls
           buyer_bookings.router)


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
    """The last added runs first: Observe (request id = logid, metrics), PlatformPathMiddleware (trailing slash),
    then the edge (size limit, content type, input guard), then FastOrders (order placement), then routing."""
    app.add_middleware(FastOrders)  # inside PlatformPathMiddleware: it sees the logid
    app.add_middleware(EdgeGuard, max_body=settings.max_body_bytes, limits={fast_orders.PATH: fast_orders.MAX_BODY})
    app.add_middleware(PlatformPathMiddleware)
    app.add_middleware(Observe, access_log=settings.access_lines)  # outermost: request id, metrics, access line


def _lifespan(settings: Settings, clock: Clock, run_workers: bool) -> Callable[[FastAPI], AsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = await _open_ctx(settings, clock)
        # Long-lived objects made at start-up leave the collector's generations: shorter GC pauses under load.
        gc.freeze()
        app.state.ctx = ctx
        from paybutton.workers import Workers

        jobs = Workers(ctx)
        if run_workers:
            jobs.start()
        try:
            yield
        finally:
            await jobs.stop(settings.shutdown_grace_seconds)
            await _close(ctx)

    return lifespan


async def _open_ctx(settings: Settings, clock: Clock) -> Ctx:
    """The process context: the database, the platform key (made on first start), the callback client and the
    cashier (the order writer opens on first use: order/writer_registry.py) (Settings.test_cashier's when set)."""
    db = Database(settings, claim=True)  # `paybutton db restore` refuses a SQLite file a server has open
    metrics.watch_pool(db.engine.sync_engine, "main")
    async with db.tx() as conn:
        private_pem, _ = await app_service.ensure_platform_key(conn, clock)
    ctx = Ctx(settings=settings, db=db, clock=clock, signer=Signer(private_pem), http=CallbackClient(),
              apps=AppCache(settings.app_cache_seconds), order_gate=asyncio.Semaphore(settings.order_concurrency))
    if settings.test_cashier:  # TEST HOOK (Settings.test_cashier): a channel living outside this process
        module, _, attr = settings.test_cashier.partition(":")
        ctx.cashier = getattr(importlib.import_module(module), attr)()
    return ctx


async def _close(ctx: Ctx) -> None:
    """Close what _open_ctx opened (the workers have stopped)."""
    await ctx.http.aclose()
    await close_writer(ctx.db)
    await ctx.db.dispose()
    metrics.process_ended()
