"""/docs, /redoc and /swagger load nothing from another host (issue 18 item 13): the pages reference only this
server's URLs, and no script or style they load names an image, font, style or script on another host (ReDoc's
bundle drew Redocly's logo from cdn.redoc.ly). tests/browser/test_api_docs.py watches the same in Chromium."""

from __future__ import annotations

import re

import httpx

from paybutton.app import create_app
from paybutton.config import Settings

REF = re.compile(r'(?:src|href|spec-url)\s*=\s*"([^"]+)"|url:\s*"([^"]+)"')
# What a browser would fetch from another host: an asset by its extension, or a CDN or web-font host. (The bundles
# name many other URLs that are never fetched: JSON Schema ids, XML namespaces, links in error messages.)
LOADS = re.compile(r"""https?://[^\s"'`)]*?(?:\.(?:svg|png|jpe?g|gif|webp|ico|woff2?|ttf|otf|eot|css|js)(?=[?#"'`\s)])"""
                   r"""|(?:cdn\.|fonts\.googleapis|fonts\.gstatic|unpkg\.com|jsdelivr)[^\s"'`)]*)""")


async def test_the_docs_pages_and_their_assets_load_only_from_this_server() -> None:
    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://docs.test") as http:
        for path in ("/docs", "/redoc", "/swagger"):
            page = await http.get(path)
            assert page.status_code == 200, path
            refs = [a or b for a, b in REF.findall(page.text)]
            assert refs and all(r.startswith("/") and not r.startswith("//") for r in refs), (path, refs)
            outside = LOADS.findall(page.text)
            for ref in refs:
                asset = await http.get(ref)
                assert asset.status_code == 200, ref
                if ref.endswith((".js", ".css")):
                    outside += [f"{ref}: {u}" for u in LOADS.findall(asset.text)]
            assert not outside, f"{path} would load from another host: {sorted(set(outside))}"
