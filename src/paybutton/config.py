"""Settings: environment variables PAYBUTTON_* and an optional TOML file; nothing is read at import."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

# The app `paybutton demo` seeds (demo/seed.py); the home page and the console name it when Settings.demo is on.
DEMO_APP_ID = "tt5eed000000000001"

class Settings(BaseSettings):
    """Everything the server can be told. Defaults make `paybutton serve` work in an empty folder."""

    model_config = SettingsConfigDict(env_prefix="PAYBUTTON_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///paybutton.db"
    # Connections in the pool; SQLite uses one writer connection per process (no busy-wait storms).
    db_pool_size: int = Field(default=4, ge=1, le=64)
    # The order path's own PostgreSQL connections (order/writer_pg.py): the stock batches, the acceptances and the
    # goods taken on their own run at once. 4 made orders wait for a connection (bench, 2 servers, 200 goods:
    # p99 101 ms at 1090 orders/s; 8: 82 ms at 1263).
    order_pool_size: int = Field(default=8, ge=2, le=64)
    public_url: str = ""  # the origin pages and scripts are served from; default: from the request
    pre_order_timeout_seconds: float = Field(default=3.0, gt=0, le=30)
    # An order placement with an Idempotency-Key holds the key this long (kernel/order_keys.py); a retry after it
    # finds the order the holder placed, or places it (the holder died). Longer than any placement (which
    # includes pre_create_order's pre_order_timeout_seconds).
    # The longest a process uses a cached app row (context.AppCache): a settings change (suspended, callback URLs,
    # delivery type, origins) made by any process reaches every request this long after its commit at the latest;
    # the process that made it, and every page load, see it at once.
    app_cache_seconds: float = Field(default=2.0, gt=0, le=60)
    order_key_lease_seconds: float = Field(default=30.0, gt=0, le=3600)
    # pre_create_refund, called while the buyer waits for the refund-apply answer (then the outbox retries).
    pre_refund_timeout_seconds: float = Field(default=3.0, gt=0, le=30)
    callback_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # How long one call to a real channel's API may take (prepay, query, close, refund) before its answer counts as
    # lost (the attempt is then UNKNOWN and the reconciler asks again). A refused connection fails at once.
    wechatpay_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    alipay_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Orders placed at once per process; more wait their turn in arrival order (fair latency under load). The
    # stock batches grow with it: 64 measured best on the 2-core bench (16: hot 764 orders/s, 64: 883).
    order_concurrency: int = Field(default=64, ge=1, le=1024)
    sweep_interval_seconds: float = Field(default=1.0, gt=0)
    dispatch_interval_seconds: float = Field(default=0.5, gt=0)
    run_workers: bool = True  # run the expiry sweeper and the callback dispatcher inside the server
    # The largest request body any route reads (bytes); a larger one is refused with 413 while it streams in.
    # Order placement keeps its own, smaller limit (api/fast_orders.py).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=1024**3)
    token_ttl_seconds: int = 7200
    demo: bool = False
    # The payment reconciler: how many due attempts one sweep asks the channel about (see order/reconcile.py
    # for the schedule: 5s, 10s, 30s, 1m, 2m, 5m after the attempt, then every 10m).
    reconcile_batch: int = Field(default=50, ge=1, le=1000)
    # A pay whose channel call has not come back after this long (the process died mid-call) is the reconciler's.
    payment_call_lease_seconds: float = Field(default=60.0, gt=0, le=3600)
    # TEST HOOK, never set in production: the process exits (os._exit) right after a channel answered SUCCESS
    # and before the answer is written, as a crash would. tests/integration/test_pay_crash.py uses it.
    test_crash_after_charge: bool = False
    # Daily reconciliation (recon/): from this hour of the day (Beijing time) on, the worker fetches yesterday's
    # bills. WeChat Pay makes them from 9:00 and advises 10:00; Alipay's are ready on the next day after 10:00.
    recon_hour_beijing: int = Field(default=10, ge=0, le=23)
    # TEST HOOK: "module:attribute" of a Cashier factory used instead of the sandbox (a test channel that lives
    # outside the server process). Empty in production.
    test_cashier: str = ""
    log_level: str = "info"
    # Observability (telemetry/, README "Operating"): `json` writes one JSON object per log line; an access line
    # per request (default: with json only); /metrics answers only a scraper that sends this bearer token (unset:
    # /metrics is off); on SIGTERM the workers get this long to finish their step, requests to finish.
    log_format: Literal["text", "json"] = "text"
    access_log: bool | None = None
    metrics_token: str = ""
    shutdown_grace_seconds: float = Field(default=20.0, gt=0, le=600)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("PAYBUTTON_CONFIG", "paybutton.toml"))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    @property
    def access_lines(self) -> bool:
        return self.access_log if self.access_log is not None else self.log_format == "json"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

