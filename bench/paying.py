"""The paying part of `make bench` and the reconciliation of the bench's own traffic (issue 20).

After the order scenarios, buyers place `orders` orders (2 or 3 units of one of the goods) and pay 4 in 5 of them
through the sandbox cashier the way the cashier page does (pages.js): `POST /api/buyer/v1/orders/{id}/cashier`, then
`POST /api/buyer/v1/orders/{id}/pay` with a channel and the sandbox's `success` scenario. Of the paid orders, 1 in 10
is refunded whole and 1 in 10 by one unit (`POST .../refunds`, as the refund page does), so the bill has both kinds
of lines; the servers' refund workers carry them out and the bench waits until every refund has an end.

Then `reconcile` runs paybutton's daily reconciliation (`paybutton.recon.running.reconcile_app`, what
`paybutton reconcile` runs) on the sandbox's bill for every Beijing day the paying traffic touched (two days when
it crossed 16:00 UTC). Those days have not ended: the bench runs it with a clock set to the end of the last one.
That is honest here only because the database is the bench's own and no money moves in it after the traffic (the
refunds have ended and the servers are stopped), so each day's bill is already final; `paybutton reconcile` and
the server's worker still refuse a day that has not ended. The result must be clean (every run DONE, no long,
short or difference, no break or short left open) and must account for exactly what the buyers did: as many
matched payment lines as orders paid and matched refund lines as refunds that succeeded, for the same sums."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from paybutton.apps import service as app_service
from paybutton.clock import Clock, FakeClock, SystemClock, beijing_day
from paybutton.config import Settings
from paybutton.context import Ctx
from paybutton.db import Database
from paybutton.kernel.outbound import CallbackClient
from paybutton.kernel.signing import Signer
from paybutton.merchant import mint_buyer_token
from paybutton.recon import running, store, views
from paybutton.recon.bill import day_bounds_ms

CHANNELS = ("douyin", "wechat", "alipay", "bankcard")
BUYER = "/api/buyer/v1"


@dataclass
class Tally:
    """What the buyers did and saw, on their side of the counter."""

    placed: list[tuple[int, str]] = field(default_factory=list)  # (buyer n, order id)
    paid: dict[str, int] = field(default_factory=dict)  # order id -> fen the cashier asked
    pay_ms: list[float] = field(default_factory=list)
    refunds: dict[str, str] = field(default_factory=dict)  # refund id -> order id
    refund_kind: Counter[str] = field(default_factory=Counter)
    refunded: dict[str, int] = field(default_factory=dict)  # refund id -> fen, once SUCCESS
    errors: Counter[str] = field(default_factory=Counter)


def _error(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        body = None
    return str(body.get("error")) if isinstance(body, dict) and body.get("error") else f"HTTP_{r.status_code}"


def _pct(xs: Sequence[float], q: float) -> float:
    s = sorted(xs)
    return round(s[min(len(s) - 1, int(q * len(s)))], 1) if s else 0.0


class Buyers:
    """Buyer n talks to server n mod N, like the load generator."""

    def __init__(self, urls: Sequence[str], app_id: str, secret: str, concurrency: int) -> None:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self.clients = [httpx.AsyncClient(base_url=u, timeout=30, trust_env=False, limits=limits) for u in urls]
        self.app_id, self.secret = app_id, secret
        self.gate = asyncio.Semaphore(concurrency)
        self.tally = Tally()

    async def close(self) -> None:
        for c in self.clients:
            await c.aclose()

    async def call(self, n: int, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        auth = {"Authorization": "Bearer " + mint_buyer_token(self.app_id, self.secret, f"bench-payer-{n:05d}")}
        return await self.clients[n % len(self.clients)].request(method, BUYER + path, json=body, headers=auth)

    async def place(self, n: int, goods_id: str) -> None:
        async with self.gate:
            r = await self.call(n, "POST", "/orders", {"goods_id": goods_id, "goods_type": 1, "quantity": 2 + n % 2})
        if r.status_code == 200 and r.json().get("order_id"):
            self.tally.placed.append((n, str(r.json()["order_id"])))
        else:
            self.tally.errors["place:" + _error(r)] += 1

    async def pay(self, n: int, order_id: str) -> None:
        """What the cashier page does: open the cashier (the amount to pay), then pay on a channel. One of the
        `concurrency` buyers at a time; the latency is the two calls' (not the wait for a turn)."""
        async with self.gate:
            t0 = time.perf_counter()
            opened = await self.call(n, "POST", f"/orders/{order_id}/cashier")
            if opened.status_code != 200:
                self.tally.errors["cashier:" + _error(opened)] += 1
                return
            body = {"channel": CHANNELS[n % len(CHANNELS)], "scenario": "success"}
            r = await self.call(n, "POST", f"/orders/{order_id}/pay", body)
            self.tally.pay_ms.append((time.perf_counter() - t0) * 1000)
        if r.status_code == 200 and (r.json().get("result") or {}).get("code") == 0 and not r.json().get("late"):
            self.tally.paid[order_id] = int(opened.json()["amount"])
        else:
            self.tally.errors["pay:" + (_error(r) if r.status_code != 200 else str(r.json().get("outcome")))] += 1

    async def refund(self, n: int, order_id: str, whole: bool) -> None:
        body: dict[str, Any] = {"reason": "bench"} if whole else {"reason": "bench", "quantity": 1}
        async with self.gate:
            r = await self.call(n, "POST", f"/orders/{order_id}/refunds", body)
        if r.status_code == 200 and r.json().get("refund_id"):
            self.tally.refunds[str(r.json()["refund_id"])] = order_id
            self.tally.refund_kind["whole" if whole else "one unit"] += 1
        else:
            self.tally.errors["refund:" + _error(r)] += 1

    async def refunds_ended(self, owner: dict[str, int]) -> bool:
        """Reads every refund not ended yet; True when all have (SUCCESS amounts go to the tally)."""
        left = [(rid, oid) for rid, oid in self.tally.refunds.items() if rid not in self.tally.refunded]
        ended = True
        for rid, oid in left:
            r = await self.call(owner[oid], "GET", f"/orders/{oid}/refunds")
            got = [x for x in (r.json().get("refunds") or []) if x["refund_id"] == rid] if r.status_code == 200 else []
            if got and got[0]["status"] == "SUCCESS":
                self.tally.refunded[rid] = int(got[0]["refund_total_amount"])
            elif got and got[0]["status"] == "FAIL":
                self.tally.errors["refund:FAIL"] += 1
                self.tally.refunded[rid] = 0
            else:
                ended = False
        return ended


async def traffic(urls: Sequence[str], app_id: str, secret: str, goods: Sequence[str], *, orders: int,
                  concurrency: int, refund_wait_s: float = 120.0, sampler: Any = None, clock: Clock | None = None,
                  before_refunds: Callable[[], None] | None = None) -> dict[str, Any]:
    """Place, pay (timed: orders paid per second; `sampler`, a procs.CpuSampler, measures the CPU of that window
    only), refund and wait for the refunds. Epoch ms (`clock`: the servers') of the first payment and of the end come
    back with the figures: the Beijing days to reconcile lie between them. `before_refunds` runs between the
    payments and the refunds (a test moves the server's clock across a Beijing midnight there)."""
    now = (clock or SystemClock()).now_ms
    b = Buyers(urls, app_id, secret, concurrency)
    t = b.tally
    try:
        await asyncio.gather(*(b.place(n, goods[n % len(goods)]) for n in range(orders)))
        owner = {oid: n for n, oid in t.placed}
        to_pay = [(n, oid) for n, oid in sorted(t.placed) if n % 5 != 4]
        started_ms = now()
        if sampler is not None:
            sampler.start()
        t0 = time.perf_counter()
        await asyncio.gather(*(b.pay(n, oid) for n, oid in to_pay))
        pay_s = time.perf_counter() - t0
        cpu = sampler.stop() if sampler is not None else None
        paid = [(owner[oid], oid) for _, oid in to_pay if oid in t.paid]
        if before_refunds is not None:
            before_refunds()
        t1 = time.perf_counter()
        await asyncio.gather(*(b.refund(n, oid, whole=k % 10 == 3) for k, (n, oid) in enumerate(paid)
                               if k % 10 in (3, 7)))
        while True:  # the servers' refund workers carry the refunds out: read them until each has ended
            if await b.refunds_ended(owner) or time.perf_counter() - t1 > refund_wait_s:
                break
            await asyncio.sleep(0.25)
        refunds_s = time.perf_counter() - t1
    finally:
        await b.close()
    left = len(t.refunds) - len(t.refunded)
    if left:
        t.errors["refund:not ended"] += left
    return {"orders": orders, "placed": len(t.placed), "paid": len(t.paid), "paid_fen": sum(t.paid.values()),
            "paid_per_s": round(len(t.paid) / pay_s, 1) if pay_s else 0.0, "pay_p50_ms": _pct(t.pay_ms, 0.5),
            "pay_p99_ms": _pct(t.pay_ms, 0.99), "refunds": dict(t.refund_kind),
            "refunds_succeeded": sum(1 for v in t.refunded.values() if v), "refunded_fen": sum(t.refunded.values()),
            "refunds_ended_after_s": round(refunds_s, 2), "errors": dict(t.errors), "started_ms": started_ms,
            "ended_ms": now(), "cpu_cores": cpu, "server_cpu_ms_per_paid":
            round(cpu["server"] * pay_s * 1000 / len(t.paid), 2) if cpu and t.paid else None}


def traffic_days(started_ms: int, ended_ms: int) -> list[date]:
    """The Beijing days from the one of `started_ms` to the one of `ended_ms`."""
    first, last = date.fromisoformat(beijing_day(started_ms)), date.fromisoformat(beijing_day(ended_ms))
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


async def _ctx_at(db: Database, settings: Settings, at_ms: int) -> Ctx:
    clock = FakeClock(at_ms)
    async with db.tx() as conn:
        private_pem, _ = await app_service.ensure_platform_key(conn, clock)
    return Ctx(settings=settings, db=db, clock=clock, signer=Signer(private_pem), http=CallbackClient())


async def _by_kind(conn: Any, rep: dict[str, Any], app_id: str, day: str) -> dict[str, list[int]]:
    """Matched lines of the day's runs per kind: [count, fen]."""
    out = {"pay": [0, 0], "refund": [0, 0]}
    for r in rep["runs"]:
        run = await store.run_row(conn, app_id, r["channel"], day)
        if run is None:
            continue
        for ln in await store.lines_of(conn, run.run_id, exclude_matched=False):
            if ln.klass == "matched":
                out[ln.kind][0] += 1
                out[ln.kind][1] += ln.channel_amount or 0
    return out


async def reconcile(url: str, app_id: str, days: Sequence[date]) -> list[dict[str, Any]]:
    """paybutton's reconciliation of each day, on a clock at the end of the last day (see the module's text);
    each day's report as `paybutton reconcile --json` gives it, with `matched_by_kind` added."""
    settings = Settings(database_url=url)
    db = Database(settings)
    ctx = await _ctx_at(db, settings, day_bounds_ms(max(days))[1])
    out = []
    try:
        for day in sorted(days):
            await running.reconcile_app(ctx, app_id, day)
            async with db.engine.connect() as conn:
                rep = await views.day_report(conn, app_id, day.isoformat())
                rep["matched_by_kind"] = await _by_kind(conn, rep, app_id, day.isoformat())
            out.append(rep)
    finally:
        await ctx.http.aclose()
        await db.dispose()
    return out


def verdict(reports: Sequence[dict[str, Any]], did: dict[str, Any]) -> list[str]:
    """What is wrong with the reconciliation of the bench's traffic; [] when it is clean and accounts for exactly
    what the buyers paid and were refunded."""
    bad: list[str] = []
    if not did["paid"]:
        bad.append("no order was paid: there was nothing to reconcile")
    if did["errors"].get("refund:not ended"):
        bad.append(f"{did['errors']['refund:not ended']} refund(s) had not ended when the bench reconciled")
    for rep in reports:
        for r in rep["runs"]:
            if r["state"] != "DONE":
                bad.append(f"{rep['date']} {r['channel']}: not reconciled ({r['problem']}: {r['message']})")
            for k in ("long", "short", "diff"):
                if r["counts"][k]:
                    bad.append(f"{rep['date']} {r['channel']}: {r['counts'][k]} {k}")
        if rep["open_breaks"] or rep["pending"]:
            bad.append(f"{rep['date']}: {len(rep['open_breaks'])} break(s), {rep['pending']} short(s) open")
        if not rep["runs"]:
            bad.append(f"{rep['date']}: no channel was reconciled")
    pays = [sum(rep["matched_by_kind"]["pay"][i] for rep in reports) for i in (0, 1)]
    refunds = [sum(rep["matched_by_kind"]["refund"][i] for rep in reports) for i in (0, 1)]
    if pays != [did["paid"], did["paid_fen"]]:
        bad.append(f"matched payments {pays[0]} for {pays[1]} fen; the buyers paid {did['paid']} orders "
                   f"for {did['paid_fen']} fen")
    if refunds != [did["refunds_succeeded"], did["refunded_fen"]]:
        bad.append(f"matched refunds {refunds[0]} for {refunds[1]} fen; the buyers got {did['refunds_succeeded']} "
                   f"refunds for {did['refunded_fen']} fen")
    return bad


# ---------------------------------------------------------------- in `make bench` (bench/orders.py)


def bench_pay(urls: Sequence[str], app_id: str, secret: str, goods: Sequence[str], orders: int, concurrency: int,
              log: Any, sampler: Any) -> dict[str, Any]:
    log(f"paying: {orders} orders placed, 4 in 5 paid through the sandbox cashier, 1 in 10 of those refunded whole "
        f"and 1 in 10 by one unit, {concurrency} buyers")
    return asyncio.run(traffic(urls, app_id, secret, goods, orders=orders, concurrency=concurrency, sampler=sampler))


def bench_reconcile(url: str, app_id: str, did: dict[str, Any], log: Any) -> dict[str, Any]:
    days = traffic_days(did["started_ms"], did["ended_ms"])
    log(f"reconciling the sandbox's bill of {', '.join(d.isoformat() for d in days)} (Beijing), on a clock at the "
        "end of that day (the bench's own database: no money moves after its traffic)")
    reports = asyncio.run(reconcile(url, app_id, days))
    problems = verdict(reports, did)
    return {"days": [d.isoformat() for d in days], "reports": reports, "problems": problems, "ok": not problems}


def summary(p: dict[str, Any]) -> dict[str, Any]:
    """The paying figures and the reconciliation's totals, for the last JSON line."""
    runs = [r for rep in p["recon"]["reports"] for r in rep["runs"]]
    keys = ("placed", "paid", "paid_fen", "paid_per_s", "pay_p50_ms", "pay_p99_ms", "server_cpu_ms_per_paid",
            "cpu_cores", "refunds", "refunds_succeeded", "refunded_fen", "refunds_ended_after_s", "errors")
    return {**{k: p[k] for k in keys}, "reconciled": {
        "days": p["recon"]["days"], "ok": p["recon"]["ok"], "problems": p["recon"]["problems"],
        "bill_lines": sum(r["bill_lines"] or 0 for r in runs),
        "counts": {k: sum(r["counts"][k] for r in runs) for k in views.CLASSES},
        "amounts": {k: sum(r["amounts"][k] for r in runs) for k in views.CLASSES},
        "matched_by_kind": {k: [sum(rep["matched_by_kind"][k][i] for rep in p["recon"]["reports"]) for i in (0, 1)]
                            for k in ("pay", "refund")}}}


def print_paying(p: dict[str, Any]) -> None:
    from paybutton.cli.recon import human  # what `paybutton reconcile` prints

    errs = ", ".join(f"{k}={v}" for k, v in p["errors"].items())
    c = p["cpu_cores"] or {}
    cpu = (f", srv ms/paid {p['server_cpu_ms_per_paid']}, CPU in cores: server {c.get('server')}, postgres "
           f"{c.get('postgres')}, machine busy {c.get('machine_busy')}") if c else ""
    print(f"  paying: {p['paid']} of {p['placed']} orders paid through the sandbox cashier, {p['paid_per_s']:.1f} "
          f"orders paid/s, p50 {p['pay_p50_ms']:.1f} ms, p99 {p['pay_p99_ms']:.1f} ms (cashier + pay){cpu}")
    print(f"  refunds {p['refunds']}: {p['refunds_succeeded']} succeeded, all ended after "
          f"{p['refunds_ended_after_s']} s" + (f"; errors: {errs}" if errs else ""))
    for rep in p["recon"]["reports"]:
        print("  " + human(rep).replace("\n", "\n  "))
    problems = p["recon"]["problems"]
    print("  reconciliation of the bench's traffic: " + ("clean" if not problems else "FAILED: " + "; ".join(problems)))
