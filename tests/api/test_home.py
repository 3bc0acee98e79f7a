"""The front door: `/` is a small landing page (console, docs, the demo shop in demo mode, health), and the API docs
at /docs and /redoc load every asset from this server (the pinned fastapi-offline package), none from a CDN."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from paybutton.app import create_app
from paybutton.apps import service as app_service
from paybutton.clock import FakeClock
from paybutton.config import Settings
from paybutton.demo.seed import DEMO_APP_ID

pytestmark = pytest.mark.pg_and_sqlite

SRC = re.compile(r'(?:src|href|url|spec-url)\s*[:=]\s*"([^"]+)"')


async def test_the_landing_page_links_the_console_docs_shop_and_health(db_url: str) -> None:
    clock = FakeClock()
    for demo in (False, True):
        app = create_app(Settings(database_url=db_url, run_workers=False, demo=demo), clock=clock)
        async with app.router.lifespan_context(app):
            if demo:
                async with app.state.ctx.db.tx() as conn:
                    await app_service.create_app(conn, clock, name="Demo shop", app_id=DEMO_APP_ID,
                                                 allowed_origins=["http://127.0.0.1:9"])
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
                zh = await http.get("/")
                assert zh.status_code == 200 and zh.headers["content-type"].startswith("text/html")
                assert 'lang="zh-CN"' in zh.text and "商家后台" in zh.text
                for href in ('href="/console"', 'href="/docs"', 'href="/swagger"', 'href="/healthz"'):
                    assert href in zh.text
                shop = 'href="http://127.0.0.1:9/pages/index/index.html"'
                assert (shop in zh.text) is demo
                en = await http.get("/", headers={"accept-language": "en-US,en;q=0.9"})
                assert 'lang="en"' in en.text and "Merchant console" in en.text and "商家后台" not in en.text
                assert (await http.get("/healthz")).json()["ok"] is True


async def test_the_api_docs_are_served_from_this_server(running: Any) -> None:
    http: httpx.AsyncClient = running.client
    for path in ("/docs", "/redoc", "/swagger"):
        page = await http.get(path)
        assert page.status_code == 200 and '<html lang="en">' in page.text
        refs = SRC.findall(page.text)
        assert refs, path
        for ref in refs:
            assert ref.startswith("/"), f"{path} loads {ref} from another host"
            asset = await http.get(ref)
            assert asset.status_code == 200, ref
            assert ref.endswith(".json") or len(asset.content) > 1000, ref
    assert "validatorUrl: null" in (await http.get("/swagger")).text  # no badge fetched from the validator's host
    spec = (await http.get("/openapi.json")).json()
    assert spec["info"]["title"] == "paybutton" and any(p.startswith("/api/apps/trade/v2/") for p in spec["paths"])
