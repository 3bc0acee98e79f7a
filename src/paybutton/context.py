"""The per-process context shared by routes and workers: settings, database, clock, signer, HTTP client."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from paybutton.apps import service as app_service
from paybutton.callbacks.http import CallbackClient
from paybutton.callbacks.signing import Signer
from paybutton.cashier.base import Cashier
from paybutton.cashier.sandbox import SandboxCashier
from paybutton.clock import Clock
from paybutton.config import Settings
from paybutton.db import Database
from paybutton.order.fastpath import OrderWriter


@dataclass
class AppCache:
    """Merchant app rows, cached for a short time: the order path reads its app on every request."""

    ttl_seconds: float = 2.0
    _rows: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)

    def get(self, app_id: str) -> dict[str, Any] | None:
        hit = self._rows.get(app_id)
        if hit and time.monotonic() - hit[0] < self.ttl_seconds:
            return hit[1]
        return None

    def put(self, app: dict[str, Any]) -> None:
        self._rows[app["app_id"]] = (time.monotonic(), app)

    def forget(self, app_id: str) -> None:
        self._rows.pop(app_id, None)


@dataclass
class Ctx:
    settings: Settings
    db: Database
    clock: Clock
    signer: Signer
    http: CallbackClient
    writer: OrderWriter
    apps: AppCache = field(default_factory=AppCache)
    cashier: Cashier = field(default_factory=SandboxCashier)

    async def app(self, app_id: str) -> dict[str, Any]:
        hit = self.apps.get(app_id)
        if hit is not None:
            return hit
        async with self.db.engine.connect() as conn:
            row = await app_service.get_app(conn, app_id)
        self.apps.put(row)
        return row
