"""The API docs' scripts, styles and icon (/docs-assets/…), served from this server out of the pinned PyPI package
fastapi-offline: no CDN, so /docs and /swagger load nothing from another host and work offline.

One asset is served changed: ReDoc's bundle draws Redocly's logo in its sidebar from cdn.redoc.ly. Its URL is
made empty, so the browser fetches nothing and ReDoc's own onError hides the image; the attribution text and link
stay. tests/api/test_docs_offline.py fails if a new fastapi-offline brings another outside URL that loads."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

from fastapi import Response

ASSETS = "/docs-assets"
ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))
REDOC = "redoc.standalone.js"
# Where the bundle loads an image from another host: each is replaced by "" (exactly once each, or serving fails).
OUTSIDE = ('"https://cdn.redoc.ly/redoc/logo-mini.svg"',)


@cache
def _redoc_script() -> bytes:
    text = (ASSETS_DIR / REDOC).read_text(encoding="utf-8")
    for url in OUTSIDE:
        if text.count(url) != 1:
            raise RuntimeError(f"fastapi-offline's {REDOC} changed: {url} is there {text.count(url)} times")
        text = text.replace(url, '""')
    return text.encode()


async def redoc_script() -> Response:
    """ReDoc's bundle without its one outside image."""
    return Response(_redoc_script(), media_type="text/javascript; charset=utf-8",
                    headers={"cache-control": "public, max-age=86400"})
