"""The installation's front door: `/`, a small landing page (console, API docs, the demo shop, health), and the API
docs: /docs (ReDoc; also /redoc) and /swagger (Swagger UI, to try calls), their scripts and styles served from
this server out of the pinned PyPI package fastapi-offline: no CDN, so the docs work offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from starlette.staticfiles import StaticFiles

from paybutton.api.docs_assets import ASSETS, ASSETS_DIR, REDOC, redoc_script
from paybutton.apps import service as app_service
from paybutton.config import DEMO_APP_ID
from paybutton.context import CtxDep
from paybutton.tables import apps

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

router = APIRouter(include_in_schema=False)
router.add_api_route(f"{ASSETS}/{REDOC}", redoc_script, methods=["GET"])  # before the mount: served changed
router.mount(ASSETS, StaticFiles(directory=str(ASSETS_DIR)), name="docs-assets")

TEXTS = {
    "zh-CN": {"title": "paybutton 交易服务",
              "lead": "自托管的抖音小程序交易系统:支付按钮、托管页面、交易服务与开放接口。",
              "console": "商家后台", "console_note": "商品、订单、退款审核、核销、回调记录与设置",
              "docs": "接口文档 (ReDoc)", "docs_note": "开放接口与买家接口的完整说明",
              "redoc": "接口调试 (Swagger UI)", "redoc_note": "同一份 OpenAPI,可在页面上直接调用",
              "shop": "演示商店", "shop_note": "演示模式下的商家网站:在这里买一单试试",
              "health": "健康检查", "health_note": "服务与数据库是否正常 (JSON)", "lang": "English"},
    "en": {"title": "paybutton trade server", "lead": "A self-hosted Douyin mini-program trade system: the pay button,"
           " hosted pages, the trade server and its OpenAPI.", "console": "Merchant console",
           "console_note": "Goods, orders, refund audits, vouchers, the callback log and settings",
           "docs": "API docs (ReDoc)",
           "docs_note": "The platform OpenAPI and the buyer API, in full",
           "redoc": "Try the API (Swagger UI)", "redoc_note": "The same OpenAPI, callable from the page",
           "shop": "Demo shop", "shop_note": "The demo merchant's site: buy something there",
           "health": "Health check", "health_note": "Is the server and its database up (JSON)", "lang": "中文"},
}


def _lang(request: Request) -> str:
    asked = request.query_params.get("lang") or request.headers.get("accept-language", "")
    return "en" if asked.lower().startswith("en") else "zh-CN"


async def _demo_shop(ctx: Any) -> str:
    """The demo shop's buy page, when this server runs the demo (the demo app's allowed origin is the shop)."""
    if not ctx.settings.demo:
        return ""
    async with ctx.db.engine.connect() as conn:
        row = (await conn.execute(select(apps).where(apps.c.app_id == DEMO_APP_ID))).first()
    origins = app_service.app_view(row)["allowed_origins"] if row is not None else []
    return f"{origins[0]}/pages/index/index.html" if origins else ""


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, ctx: CtxDep) -> HTMLResponse:
    lang = _lang(request)
    return templates.TemplateResponse(request, "home.html", {"t": TEXTS[lang], "lang": lang,
                                                             "shop": await _demo_shop(ctx)})


@router.get("/swagger", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "docs.html", {"openapi": request.app.openapi_url, "assets": ASSETS,
                                                             "title": request.app.title})


@router.get("/docs", response_class=HTMLResponse)
@router.get("/redoc", response_class=HTMLResponse)
async def redoc(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "redoc.html", {"openapi": request.app.openapi_url, "assets": ASSETS,
                                                              "title": request.app.title})
