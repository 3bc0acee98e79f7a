"""The merchant console at /console: its static files, the dashboard, every page area's routes (sign-in, goods,
orders and vouchers, refunds, callbacks, the statement, settings) and, last, the console's own 404 for any other
address.
Server-rendered; forms POST and redirect. The payment channels' settings are pay_settings.py's router."""

from __future__ import annotations

from fastapi.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from paybutton.console import auth, callbacks, goods, money, orders, queries, refunds, settings
from paybutton.console.deps import SignedIn, console_router
from paybutton.console.page import HERE

router = console_router()
router.mount("/console/static", StaticFiles(directory=str(HERE / "static")), name="console-static")


@router.get("/console", response_class=HTMLResponse)
async def dashboard(c: SignedIn) -> Response:
    return c.render("dashboard.html", nav="dashboard", stats=await queries.dashboard(c.ctx, c.app_id),
                    **await money.dashboard_money(c))


for area in (auth, goods, orders, refunds, callbacks, money, settings):
    router.include_router(area.router)


@router.get("/console/{rest:path}", response_class=HTMLResponse)
async def unknown_page(rest: str, c: SignedIn) -> Response:
    """Any other console address: the console's own 404 page."""
    return c.not_found()
