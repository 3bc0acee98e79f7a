"""FastAPI's exception handlers: every error a route raises answers through render.render_error."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from paybutton.errors import REGISTRY, TradeError
from paybutton.kernel.render import render_error, validation_error
from paybutton.kernel.surfaces import TRANSPORT_STATUSES, is_openapi

log = logging.getLogger("paybutton")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(TradeError)
    async def _trade(request: Request, exc: TradeError) -> Response:
        return render_error(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errs = exc.errors()
        return render_error(request, validation_error(list(errs)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        name = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code)
        if name is None:
            name = "INVALID_PARAMETER"
        err = TradeError(name, None if name != "INVALID_PARAMETER" else str(exc.detail))
        resp = render_error(request, err)
        if not is_openapi(request.url.path) or exc.status_code in TRANSPORT_STATUSES:
            resp.status_code = exc.status_code
        for k, v in (exc.headers or {}).items():  # 405: Allow
            resp.headers[k] = v
        return resp

    @app.exception_handler(Exception)
    async def _boom(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        resp = render_error(request, TradeError("INTERNAL_ERROR"))
        resp.status_code = REGISTRY["INTERNAL_ERROR"].http_status
        return resp
