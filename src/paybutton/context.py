"""The per-process context shared by routes and workers: settings, database, clock, signer, HTTP client, the
cached app rows; and CtxDep, the FastAPI dependency that hands it to a route."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.cashier import registry
from paybutton.cashier.base import Cashier
from paybutton.cashier.sandbox import SandboxCashier
from paybutton.clock import Clock
from paybutton.config import Settings
from paybutton.db import Database
from paybutton.errors import TradeError
from paybutton.kernel.approws import AppRow, get_app
from paybutton.kernel.outbound import CallbackClient
from paybutton.kernel.signing import Signer
from paybutton.loop import run_every
from paybutton.tables import platform_keys

# How often a process looks for a rotated platform key (`paybutton keys rotate`): one small query a second at most.
KEY_CHECK_SECONDS = 1.0
KEY_CHECK_TIMEOUT_SECONDS = 2.0

log = logging.getLogger("paybutton.context")


@dataclass
class AppCache:
    """Merchant app rows, cached for a short time: the order path reads its app on every request.

    The bound: a row is served only while less than `ttl_seconds` (settings.app_cache_seconds) have passed since
    its read BEGAN, never after, so a change committed by any process (the console, the CLI, another server) is
    used by every request that starts `ttl_seconds` after the commit. An expired row is read again once, however
    many requests ask at the same moment (they wait for that one read: an expiry must not send every request in
    flight to the database at once, nor serve the old row meanwhile). `forget` (a change this process made)
    drops the row and any read in flight, so the next request reads the change; `load(fresh=True)` (a page load)
    reads at once."""

    ttl_seconds: float = 2.0
    _rows: dict[str, tuple[float, AppRow]] = field(default_factory=dict)  # (when its read began, row)
    _loading: dict[str, asyncio.Future[AppRow]] = field(default_factory=dict)
    _forgotten: dict[str, float] = field(default_factory=dict)  # when `forget` was last called, per app
    monotonic: Callable[[], float] = time.monotonic  # the bound's clock (a test steps its own)

    def get(self, app_id: str) -> AppRow | None:
        hit = self._rows.get(app_id)
        if hit and self.monotonic() - hit[0] < self.ttl_seconds:
            return hit[1]
        return None

    def put(self, app: AppRow, began: float) -> None:
        """Cache a row whose read began at `began` (self.monotonic()), unless it began before a `forget`."""
        if began > self._forgotten.get(app["app_id"], -1.0):
            self._rows[app["app_id"]] = (began, app)

    def forget(self, app_id: str) -> None:
        self._forgotten[app_id] = self.monotonic()
        self._rows.pop(app_id, None)
        self._loading.pop(app_id, None)  # a read in flight may have begun before the change

    async def read_through(self, app_id: str, read: Callable[[], Awaitable[AppRow]]) -> AppRow:
        """The cached row, or `read()`'s (e.g. through the caller's connection, inside its transaction), cached."""
        hit = self.get(app_id)
        if hit is None:
            began = self.monotonic()
            hit = await read()
            self.put(hit, began)
        return hit

    def load(self, app_id: str, fetch: Callable[[], Awaitable[AppRow]], fresh: bool = False) -> asyncio.Future[AppRow]:
        """The one read in flight for this app (started now if there is none, or always when `fresh`)."""
        fut = None if fresh else self._loading.get(app_id)
        if fut is None:
            began = self.monotonic()
            new: asyncio.Future[AppRow] = asyncio.ensure_future(fetch())
            self._loading[app_id] = new

            def done(f: asyncio.Future[AppRow]) -> None:
                if self._loading.get(app_id) is f:
                    self._loading.pop(app_id, None)
                if not f.cancelled() and f.exception() is None:
                    self.put(f.result(), began)  # unless forgotten since it began

            new.add_done_callback(done)
            fut = new
        return fut


@dataclass
class Ctx:
    settings: Settings
    db: Database
    clock: Clock
    signer: Signer
    http: CallbackClient
    apps: AppCache = field(default_factory=AppCache)
    cashier: Cashier = field(default_factory=SandboxCashier)
    order_gate: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(64))
    _key_id: int | None = field(default=None, init=False, repr=False)
    _key_checked: float = field(default=0.0, init=False, repr=False)
    _key_lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    async def fresh_signer(self) -> Signer:
        """The signer of the active platform key. The key's id is looked up at most once a KEY_CHECK_SECONDS, by
        one caller while the others go on with the signer they have; when another process rotated the key, the
        new key is loaded and `self.signer` replaced, so callbacks, /api/platform/public_key and the console follow
        a rotation without a restart. Signing never waits on the database: a slow or failing lookup keeps the
        current key and is tried again an interval later."""
        if time.monotonic() - self._key_checked < KEY_CHECK_SECONDS or self._key_lock.locked():
            return self.signer
        async with self._key_lock:
            self._key_checked = time.monotonic()
            try:
                await asyncio.wait_for(self._reload_key(), KEY_CHECK_TIMEOUT_SECONDS)
            except Exception:  # any failure: keep signing with the key we have
                log.warning("platform key check failed; signing with the current key", exc_info=True)
        return self.signer

    async def _reload_key(self) -> None:
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(
                select(platform_keys.c.id, platform_keys.c.public_pem).where(platform_keys.c.active.is_(True))
                .order_by(platform_keys.c.id.desc()).limit(1))).first()
            if row is not None and row.id != self._key_id:
                if row.public_pem != self.signer.public_pem:
                    private_pem = (await conn.execute(select(platform_keys.c.private_pem)
                                                      .where(platform_keys.c.id == row.id))).scalar_one()
                    self.signer = Signer(private_pem)
                self._key_id = row.id

    async def app(self, app_id: str, fresh: bool = False) -> AppRow:
        """The app row, cached within AppCache's bound; `fresh`: read now (a page load: the frame policy and the
        settings a page shows follow a change at once, e.g. `paybutton app update --add-origin`)."""
        hit = None if fresh else self.apps.get(app_id)
        if hit is not None:
            return hit

        async def fetch() -> AppRow:
            async with self.db.engine.connect() as conn:
                return await get_app(conn, app_id)

        return await asyncio.shield(self.apps.load(app_id, fetch, fresh))

    @property
    def channel_timeouts(self) -> dict[str, float]:
        """Seconds one API call to a real channel may take, by channel (Settings.*_timeout_seconds)."""
        return {"wechat": self.settings.wechatpay_timeout_seconds, "alipay": self.settings.alipay_timeout_seconds}

    def cashier_for(self, app: AppRow, channel: str) -> Cashier:
        """The Cashier that takes `channel` ("douyin", "wechat", ...) for this app. Every pay asks here, and the
        attempt records the answer's `name` as its provider: the app's WeChat Pay or Alipay cashier when its
        pay_config has that channel (refund notifies go to settings.public_url), else the process's cashier
        (the sandbox)."""
        return registry.cashier_for_app(app, channel, self.cashier, notify_base=self.settings.public_url,
                                        timeouts=self.channel_timeouts)

    async def app_in(self, conn: AsyncConnection, app_id: str) -> AppRow:
        """The app row inside a transaction: from the cache, else read through the caller's connection (another
        connection could wait for the lock this one holds, and SQLite's pool has only one)."""
        return await self.apps.read_through(app_id, lambda: get_app(conn, app_id))

    def cashier_by_provider(self, app: AppRow, provider: str) -> Cashier:
        """The Cashier an attempt was taken by (payments.provider): for the reconciler's query, a refund and the
        channel notify routes. A real provider ("wechatpay", "alipay") the app has settings for is its cashier; the
        process's cashier answers to its own name; anything else is NOTIFY_PROVIDER_UNKNOWN (404)."""
        channel = registry.CHANNEL_OF.get(provider)
        if channel is not None and registry.configured(app, channel):
            return registry.cashier_by_provider(app, provider, self.cashier, notify_base=self.settings.public_url,
                                                timeouts=self.channel_timeouts)
        if provider == self.cashier.name:
            return self.cashier
        raise TradeError("NOTIFY_PROVIDER_UNKNOWN", provider)


async def sweep_every(ctx: Ctx, name: str, sweep: Callable[[Ctx], Awaitable[int]],
                      stop: asyncio.Event | None = None) -> None:
    """A sweep worker: `sweep(ctx)` every settings.sweep_interval_seconds, forever (or until `stop`). A sweep that
    moved something (returned more than 0) may have left work behind, so it runs again at once; errors are logged
    and the loop goes on (loop.run_every)."""

    async def step() -> bool:
        return await sweep(ctx) > 0

    await run_every(name, step, lambda: ctx.settings.sweep_interval_seconds, stop)


def get_ctx(request: Request) -> Ctx:
    ctx: Ctx = request.app.state.ctx
    return ctx


async def ctx_dependency(request: Request) -> Ctx:
    """Async on purpose: FastAPI runs a sync dependency in a thread pool, which costs a thread hop a request."""
    return get_ctx(request)


CtxDep = Annotated[Ctx, Depends(ctx_dependency)]
