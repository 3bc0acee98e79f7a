"""The one language choice (issue 19, "one place per rule"): query `lang`, then the surface's cookie, then
Accept-Language in its q order, then zh-CN; used by the error renderer, the pages, `/`, the console and the demo."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from paybutton import i18n
from paybutton.app import create_app
from paybutton.config import Settings
from paybutton.kernel import render


@pytest.mark.parametrize(("query", "cookie", "accept", "want"), [
    (None, None, None, "zh-CN"),
    ("en", None, None, "en"),
    ("en-US", "zh-CN", "zh", "en"),  # the query wins over the cookie and the header
    ("zh-CN", "en", "en", "zh-CN"),
    (None, "en", "zh-CN", "en"),  # the cookie wins over the header
    ("fr", "en", None, "en"),  # a value that is not one of ours is no choice: the next source decides
    (None, None, "en-US,en;q=0.9,zh-CN;q=0.8", "en"),
    (None, None, "fr-FR, zh-CN;q=0.5, en;q=0.7", "en"),  # q order, not the header's order
    (None, None, "de, fr", "zh-CN"),
    (None, None, "en;q=0", "zh-CN"),
    (None, None, "zh-TW,en;q=0.5", "zh-CN"),
])
def test_choose(query: str | None, cookie: str | None, accept: str | None, want: str) -> None:
    assert i18n.choose(query, cookie, accept) == want


def test_the_error_renderer_uses_the_same_choice() -> None:
    scope = {"query_string": b"lang=fr", "headers": [(b"accept-language", b"de, en;q=0.5")]}
    assert render.lang_of(scope) == "en"  # before: "fr" made zh-CN
    assert i18n.lang_of_scope(scope, cookie="zh") == "zh-CN"


def test_the_console_switch_wins_over_the_lang_it_came_with() -> None:
    """After 中文 on /console/goods?lang=en&q=x, the page comes back without ?lang=en (the query would beat the
    cookie the switch just set)."""
    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:", run_workers=False))

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return await client.get("/console/lang/zh-CN", params={"next": "/console/goods?lang=en&q=x"})

    r = asyncio.run(go())
    assert r.status_code == 303 and r.headers["location"] == "/console/goods?q=x"
    assert "pb_console_lang=zh-CN" in r.headers["set-cookie"]
