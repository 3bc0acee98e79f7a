"""GET /metrics: the Prometheus exposition (telemetry/scrape.py), for a scraper that sends the bearer token
PAYBUTTON_METRICS_TOKEN. Without that setting /metrics is off (404); a request without the token, or with another
one, is 401. Not part of the OpenAPI document."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from paybutton.context import CtxDep
from paybutton.telemetry import scrape

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, ctx: CtxDep) -> Response:
    token = ctx.settings.metrics_token
    if not token:
        return PlainTextResponse("metrics are off: set PAYBUTTON_METRICS_TOKEN (README, Operating)\n", 404)
    sent = request.headers.get("authorization", "")
    if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return PlainTextResponse("401: send Authorization: Bearer <PAYBUTTON_METRICS_TOKEN>\n", 401,
                                 headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    async with ctx.db.engine.connect() as conn:
        families = await scrape.database_gauges(conn, ctx.clock.now_ms())
    return Response(scrape.render(families), media_type=CONTENT_TYPE_LATEST)
