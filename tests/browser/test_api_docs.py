"""The API docs in Chromium (issue 18 item 13): /docs (ReDoc) and /swagger (Swagger UI) load nothing from another
host (every request the page makes, images and fonts included, goes to this server; ReDoc's sidebar logo came from
cdn.redoc.ly), and they show the real schemas: query_order's answer sample has its fields instead of `{}`, and no
request sample is made of property1/property2. Both sizes; the docs are in English only."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from browser_helpers import ARTIFACTS, DESKTOP, PHONE, Demo

pytestmark = pytest.mark.browser
QUERY_ORDER = "query_order_api_apps_trade_v2_order_query_order_post"  # its operationId


def _open(browser: Any, viewport: str) -> tuple[Any, Any, list[str]]:
    ctx = browser.new_context(viewport=PHONE if viewport == "phone" else DESKTOP, locale="en")
    requests: list[str] = []
    ctx.on("request", lambda r: requests.append(r.url))
    page = ctx.new_page()
    page.set_default_timeout(60000)  # ReDoc lays out every operation at once: slow on a loaded machine
    return ctx, page, requests


def _shot(page: Any, name: str, failed: bool = False) -> None:
    """The visible part only (a full-page picture of every operation is megabytes and slow on a busy machine)."""
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        page.screenshot(path=str(ARTIFACTS / f"{name}{'-failed' if failed else ''}.png"))
    except Exception:
        if not failed:  # a failure's own error matters more than its picture
            raise


def _outside(requests: list[str], server: str) -> list[str]:
    host = urlsplit(server).netloc
    return [u for u in requests if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).netloc != host]


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_redoc_loads_nothing_from_another_host_and_shows_real_samples(shared_demo: Demo, browser: Any,
                                                                      viewport: str) -> None:
    ctx, page, requests = _open(browser, viewport)
    try:
        page.goto(f"{shared_demo.server}/docs#tag/order/operation/{QUERY_ORDER}")
        page.get_by_text("API docs by Redocly").wait_for(state="attached")
        page.wait_for_load_state("networkidle")
        query_order = page.locator(f'[data-section-id="tag/order/operation/{QUERY_ORDER}"]')
        sample = query_order.inner_text()
        assert "total_fee" in sample and "order_status" in sample, f"query_order's answer sample: {sample[-600:]}"
        text = page.locator("redoc").inner_text()
        samples = [text[max(0, i - 400):i] for i in range(len(text)) if text.startswith("property1", i)]
        assert not samples, "a sample made of property1/property2, after:\n" + "\n---\n".join(samples)
        assert page.locator("img[alt='redocly logo']").count() == 0  # its image would come from cdn.redoc.ly
        assert not _outside(requests, shared_demo.server), _outside(requests, shared_demo.server)
        _shot(page, f"api-docs-redoc-{viewport}")
    except BaseException:
        _shot(page, f"api-docs-redoc-{viewport}", failed=True)
        raise
    finally:
        ctx.close()


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_swagger_loads_nothing_from_another_host_and_shows_real_examples(shared_demo: Demo, browser: Any,
                                                                         viewport: str) -> None:
    ctx, page, requests = _open(browser, viewport)
    try:
        page.goto(f"{shared_demo.server}/swagger")
        op = page.locator(f"#operations-order-{QUERY_ORDER}")
        op.locator(".opblock-summary").click()
        body = op.locator(".opblock-body")
        answer = body.get_by_text('"order_status"').first
        answer.wait_for()
        answer.scroll_into_view_if_needed()  # the screenshot shows the answer's example
        assert "property1" not in body.inner_text()
        page.wait_for_load_state("networkidle")
        assert not _outside(requests, shared_demo.server), _outside(requests, shared_demo.server)
        _shot(page, f"api-docs-swagger-{viewport}")
    except BaseException:
        _shot(page, f"api-docs-swagger-{viewport}", failed=True)
        raise
    finally:
        ctx.close()
