"""What GET /metrics answers: this process's series (or every worker's, added up from PROMETHEUS_MULTIPROC_DIR),
then the gauges read from the database now. Those queries are cheap: each reads an index on a few rows that are
still open (pending and dead callbacks: ix_outbox_due; live payment attempts: ix_payments_next_check_at; refunds
not done: ix_refunds_stage), never the finished history."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.payment_state import LIVE_PAYMENT_STATES
from paybutton.tables import outbox, payments, refunds
from paybutton.telemetry import metrics

# refund/rules.Stage, the open ones (the base layer cannot import the refund domain; tests check they agree).
OPEN_REFUND_STAGES = ("PRE_REFUND", "AUDIT", "READY", "CASHIER")


class _Fixed(Collector):
    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self.families = families

    def collect(self) -> Iterator[GaugeMetricFamily]:
        return iter(self.families)


async def _counts(conn: AsyncConnection, stmt: object) -> dict[str, int]:
    return {str(k): int(n) for k, n in (await conn.execute(stmt)).all()}  # type: ignore[call-overload]


async def database_gauges(conn: AsyncConnection, now_ms: int) -> list[GaugeMetricFamily]:
    cb = await _counts(conn, select(outbox.c.status, func.count()).where(outbox.c.status.in_(("PENDING", "DEAD")))
                       .group_by(outbox.c.status))
    live = (payments.c.next_check_at.is_not(None), payments.c.state.in_([s.value for s in LIVE_PAYMENT_STATES]))
    due_now, waiting = (await conn.execute(select(func.count().filter(payments.c.next_check_at <= now_ms),
                                                  func.count()).where(*live))).one()
    open_refunds = await _counts(conn, select(refunds.c.stage, func.count())
                                 .where(refunds.c.stage.in_(OPEN_REFUND_STAGES)).group_by(refunds.c.stage))
    pending = GaugeMetricFamily("paybutton_callbacks_pending", "Callbacks waiting to be delivered (the database)")
    pending.add_metric([], cb.get("PENDING", 0))
    dead = GaugeMetricFamily("paybutton_callbacks_dead", "Callbacks that gave up (dead letters; the database)")
    dead.add_metric([], cb.get("DEAD", 0))
    attempts = GaugeMetricFamily("paybutton_payment_attempts_waiting", "Live payment attempts waiting for the "
                                 "reconciler, due now or later (the database)", labels=["due"])
    attempts.add_metric(["now"], due_now)
    attempts.add_metric(["later"], waiting - due_now)
    refund_gauge = GaugeMetricFamily("paybutton_refunds_open", "Refunds not finished, by stage (the database)",
                                     labels=["stage"])
    for stage in OPEN_REFUND_STAGES:
        refund_gauge.add_metric([stage], open_refunds.get(stage, 0))
    return [pending, dead, attempts, refund_gauge]


def _process_series() -> bytes:
    if metrics.multiprocess():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def render(families: Iterable[GaugeMetricFamily]) -> bytes:
    """The exposition text: the processes' series, then the database's gauges."""
    db = CollectorRegistry(auto_describe=False)
    db.register(_Fixed(list(families)))
    return _process_series() + generate_latest(db)
