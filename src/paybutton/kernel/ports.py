"""What the kernel needs of the process context: its database, its clock and the cached app rows.

paybutton.context.Ctx provides all three; the kernel names them here so that it never imports the context (the
context sits above the kernel: it holds the kernel's signer and HTTP client)."""

from __future__ import annotations

from typing import Any, Protocol

from starlette.requests import HTTPConnection
from starlette.types import Scope

from paybutton.clock import Clock
from paybutton.db import Database
from paybutton.kernel.approws import AppRow


class KernelCtx(Protocol):
    @property
    def db(self) -> Database: ...

    @property
    def clock(self) -> Clock: ...

    async def app(self, app_id: str) -> AppRow: ...


def ctx_of(request: HTTPConnection) -> KernelCtx:
    """The process context the app's lifespan left in app.state."""
    ctx: KernelCtx = request.app.state.ctx
    return ctx


def scope_ctx(scope: Scope) -> Any:
    """The process context of an ASGI scope, or None before the lifespan ran."""
    return getattr(getattr(scope.get("app"), "state", None), "ctx", None)
