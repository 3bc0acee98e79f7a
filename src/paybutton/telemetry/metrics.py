"""The Prometheus series of paybutton (prometheus-client), counted where things happen.

Counters and histograms live in each process; with several `serve` workers, PROMETHEUS_MULTIPROC_DIR makes every
worker write them to files there and /metrics adds them up (scrape.py). The gauges that describe the database
(callbacks pending and dead, attempts waiting for the reconciler, refunds by state) are not here: they are read
when /metrics is scraped (scrape.py), so every worker answers the same. Label values are few and fixed (route
templates, error names, channels): never an id."""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

# Latency buckets (seconds) for HTTP answers and callback deliveries.
LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter("paybutton_http_requests", "HTTP answers, by route template, method and status",
                        ["route", "method", "status"])
HTTP_LATENCY = Histogram("paybutton_http_request_duration_seconds", "Time to answer, by route template and method",
                         ["route", "method"], buckets=LATENCY)
ORDERS_PLACED = Counter("paybutton_orders_placed", "Orders placed (written, and accepted by pre_create_order "
                        "when the app has one)")
ORDERS_REFUSED = Counter("paybutton_orders_refused", "Order placements refused, by error name (errors.py)",
                         ["reason"])
ORDERS_PAID = Counter("paybutton_orders_paid", "Orders paid (an attempt settled SUCCESS on a payable order)")
PAYMENTS = Counter("paybutton_payments", "Payment attempts' answers, by channel and outcome (the channel's answer "
                   "to a pay: SUCCESS FAIL PENDING UNKNOWN ...; a settle: SUCCESS CLOSED LATE)",
                   ["channel", "outcome"])
CALLBACK_DELIVERY = Histogram("paybutton_callback_delivery_seconds", "One POST of a callback to the merchant, by "
                              "callback type and result (delivered, failed)", ["type", "result"], buckets=LATENCY)
STOCK_BATCH = Histogram("paybutton_order_batch_size", "Orders per statement of the order path (take: stock taken, "
                        "accept: pre_create_order answers written)", ["kind"],
                        buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256))
SOLD_OUT_FROM_MEMORY = Counter("paybutton_sold_out_from_memory", "GOODS_SOLD_OUT answered from this process's "
                               "sold-out memory, without a query")
ORDER_STATS_REFRESHED = Counter("paybutton_order_stats_refreshed", "ANALYZEs of the order tables run by the order "
                                "writer while a new PostgreSQL database fills up (order/pg_stats.py)")
# livesum: with PROMETHEUS_MULTIPROC_DIR, the sum over the workers alive now.
DB_POOL_IN_USE = Gauge("paybutton_db_pool_in_use", "Database connections checked out of the pool",
                       ["pool"], multiprocess_mode="livesum")
DB_POOL_SIZE = Gauge("paybutton_db_pool_size", "Connections the pool keeps (its size)", ["pool"],
                     multiprocess_mode="livesum")


def multiprocess() -> bool:
    """True when this process writes its series to PROMETHEUS_MULTIPROC_DIR (several workers)."""
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def order_refused(reason: str) -> None:
    ORDERS_REFUSED.labels(reason=reason).inc()


def payment(channel: str, outcome: str) -> None:
    PAYMENTS.labels(channel=channel, outcome=outcome).inc()


def watch_pool(sync_engine: Any, pool: str) -> None:
    """Count the engine's checked-out connections (pool events) and its size under `pool`."""
    from sqlalchemy import event

    in_use = DB_POOL_IN_USE.labels(pool=pool)
    size = getattr(sync_engine.pool, "size", None)
    if callable(size):
        DB_POOL_SIZE.labels(pool=pool).set(size())

    @event.listens_for(sync_engine, "checkout")
    def _out(*_: Any) -> None:
        in_use.inc()

    @event.listens_for(sync_engine, "checkin")
    def _in(*_: Any) -> None:
        in_use.dec()


def process_ended() -> None:
    """This worker stops: its live gauges leave the sum (multi-process mode only)."""
    if multiprocess():
        from prometheus_client import multiprocess as mp

        mp.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
