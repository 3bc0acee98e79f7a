"""The crash drill (`make chaos`): a real `paybutton serve` (sweeper, callback dispatcher and refund worker on) with
a real merchant server, buyers streaming orders, payments, refunds (with the merchant's audit) and voucher
verifications, and the server killed with SIGKILL at random moments and restarted on the same database. At the
end it waits for everything in flight to settle and counts: callbacks expected (the outbox) against delivered
(the merchant's log), lost and duplicated; orders paid twice; stock conserved; `paybutton check`.

    python -m bench.chaos                                   # SQLite and PostgreSQL, 5 kills each
    python -m bench.chaos --db postgresql --kills 10 --seconds 90 --clients 12 --seed 3 --json /tmp/chaos.json

Exit status 1 when any database lost a callback, paid an order twice, did not conserve stock, had a forged or
broken callback signature or failed `paybutton check`. The last line printed is the JSON report (bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench import chaos_report, dbsetup
from bench.chaos_clients import Api, Auditor, Buyer, Tally
from bench.chaos_late import LatePayer
from bench.chaos_merchant import read_log
from bench.procs import Child, Children, listening_socket, port_of

PG_ADMIN_URL = os.environ.get("PAYBUTTON_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CLI = str(Path(sys.executable).parent / "paybutton")
# (goods id, stock): two plentiful goods, and two that sell out so that GOODS_SOLD_OUT and the stock returned by
# timed-out orders are part of the drill.
GOODS = [("chaos-a", 100000), ("chaos-b", 100000), ("chaos-scarce-1", 40), ("chaos-scarce-2", 15)]
PRICE = 1990


def log(msg: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def child_env(url: str | None = None) -> dict[str, str]:
    """Our environment without PAYBUTTON_* (the drill configures the server itself); bytecode caching stays on
    (with PYTHONDONTWRITEBYTECODE every restart would recompile FastAPI and SQLAlchemy: 10-25 s here)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith("PAYBUTTON_")}
    env["PYTHONUNBUFFERED"] = "1"
    if url:
        env.update({"PAYBUTTON_DATABASE_URL": url, "PAYBUTTON_LOG_LEVEL": "warning"})
    return env


def cli(url: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args, "--database", url], capture_output=True, text=True, timeout=timeout,
                          env=child_env())


def admin_url() -> str:
    u = make_url(PG_ADMIN_URL)
    return u.set(database=u.database or "postgres").render_as_string(hide_password=False)


class Drill:
    """One database: its server (killed and restarted), its merchant, its clients, its report."""

    def __init__(self, kind: str, url: str, args: argparse.Namespace, tmp: Path, children: Children) -> None:
        self.kind = kind
        self.url = url
        self.args = args
        self.tmp = tmp
        self.children = children
        self.rng = random.Random(f"{args.seed}-{kind}")
        # Listening sockets the drill keeps and hands down (--fd): the killed server's restart serves on the same
        # socket, so its port is never lost; connections made while it is down wait in the socket's queue.
        self.sock, self.merchant_sock = listening_socket(), listening_socket()
        self.port, self.merchant_port = port_of(self.sock), port_of(self.merchant_sock)
        self.base = f"http://127.0.0.1:{self.port}"
        self.server: Child | None = None
        self.merchant: Child | None = None
        self.merchant_log = tmp / f"callbacks-{kind}.jsonl"
        self.kills: list[dict[str, Any]] = []
        self.restart_s: list[float] = []
        self.app: dict[str, Any] = {}
        self.up_since = time.monotonic()  # when the server last came up

    # ---------------------------------------------------------------- processes

    def prepare(self) -> None:
        out = cli(self.url, "db", "upgrade")
        if out.returncode != 0:
            raise RuntimeError(f"paybutton db upgrade failed:\n{out.stderr}")
        m = f"http://127.0.0.1:{self.merchant_port}"
        out = cli(self.url, "app", "create", "--name", f"chaos drill ({self.kind})", "--json",
                  "--pre-order-url", f"{m}/pre_create_order", "--payment-notify-url", f"{m}/payment",
                  "--refund-url", f"{m}/refund", "--pay-expire-seconds", str(self.args.pay_expire),
                  "--refund-audit")
        if out.returncode != 0:
            raise RuntimeError(f"paybutton app create failed:\n{out.stderr}")
        self.app = json.loads(out.stdout)
        key_file = self.tmp / f"platform-{self.kind}.pem"
        key_file.write_text(self.app["platform_public_key"])
        self.merchant = self.children.start(
            f"merchant ({self.kind})",
            [sys.executable, "-m", "bench.chaos_merchant", "--fd", str(self.merchant_sock.fileno()),
             "--public-key-file", str(key_file), "--log", str(self.merchant_log)],
            self.tmp / f"merchant-{self.kind}.log", child_env(), (self.merchant_sock,))
        self.start_server()

    def start_server(self) -> float:
        t0 = time.monotonic()
        argv = [CLI, "serve", "--fd", str(self.sock.fileno()), "--no-migrate"]
        self.server = self.children.start(f"paybutton server ({self.kind})", argv,
                                          self.tmp / f"server-{self.kind}.log", child_env(self.url), (self.sock,))
        self.server.wait_http(self.base + "/healthz", timeout=90)
        return time.monotonic() - t0

    def kill9(self) -> None:
        """SIGKILL to the server's process group: no shutdown hook, no flush, no goodbye."""
        server = self.server
        assert server is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.proc.wait(timeout=30)
        self.children.items.remove(server)
        server.log.close()
        self.server = None

    def stop_server(self) -> None:
        if self.server is not None:
            self.children.stop(self.server)
            self.server = None

    # ---------------------------------------------------------------- the run

    async def killer(self, t0: float, tally: Tally) -> None:
        """Every kill, each in its slot of the window or, when restarts ran late (a loaded machine), later: a kill
        waits for the restarted server to have run min_uptime and taken --orders-per-kill orders (state, not time:
        each kill hits a server at work, however slow the machine). The traffic lasts until the last kill's
        server has too, so a drill always makes all its kills (it used to end the window first and make 2 of 3)."""
        n, seconds = self.args.kills, self.args.seconds
        up_since, placed = time.monotonic(), tally.placed
        for k in range(n):
            target = t0 + (k + self.rng.uniform(0.15, 0.95)) * seconds / n
            target = max(target, up_since + self.args.min_uptime)
            await asyncio.sleep(max(0.0, target - time.monotonic()))
            busy_by = time.monotonic() + 60  # buyers that stopped placing (all given up) do not stop the drill
            while tally.placed < placed + self.args.orders_per_kill:
                if time.monotonic() > busy_by:
                    break
                await asyncio.sleep(0.05)
            at = round(time.monotonic() - t0, 2)
            await asyncio.to_thread(self.kill9)
            took = await asyncio.to_thread(self.start_server)
            up_since = self.up_since = time.monotonic()
            placed = tally.placed
            self.kills.append({"at_s": at, "restart_s": round(took, 2)})
            log(f"{self.kind}: kill {k + 1}/{n} at {at:.1f}s; back in {took:.1f}s")

    async def drive(self) -> dict[str, Any]:
        tally = Tally()
        api = Api(self.base, self.app["app_id"], self.app["secret"], tally)
        try:
            await api.login()
            initial = await self.create_goods(api)
            stop_buyers, stop_auditor = asyncio.Event(), asyncio.Event()
            auditor = Auditor(api, random.Random(self.rng.random()))
            verify_cli = [CLI, "verify", "--database", self.url] if not self.args.no_cli_verify else None
            buyers = [Buyer(i, api, [g for g, _ in GOODS], random.Random(self.rng.random()), auditor, verify_cli,
                            stop_buyers) for i in range(self.args.clients)]
            late = [LatePayer(i, api, GOODS[0][0], random.Random(self.rng.random()), stop_buyers)
                    for i in range(self.args.late_payers)]
            t0 = time.monotonic()
            audit_task = asyncio.create_task(auditor.run(stop_auditor))
            buyer_tasks = [asyncio.create_task(b.run()) for b in [*buyers, *late]]
            kill_task = asyncio.create_task(self.killer(t0, tally))
            await asyncio.sleep(self.args.seconds)
            await kill_task  # all the kills, however slow the restarts
            await asyncio.sleep(max(0.0, self.args.min_uptime - (time.monotonic() - self.up_since)))
            await self.await_late(late)
            stop_buyers.set()
            traffic_s = round(time.monotonic() - t0, 1)
            log(f"{self.kind}: {traffic_s}s of traffic done ({tally.placed} orders placed); "
                "letting the buyers finish")
            await asyncio.wait(buyer_tasks, timeout=180)
            drained = await self.drain(auditor)
            stop_auditor.set()
            await asyncio.wait([audit_task], timeout=60)
            return {"tally": tally, "initial": initial, "drain": drained, "traffic_s": traffic_s,
                    "late_payers": dict(sum((p.seen for p in late), Counter()))}
        finally:
            await api.close()

    async def await_late(self, payers: list[LatePayer]) -> None:
        """Traffic goes on until the late payers have made --min-late late payments (each takes the order's
        lifetime, and a kill may cut one), for at most --late-seconds more."""
        deadline = time.monotonic() + self.args.late_seconds
        while payers and sum(p.late for p in payers) < self.args.min_late:
            if time.monotonic() > deadline:
                log(f"{self.kind}: no late payment after {self.args.late_seconds}s more")
                return
            await asyncio.sleep(0.2)

    async def create_goods(self, api: Api) -> dict[str, int]:
        for goods_id, stock in GOODS:
            code, data = await api.openapi("goods/create", {
                "goods_id": goods_id, "name": f"Chaos {goods_id}", "price": PRICE, "stock": stock,
                "photo_url": "https://example.com/chaos.png"}, idem=f"goods-{goods_id}")
            if code != 0:
                raise RuntimeError(f"goods/create {goods_id}: error {code} {data}")
        return dict(GOODS)

    async def drain(self, auditor: Auditor) -> dict[str, Any]:
        """Wait until nothing moves: no callback pending, no refund in flight, no unpaid order, no live payment."""
        deadline = time.monotonic() + self.args.drain_seconds
        t0 = time.monotonic()
        left: dict[str, int] = {}
        shown: dict[str, int] = {}
        while True:
            left, toaudit = await asyncio.to_thread(chaos_report.settled, self.url, self.app["app_id"])
            if left != shown and any(left.values()):
                shown = left
                log(f"{self.kind}: waiting for {', '.join(f'{k} {v}' for k, v in left.items() if v)}")
            for rid in toaudit:
                auditor.add(rid)  # a refund whose apply answer was lost: the merchant audits it all the same
            if not any(left.values()):
                took = round(time.monotonic() - t0, 1)
                log(f"{self.kind}: settled after {took}s")
                return {"settled": True, "seconds": took, "left": left}
            if time.monotonic() > deadline:
                log(f"{self.kind}: NOT settled after {self.args.drain_seconds}s: {left}")
                return {"settled": False, "seconds": round(time.monotonic() - t0, 1), "left": left}
            await asyncio.sleep(1.0)

    def run(self) -> dict[str, Any]:
        log(f"{self.kind}: preparing {self.url.split('@')[-1]}")
        self.prepare()
        log(f"{self.kind}: server on {self.base}, merchant on :{self.merchant_port}; {self.args.clients} buyers, "
            f"{self.args.kills} kills in {self.args.seconds}s")
        driven = asyncio.run(self.drive())
        self.stop_server()
        time.sleep(0.3)  # the merchant writes each receipt before answering; nothing else is on its way
        received = read_log(self.merchant_log)
        if self.merchant is not None:
            self.children.stop(self.merchant)
        self.sock.close()
        self.merchant_sock.close()
        snap = chaos_report.snapshot(self.url, self.app["app_id"])
        check = cli(self.url, "check", timeout=300)
        return self.report(driven, snap, received, check, chaos_report.ledger(self.url, self.app["app_id"]))

    def report(self, driven: dict[str, Any], snap: dict[str, Any], received: list[dict[str, Any]],
               check: subprocess.CompletedProcess[str], books: dict[str, Any]) -> dict[str, Any]:
        tally: Tally = driven["tally"]
        cb = chaos_report.callbacks(snap, received)
        st = chaos_report.stock(snap, driven["initial"])
        twice = chaos_report.paid_twice(snap)
        late = chaos_report.late_payments(snap)
        by_status = snap["orders_by_status"]
        refunds_by_status: dict[str, int] = {}
        for r in snap["refunds"]:
            refunds_by_status[r.status] = refunds_by_status.get(r.status, 0) + 1
        ok = (cb["lost"] == 0 and twice["orders_paid_twice"] == 0 and st["conserved"] and check.returncode == 0
              and cb["bad_signatures"] == 0 and books["ok"] and late["ok"])
        return {
            "database": self.kind, "ok": ok, "seed": self.args.seed, "clients": self.args.clients,
            "traffic_seconds": driven["traffic_s"], "kills": len(self.kills), "kill_log": self.kills,
            "orders": {"placed_seen_by_buyers": tally.placed, "place_unknown": tally.place_unknown,
                       "in_database": sum(by_status.values()), "by_status": by_status},
            "orders_paid": by_status.get("SUCCESS", 0),
            "refunds": {"applied_seen_by_buyers": tally.refunds_applied, "in_database": len(snap["refunds"]),
                        "by_status": refunds_by_status},
            "verifications": {"units_seen_by_clients": tally.verified_units, "by_cli": tally.verified_by_cli,
                              "units_verified_in_database": snap["verified_units"]},
            "callbacks": cb,
            "paid_twice": twice,
            "late_payments": {**late, "late_payers_saw": driven["late_payers"]},
            "stock": st,
            "ledger": books,
            "check": {"exit_code": check.returncode, "output": (check.stdout + check.stderr).strip()[-2000:]},
            "drain": driven["drain"],
            "client_view": tally.as_dict(),
        }


def summary(r: dict[str, Any]) -> str:
    cb = r["callbacks"]
    return (f"chaos {r['database']}: {r['kills']} kills, {r['orders']['in_database']} orders "
            f"({r['orders_paid']} paid), {r['refunds']['in_database']} refunds, "
            f"{r['verifications']['units_verified_in_database']} units verified; callbacks {cb['expected']} expected, "
            f"{cb['delivered']} delivered, {cb['lost']} lost, {cb['duplicated']} duplicated; "
            f"{r['paid_twice']['orders_paid_twice']} paid twice; {r['late_payments']['late']} late payments "
            f"({r['late_payments']['refunded_once']} refunded once); stock "
            f"{'conserved' if r['stock']['conserved'] else 'NOT conserved'}; ledger {r['ledger']['txns']} "
            f"{'OK' if r['ledger']['ok'] else 'BROKEN'}; check exit {r['check']['exit_code']}"
            f" -> {'OK' if r['ok'] else 'FAIL'}")


def run_database(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix=f"pb-chaos-{kind}-"))
    children = Children()
    pg_name = ""
    try:
        if kind == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp / 'chaos.db'}"
        else:
            pg_name, url = dbsetup.create_pg_database(admin_url())  # dropped at the end unless --keep
        result = Drill(kind, url, args, tmp, children).run()
        result["artifacts"] = {"folder": str(tmp), "pg_database": pg_name or None} if args.keep else None
        return result
    finally:
        children.stop_all()
        if pg_name and not args.keep:
            with contextlib.suppress(Exception):
                dbsetup.drop_pg_database(admin_url(), pg_name)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument("--kills", type=int, default=5, help="SIGKILLs per database (default 5)")
    p.add_argument("--seconds", type=float, default=None, help="traffic per database (default 6 s per kill + 10)")
    p.add_argument("--clients", type=int, default=8, help="concurrent buyers (default 8)")
    p.add_argument("--seed", type=int, default=1, help="seeds the kill moments and every client's choices")
    p.add_argument("--json", dest="json_path", default=None, help="also write the JSON report here")
    p.add_argument("--pay-expire", type=int, default=10, help="the app's pay_expire_seconds (default 10)")
    p.add_argument("--drain-seconds", type=float, default=240, help="how long to wait for everything to settle")
    p.add_argument("--min-uptime", type=float, default=1.0, help="seconds a restarted server runs before a kill")
    p.add_argument("--orders-per-kill", type=int, default=3,
                   help="orders a restarted server takes before the next kill (default 3)")
    p.add_argument("--late-payers", type=int, default=1,
                   help="buyers who pay after the order's deadline (the sandbox's scenario late; default 1)")
    p.add_argument("--min-late", type=int, default=1, help="late payments to wait for before the traffic ends")
    p.add_argument("--late-seconds", type=float, default=120,
                   help="how much longer the traffic may last waiting for them (default 120)")
    p.add_argument("--no-cli-verify", action="store_true", help="verify through the OpenAPI only")
    p.add_argument("--keep", action="store_true", help="keep the databases, logs and merchant logs")
    args = p.parse_args(argv)
    if args.seconds is None:
        args.seconds = 6.0 * args.kills + 10
    if args.kills < 0 or args.seconds <= 0 or args.clients < 1:
        p.error("--kills must be >= 0, --seconds > 0, --clients >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = [run_database(kind, args) for kind in kinds]
    report = {"ok": all(r["ok"] for r in results), "databases": {r["database"]: r for r in results}}
    for r in results:
        print(summary(r), flush=True)
    text = json.dumps(report, ensure_ascii=False, default=str)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    print(text, flush=True)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
