"""`paybutton demo`: the trade server and, on a second origin, the demo shop with its merchant server."""

from __future__ import annotations

import asyncio
import html
import json
import secrets
import socket
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route

from paybutton import buyer_token, i18n
from paybutton.app import create_app
from paybutton.apps import service as app_service
from paybutton.clikit import bind, export_line, fail, inherited, migrate
from paybutton.clock import SystemClock
from paybutton.config import Settings
from paybutton.db import Database
from paybutton.demo.guard import claim_database
from paybutton.demo.merchant import merchant_app
from paybutton.demo.seed import (
    DEMO_APP_ID,
    DEMO_SECRET,
    MERCHANT_GOODS_ID,
    MERCHANT_GOODS_INFO,
    seed_demo,
)
from paybutton.telemetry.logs import log_config

SHOP_DIR = Path(__file__).parent / "shop"
SHOP_PAGES = {"index/index": "index.html", "orderDetail/orderDetail": "orderDetail.html"}


def shop_app(server_url: str, public_pem: str, goods_ids: list[str]) -> Starlette:
    """The merchant's site on its own origin: shop pages, the demo login, the merchant callbacks."""

    async def index(request: Request) -> HTMLResponse:
        items = "".join(f"<li><code>{html.escape(g)}</code></li>" for g in goods_ids)
        return HTMLResponse(
            "<!doctype html><meta charset=utf-8><title>paybutton demo shop</title>"
            "<body style='font-family:sans-serif;max-width:40rem;margin:2rem auto'>"
            "<h1>释集烤肉 · paybutton 演示店</h1>"
            f"<p>Trade server: <a href='{server_url}/docs'>{server_url}</a> (API docs at /docs)</p>"
            f"<p>App <code>{DEMO_APP_ID}</code>; library goods:</p><ul>{items}</ul>"
            f"<p>Merchant good: <code>{MERCHANT_GOODS_ID}</code></p>"
            "<p>Buy page: <a href='/pages/index/index.html'>overlay</a> · "
            "<a href='/pages/index/index.html?display=redirect'>redirect</a> · "
            "<a href='/pages/index/index.html?lang=en'>English</a></p>"
            "<p>Recent callbacks received by this merchant: <a href='/merchant/callbacks'>/merchant/callbacks</a></p>"
        )

    async def login(request: Request) -> JSONResponse:
        open_id = request.query_params.get("open_id") or request.cookies.get("demo_open_id") or (
            "demo-user-" + secrets.token_hex(4))
        token = buyer_token.mint(DEMO_APP_ID, DEMO_SECRET, open_id)
        resp = JSONResponse({"token": token, "open_id": open_id, "app_id": DEMO_APP_ID})
        resp.set_cookie("demo_open_id", open_id, samesite="lax")
        return resp

    async def page(request: Request) -> Response:
        """The seed's example pages, as HTML + tt.js; ?display=redirect and ?lang=en pick the button's options."""
        name = SHOP_PAGES.get(request.path_params["name"])
        if name is None:
            return HTMLResponse("<!doctype html><p>not found</p>", status_code=404)
        display = "redirect" if request.query_params.get("display") == "redirect" else "overlay"
        # the shop's pages are written in Chinese: only ?lang= (not the browser's Accept-Language) moves the button
        lang = i18n.choose(query=request.query_params.get("lang"))
        body = ((SHOP_DIR / name).read_text(encoding="utf-8")
                .replace("__SERVER__", server_url).replace("__APP_ID__", DEMO_APP_ID)
                .replace("__DISPLAY__", display).replace("__LANG__", lang)
                .replace("__MERCHANT_GOODS_INFO__", json.dumps(MERCHANT_GOODS_INFO, ensure_ascii=False)))
        return HTMLResponse(body, headers={"Cache-Control": "no-store"})

    async def css(request: Request) -> Response:
        return Response((SHOP_DIR / "shop.css").read_bytes(), media_type="text/css")

    return Starlette(routes=[
        Route("/", index),
        Route("/pages/{name:path}.html", page),
        Route("/shop.css", css),
        Route("/demo-login", login, methods=["GET", "POST"]),
        Mount("/merchant", app=merchant_app(public_pem)),
    ])


async def prepare(database_url: str, server_url: str, shop_url: str) -> tuple[str, dict[str, Any]]:
    db = Database(Settings(database_url=database_url))
    try:
        clock = SystemClock()
        async with db.tx() as conn:
            _, public_pem = await app_service.ensure_platform_key(conn, clock)
            seeded = await seed_demo(conn, clock, merchant_url=f"{shop_url}/merchant", shop_origin=shop_url)
    finally:
        await db.dispose()
    return public_pem, seeded


def run_demo(*, host: str, port: int, shop_port: int | None, database_url: str, allow_foreign: bool = False,
             fd: int | None = None, shop_fd: int | None = None) -> None:
    """Bind both ports (or take the inherited listening sockets `fd`, `shop_fd`), then claim the database
    (demo/guard.py), migrate, seed, and serve on the sockets: a port in use, an fd that is no listening socket or
    a database that is not the demo's stops it before any database is touched. The shop's port is by default the
    trade server's + 1."""
    busy = " (is a demo already running there?)"
    with ExitStack() as held:
        trade = held.enter_context(bind(host, port, "--port", busy) if fd is None else _tcp(fd, "--fd"))
        shop_port = shop_port or int(trade.getsockname()[1]) + 1
        shop = held.enter_context(
            bind(host, shop_port, "--shop-port", busy) if shop_fd is None else _tcp(shop_fd, "--shop-fd"))
        sockets = [trade, shop]
        claim_database(database_url, allow_foreign)
        migrate(database_url)
        _serve(host, sockets, database_url)


def _tcp(fd: int, option: str) -> socket.socket:
    """An inherited listening socket for one of the demo's two origins: a TCP one (a browser opens them)."""
    sock = inherited(fd, option)
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        sock.close()
        fail(f"{option} {fd} is not a TCP socket: the demo's pages are opened by a browser, so give it a TCP one")
    return sock


def _serve(host: str, sockets: list[socket.socket], database_url: str) -> None:
    server_url, shop_url = (f"http://{host}:{s.getsockname()[1]}" for s in sockets)
    public_pem, seeded = asyncio.run(prepare(database_url, server_url, shop_url))
    settings = Settings(database_url=database_url, demo=True, public_url=server_url)
    trade = create_app(settings)
    shop = shop_app(server_url, public_pem, seeded["goods"])
    print(f"""
paybutton demo
  trade server   {server_url}          (OpenAPI: {server_url}/docs)
  demo shop      {shop_url}            (the merchant's site and its callback server)
  buy page       {shop_url}/pages/index/index.html
  console        {server_url}/console      (signs in to the demo app by itself; password: demo)
  app id         {DEMO_APP_ID}
  app secret     {DEMO_SECRET}
  database       {database_url}
  CLI            {export_line(database_url)}   # then: paybutton app list, goods list --app …
platform public key (verifies Byte-Signature):
{public_pem.strip()}
""", flush=True)

    # The log lines as `serve` writes them (PAYBUTTON_LOG_FORMAT, PAYBUTTON_LOG_LEVEL; telemetry/logs.py), on stderr.
    logs = log_config(settings.log_format, settings.log_level)

    async def both() -> None:
        servers = [uvicorn.Server(uvicorn.Config(app, log_level=settings.log_level, access_log=False,
                                                 log_config=logs)) for app in (trade, shop)]
        await asyncio.gather(*(s.serve(sockets=[sock]) for s, sock in zip(servers, sockets, strict=True)))

    asyncio.run(both())
