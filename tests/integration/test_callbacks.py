"""The callback outbox and dispatcher against a real merchant server on a port, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from merchant_stub import MerchantStub, Received, independent_verify, ok, refuse
from sqlalchemy import func, select
from starlette.responses import Response

from paybutton.app import create_app
from paybutton.callbacks.dispatcher import dispatch_due, run_dispatcher
from paybutton.callbacks.outbox import enqueue, get_callback, list_callbacks, replay
from paybutton.callbacks.schedules import SCHEDULES
from paybutton.clock import FakeClock
from paybutton.config import Settings
from paybutton.context import Ctx
from paybutton.tables import callback_attempts, outbox

APP = "tt0123456789abcdef"
PAYMENT_MSG = {"app_id": APP, "order_id": "ot2601010000001", "status": "SUCCESS", "total_amount": 990,
               "cp_extra": "备注 ✓", "event_time": 1_767_225_600_000}


@contextlib.asynccontextmanager
async def started(db_url: str, **settings: Any) -> AsyncIterator[Ctx]:
    """paybutton's context on `db_url`, workers off, on a fake clock at the real time."""
    app = create_app(Settings(database_url=db_url, run_workers=False, **settings))
    async with app.router.lifespan_context(app):
        ctx: Ctx = app.state.ctx
        ctx.clock = FakeClock(start_ms=int(time.time() * 1000))
        yield ctx


@pytest.fixture
async def ctx(db_url: str) -> AsyncIterator[Ctx]:
    async with started(db_url, callback_timeout_seconds=0.3) as c:
        yield c


def merchant(ctx: Ctx, live_factory: Any) -> tuple[MerchantStub, str]:
    stub = MerchantStub(public_pem=ctx.signer.public_pem)
    return stub, live_factory(stub.asgi()).url + "/notify"


async def put(ctx: Ctx, url: str | None, kind: str = "payment", msg: dict[str, Any] | None = None,
              **kw: Any) -> int:
    async with ctx.db.tx() as conn:
        return await enqueue(conn, ctx.clock, app_id=APP, kind=kind, url=url, msg=msg or PAYMENT_MSG, **kw)


async def row(ctx: Ctx, oid: int) -> Any:
    async with ctx.db.engine.connect() as conn:
        return (await conn.execute(select(outbox).where(outbox.c.id == oid))).one()


def clock(ctx: Ctx) -> FakeClock:
    assert isinstance(ctx.clock, FakeClock)
    return ctx.clock


async def test_payment_notify_delivered_once_and_signed_over_raw_body(ctx: Ctx, live_factory: Any) -> None:
    stub, url = merchant(ctx, live_factory)
    stub.answers["payment"] = lambda rec: ok({"ack": "收到"})
    oid = await put(ctx, url, order_id=PAYMENT_MSG["order_id"])
    assert await dispatch_due(ctx, worker_id="w1") == 1
    assert await dispatch_due(ctx, worker_id="w1") == 0
    [rec] = stub.received
    stored = await row(ctx, oid)
    assert rec.raw == stored.body.encode()
    assert rec.signature_ok
    assert independent_verify(ctx.signer.public_pem, rec.headers, rec.raw)
    assert not independent_verify(ctx.signer.public_pem, rec.headers, rec.raw.replace(b"990", b"991"))
    for h in ("byte-identifyname", "byte-logid", "byte-nonce-str", "byte-timestamp", "byte-signature"):
        assert rec.headers[h]
    assert rec.headers["byte-identifyname"] == "/order/payment_notify_url"
    assert rec.headers["byte-timestamp"] == str(ctx.clock.now_ms() // 1000)
    assert set(rec.body) == {"version", "type", "msg"}
    assert (rec.body["version"], rec.body["type"]) == ("2.0", "payment")
    assert isinstance(rec.body["msg"], str)
    assert json.loads(rec.body["msg"]) == PAYMENT_MSG
    assert (stored.status, stored.attempts, stored.locked_by) == ("DONE", 1, None)
    assert json.loads(stored.answer_data) == {"ack": "收到"}
    async with ctx.db.engine.connect() as conn:
        detail = await get_callback(conn, APP, oid)
        assert await get_callback(conn, "ttother", oid) is None
    assert detail is not None
    [attempt] = detail["attempt_log"]
    assert (attempt["attempt"], attempt["http_status"], attempt["ok"]) == (1, 200, True)
    assert attempt["logid"] == rec.headers["byte-logid"]
    assert '"err_no":0' in attempt["answer_head"].replace(" ", "")


def misbehaving(stub: MerchantStub) -> None:
    """Refuse with err_no 1, then HTTP 500, then time out, then answer garbage, then refuse forever."""

    async def answer(rec: Received) -> Response:
        n = len(stub.of_type("payment"))
        if n == 2:
            return Response("boom", status_code=500)
        if n == 3:  # far past the 0.3-s timeout (1 s was too near for a loaded machine: the answer must lose)
            await asyncio.sleep(3.0)
            return ok()
        if n == 4:
            return Response("<html>not json</html>", media_type="text/html")
        return refuse(1, "not now")

    stub.answers["payment"] = answer


async def test_payment_retry_schedule_dead_then_replayed(ctx: Ctx, live_factory: Any) -> None:
    stub, url = merchant(ctx, live_factory)
    misbehaving(stub)
    oid = await put(ctx, url)
    steps = SCHEDULES["payment"]
    for k in range(1, 22):
        assert await dispatch_due(ctx, worker_id="w1") == 1
        r = await row(ctx, oid)
        assert r.attempts == k
        if k == 21:
            assert r.status == "DEAD"
            break
        assert r.status == "PENDING"
        assert r.next_attempt_at - ctx.clock.now_ms() == steps[k - 1] * 1000
        clock(ctx).set(r.next_attempt_at - 1)
        assert await dispatch_due(ctx, worker_id="w1") == 0, "sent before its time"
        clock(ctx).set(r.next_attempt_at)
    assert len(stub.received) == 21
    assert all(rec.signature_ok and rec.raw == stub.received[0].raw for rec in stub.received)
    assert len({rec.headers["byte-nonce-str"] for rec in stub.received}) == 21
    async with ctx.db.engine.connect() as conn:
        log = (await get_callback(conn, APP, oid) or {})["attempt_log"]
    assert [a["attempt"] for a in log] == list(range(1, 22))
    assert log[0]["error"].startswith("err_no 1") and log[0]["http_status"] == 200
    assert log[1]["http_status"] == 500 and log[1]["answer_head"] == "boom"
    assert log[2]["http_status"] is None and log[2]["error"].startswith("timeout")
    assert log[3]["error"] == "answer is not JSON"
    assert not any(a["ok"] for a in log)
    clock(ctx).advance(10 * 86400)
    assert await dispatch_due(ctx, worker_id="w1") == 0
    async with ctx.db.tx() as conn:
        assert await replay(conn, ctx.clock, APP, oid)
    r = await row(ctx, oid)
    assert (r.status, r.attempts, r.next_attempt_at) == ("PENDING", 0, ctx.clock.now_ms())
    stub.answers["payment"] = lambda rec: ok({"seen": True})
    assert await dispatch_due(ctx, worker_id="w2") == 1
    r = await row(ctx, oid)
    assert (r.status, r.attempts, json.loads(r.answer_data)) == ("DONE", 1, {"seen": True})
    async with ctx.db.tx() as conn:
        assert not await replay(conn, ctx.clock, "ttother", oid)


@pytest.mark.parametrize("kind", ["refund", "pre_create_refund", "test"])
async def test_schedule_steps_exact(ctx: Ctx, live_factory: Any, kind: str) -> None:
    stub, url = merchant(ctx, live_factory)
    stub.answers[kind] = lambda rec: refuse(2, "busy")
    oid = await put(ctx, url, kind=kind, msg={"refund_id": "rf1"}, refund_id="rf1")
    seen: list[int] = []
    while True:
        assert await dispatch_due(ctx, worker_id="w1") == 1
        r = await row(ctx, oid)
        if r.status == "DEAD":
            break
        seen.append((r.next_attempt_at - ctx.clock.now_ms()) // 1000)
        clock(ctx).set(r.next_attempt_at - 1)
        assert await dispatch_due(ctx, worker_id="w1") == 0
        clock(ctx).set(r.next_attempt_at)
    assert tuple(seen) == SCHEDULES[kind]
    assert r.attempts == len(SCHEDULES[kind]) + 1 == len(stub.of_type(kind))


async def test_two_dispatchers_deliver_each_row_exactly_once(db_url: str, live_factory: Any) -> None:
    async with started(db_url) as a, started(db_url) as b:
        clock(b).set(clock(a).now_ms())
        stub, url = merchant(a, live_factory)
        for start in range(0, 200, 50):
            async with a.db.tx() as conn:
                for n in range(start, start + 50):
                    await enqueue(conn, a.clock, app_id=APP, kind="payment", url=url, msg={"n": n})

        async def slow_ok(rec: Any) -> Any:
            await asyncio.sleep(0.02)  # each batch waits on the merchant, so the other dispatcher claims meanwhile
            return ok()

        stub.answers["payment"] = slow_ok

        async def drain(c: Ctx, worker: str) -> int:
            total = 0
            while (got := await dispatch_due(c, worker_id=worker, limit=8)) > 0:
                assert got <= 8  # a claim never leases more than its limit
                total += got
                await asyncio.sleep(0)
            return total

        done_a, done_b = await asyncio.gather(drain(a, "A"), drain(b, "B"))
        assert done_a + done_b == 200
        assert done_a > 0 and done_b > 0
        counts = Counter(rec.msg["n"] for rec in stub.received)
        assert counts == Counter(range(200))
        assert all(rec.signature_ok for rec in stub.received)
        async with a.db.engine.connect() as conn:
            grouped = select(outbox.c.status, func.count()).group_by(outbox.c.status)
            by_status = dict((await conn.execute(grouped)).all())
            tries = await conn.scalar(select(func.count()).select_from(callback_attempts))
        assert by_status == {"DONE": 200}
        assert tries == 200


async def test_rolled_back_business_transaction_leaves_no_outbox_row(ctx: Ctx, live_factory: Any) -> None:
    stub, url = merchant(ctx, live_factory)

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with ctx.db.tx() as conn:
            await enqueue(conn, ctx.clock, app_id=APP, kind="payment", url=url, msg=PAYMENT_MSG)
            raise Boom
    async with ctx.db.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(outbox)) == 0
    assert await dispatch_due(ctx, worker_id="w1") == 0
    assert stub.received == []


async def test_no_url_rows_are_logged_but_never_sent(ctx: Ctx, live_factory: Any) -> None:
    stub, url = merchant(ctx, live_factory)
    none_id = await put(ctx, None)
    empty_id = await put(ctx, "")
    sent_id = await put(ctx, url, msg={"n": 1})
    for _ in range(3):
        await dispatch_due(ctx, worker_id="w1")
        clock(ctx).advance(86400)
    assert [rec.msg for rec in stub.received] == [{"n": 1}]
    assert (await row(ctx, none_id)).status == (await row(ctx, empty_id)).status == "NO_URL"
    assert (await row(ctx, sent_id)).status == "DONE"
    async with ctx.db.engine.connect() as conn:
        page = await list_callbacks(conn, APP, status="NO_URL")
        assert [i["id"] for i in page.items] == [empty_id, none_id]
        first = await list_callbacks(conn, APP, limit=2)
        second = await list_callbacks(conn, APP, limit=2, cursor=first.next_cursor)
        assert [i["id"] for i in first.items + second.items] == [sent_id, empty_id, none_id]
        assert second.next_cursor is None
        assert (await list_callbacks(conn, "ttother")).items == []
    async with ctx.db.tx() as conn:
        assert not await replay(conn, ctx.clock, APP, none_id)


@dataclasses.dataclass
class FlakyDb:
    """The real database, except that the first transaction fails (a DB hiccup)."""

    real: Any
    failures: int = 1

    @property
    def is_sqlite(self) -> bool:
        return bool(self.real.is_sqlite)

    @property
    def engine(self) -> Any:
        return self.real.engine

    @contextlib.asynccontextmanager
    async def tx(self) -> AsyncIterator[Any]:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database went away")
        async with self.real.tx() as conn:
            yield conn


async def test_run_dispatcher_survives_errors_and_stops(ctx: Ctx, live_factory: Any) -> None:
    stub, url = merchant(ctx, live_factory)
    oid = await put(ctx, url)
    flaky = dataclasses.replace(ctx, db=FlakyDb(ctx.db), settings=ctx.settings.model_copy(
        update={"dispatch_interval_seconds": 0.05}))
    stop = asyncio.Event()
    loop = asyncio.create_task(run_dispatcher(flaky, worker_id="loop", stop=stop))
    for _ in range(200):
        if (await row(ctx, oid)).status == "DONE":
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(loop, timeout=2)
    assert (await row(ctx, oid)).status == "DONE"
    assert flaky.db.failures == 0
    assert len(stub.received) == 1


async def test_a_fixed_url_reaches_queued_callbacks_and_replays(ctx: Ctx, live_factory: Any) -> None:
    """Issue 18 item 8: a callback is sent to the app's URL as it is at each attempt (a queued one reaches the fixed
    URL; the log keeps each attempt's URL), a replayed dead letter goes to the current URL, and a replay's
    attempts are numbered on from the earlier ones."""
    from paybutton.apps import service as app_service

    stub, good = merchant(ctx, live_factory)
    stub.answers["payment"] = lambda rec: ok({}) if rec.path == "/notify" else Response(status_code=404)
    wrong = good.replace("/notify", "/wrong")  # answers 404
    async with ctx.db.tx() as conn:
        app = await app_service.create_app(conn, ctx.clock, name="Fixer", payment_notify_url=wrong)
    app_id = app["app_id"]

    async def queue(schedule: str) -> int:
        async with ctx.db.tx() as conn:
            return await enqueue(conn, ctx.clock, app_id=app_id, kind="payment", url=wrong,
                                 msg={**PAYMENT_MSG, "app_id": app_id}, schedule=schedule)

    async def attempts(oid: int) -> list[tuple[int, str]]:
        async with ctx.db.engine.connect() as conn:
            cb = await get_callback(conn, app_id, oid)
        assert cb is not None
        return [(a["attempt"], a["url"]) for a in cb["attempt_log"]]

    async def set_url(url: str) -> None:
        async with ctx.db.tx() as conn:
            await app_service.update_app(conn, ctx.clock, app_id, payment_notify_url=url)

    queued, dead = await queue("payment"), await queue("test")  # "test": one attempt, then a dead letter
    assert await dispatch_due(ctx, worker_id="w") == 2
    assert (await row(ctx, dead)).status == "DEAD" and (await row(ctx, queued)).status == "PENDING"
    await set_url(good)  # the merchant fixes the URL
    clock(ctx).advance(3)
    assert await dispatch_due(ctx, worker_id="w") == 1
    assert (await row(ctx, queued)).status == "DONE" and (await row(ctx, queued)).url == good
    assert await attempts(queued) == [(1, wrong), (2, good)]
    async with ctx.db.tx() as conn:
        assert await replay(conn, ctx.clock, app_id, dead)
    assert await dispatch_due(ctx, worker_id="w") == 1
    assert (await row(ctx, dead)).status == "DONE"
    assert await attempts(dead) == [(1, wrong), (2, good)]  # numbered on, to the URL as it is now
    assert len([r for r in stub.received if r.path.endswith("/notify")]) == 2
