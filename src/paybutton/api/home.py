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

from paybutton import i18n
from paybutton.api.docs_assets import ASSETS, ASSETS_DIR, REDOC, redoc_script
from paybutton.apps import service as app_service
from paybutton.config import DEMO_APP_ID
from paybutton.context import CtxDep
from paybutton.tables import apps

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.add_extension("jinja2.ext.i18n")

router = APIRouter(include_in_schema=False)
router.add_api_route(f"{ASSETS}/{REDOC}", redoc_script, methods=["GET"])  # before the mount: served changed
router.mount(ASSETS, StaticFiles(directory=str(ASSETS_DIR)), name="docs-assets")


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
    lang = i18n.lang_of_request(request)
    return templates.TemplateResponse(request, "home.html", {**i18n.jinja_context(lang),
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
