"""The order-placing benchmark (`make bench`): for each database, real paybutton servers (1, 2 and 3
`paybutton serve --workers 1` processes on PostgreSQL, the load generator spreading its buyers over them), a
stub merchant that verifies every pre_create_order signature, and a load generator, each in its own process;
scenarios `hot` (every buyer orders the same good), `many` (one of 200 goods at random), an oversell check and
a flash sale (5,000 buyers at once on 500 units), then a paying run (orders paid through the sandbox cashier, some
refunded) whose sandbox bill is reconciled at the end (bench/paying.py: exit 1 when a break is left); on
PostgreSQL, pgbench running the same SQL as the order path gives the ceiling we compare against.

    python -m bench.orders                    # ~6 minutes, both databases
    python -m bench.orders --quick            # ~1 minute smoke run
    python -m bench.orders --db postgresql --seconds 30 --concurrency 128

The last line printed is one JSON object with every figure (see bench/README.md)."""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import dbsetup, flash_sale, paying, pgbench_runner, profile
from bench.procs import Child, Children, CpuSampler, listening_socket, machine_ticks, port_of

FLOORS = {"postgresql_orders_per_s": 500, "sqlite_orders_per_s": 400, "p99_ms": 250}
PG_ADMIN_URL = os.environ.get("PAYBUTTON_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BENCH_ROOT = Path(__file__).resolve().parent


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    busy0, total0 = machine_ticks()
    time.sleep(1.0)
    busy1, total1 = machine_ticks()
    busy = round((busy1 - busy0) / max(1, total1 - total0) * (os.cpu_count() or 1), 2)
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "platform": platform.platform(terse=True), "busy_before_run_cores": busy}


# ---------------------------------------------------------------- the server


@functools.cache
def serve_help() -> str:
    cli = Path(sys.executable).parent / "paybutton"
    if not cli.exists():
        return ""
    try:
        return subprocess.run([str(cli), "serve", "--help"], capture_output=True, text=True, timeout=60,
                              env=child_env()).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def serve_argv(sock: socket.socket, workers: int) -> list[str]:
    """`paybutton serve --fd N --workers W` on the listening socket the bench keeps (a CLI without --fd, as an
    older version's: --port, the socket closed just before), else uvicorn on the app factory."""
    helptext = serve_help()
    listen = ["--fd", str(sock.fileno())] if "--fd" in helptext else ["--host", "127.0.0.1", "--port",
                                                                      str(port_of(sock))]
    if "--workers" in helptext:
        cli = Path(sys.executable).parent / "paybutton"
        argv = [str(cli), "serve", *listen, "--workers", str(workers)]
        return argv + (["--no-migrate"] if "--no-migrate" in helptext else [])
    return [sys.executable, "-m", "uvicorn", "--factory", "paybutton.app:create_app", "--fd", str(sock.fileno()),
            "--workers", str(workers), "--loop", "uvloop", "--http", "httptools",
            "--log-level", "warning", "--no-access-log"]


def child_env() -> dict[str, str]:
    """The environment of the processes we start. Bytecode caching stays on for them (__pycache__ is
    git-ignored): with PYTHONDONTWRITEBYTECODE set, every server start recompiles FastAPI, SQLAlchemy and
    paybutton, which takes 10-25 s on this machine."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def server_env(url: str, args: argparse.Namespace) -> dict[str, str]:
    env = child_env()
    env = {k: v for k, v in env.items() if not k.startswith("PAYBUTTON_")}
    env.update({"PAYBUTTON_DATABASE_URL": url, "PAYBUTTON_LOG_LEVEL": "warning", "PYTHONUNBUFFERED": "1"})
    if args.pool_size:
        env["PAYBUTTON_ORDER_POOL_SIZE"] = str(args.pool_size)
    return env


# ---------------------------------------------------------------- one database


class Run:
    """Everything for one database: its processes, its seeded app, its results."""

    def __init__(self, kind: str, url: str, args: argparse.Namespace, tmp: Path, children: Children) -> None:
        self.kind = kind
        self.url = url
        self.args = args
        self.tmp = tmp
        self.children = children
        self.stub_sock = listening_socket()
        self.stub_port = port_of(self.stub_sock)
        self.sockets: list[socket.socket] = [self.stub_sock]
        self.stub: Child | None = None
        self.servers: list[Child] = []
        self.server_urls: list[str] = []
        self.seeded: dbsetup.Seeded | None = None
        self.spy_n = 0

    def prepare(self) -> None:
        t0 = time.monotonic()
        dbsetup.migrate(self.url)
        a = self.args
        self.seeded = dbsetup.seed(self.url, f"http://127.0.0.1:{self.stub_port}/pre_create_order",
                                   hot_stock=a.hot_stock, many=a.many_goods, many_stock=a.many_stock,
                                   oversell_stock=a.oversell_stock, flash_stock=a.flash_stock)
        log(f"{self.kind}: migrated and seeded app {self.seeded.app_id} "
            f"(1 hot good, {a.many_goods} goods, 1 oversell good, 1 flash-sale good) in {time.monotonic() - t0:.1f}s")

    def add_servers(self, total: int) -> None:
        """Start server processes (`--workers 1` each, own port) until `total` run: N stateless instances on one
        database, as behind a load balancer. The ones already up stay up."""
        new: list[tuple[Child, str]] = []
        for n in range(len(self.servers) + 1, total + 1):
            sock = listening_socket()
            self.sockets.append(sock)
            argv, url = serve_argv(sock, 1), f"http://127.0.0.1:{port_of(sock)}"
            if "--fd" not in argv:
                sock.close()  # an older CLI binds the port itself
            child = self.children.start(f"paybutton server {n} ({self.kind})", argv,
                                        self.tmp / f"server-{self.kind}-{n}.log", server_env(self.url, self.args),
                                        (sock,) if "--fd" in argv else ())
            new.append((child, url))
        for child, url in new:
            child.wait_http(url + "/healthz", timeout=90)
            self.servers.append(child)
            self.server_urls.append(url)
        if self.stub is None:
            pem = self.servers[0].wait_http(self.server_urls[0] + "/api/platform/public_key").text
            key_file = self.tmp / f"platform-{self.kind}.pem"
            key_file.write_text(pem)
            self.stub = self.children.start(
                f"stub merchant ({self.kind})",
                [sys.executable, "-m", "bench.stub_merchant", "--fd", str(self.stub_sock.fileno()),
                 "--public-key-file", str(key_file)],
                self.tmp / f"stub-{self.kind}.log", child_env(), (self.stub_sock,),
            )
            self.stub.wait_http(f"http://127.0.0.1:{self.stub_port}/stats")
        log(f"{self.kind}: {len(self.servers)} server process(es) up")

    def stop_servers(self) -> None:
        while self.servers:
            self.children.stop(self.servers.pop())
        self.server_urls.clear()

    def stub_stats(self) -> dict[str, int]:
        resp = httpx.get(f"http://127.0.0.1:{self.stub_port}/stats", timeout=5, trust_env=False)
        return dict(resp.json())

    def order_path(self) -> dict[str, int] | None:
        """The servers' order-path counters (`GET /healthz` -> "order_path", one process per port), summed;
        None when a server does not report them."""
        total: dict[str, int] = {}
        for url in self.server_urls:
            body = httpx.get(url + "/healthz", timeout=5, trust_env=False).json()
            counters = body.get("order_path") if isinstance(body, dict) else None
            if not isinstance(counters, dict):
                return None
            for k, v in counters.items():
                if isinstance(v, int) and not isinstance(v, bool):
                    total[k] = total.get(k, 0) + v
        return total

    def logs_tail(self, n: int = 15) -> str:
        return "\n".join(f"[{c.name}]\n{c.tail(n)}" for c in self.servers)

    def loadgen(self, goods_ids: list[str], *, concurrency: int, once: bool = False,
                prefix: str = "bench-buyer-", extra: list[str] | None = None) -> dict[str, Any]:
        assert self.seeded is not None and self.servers and self.stub is not None
        a = self.args
        argv = [sys.executable, "-m", "bench.loadgen", "--url", ",".join(self.server_urls),
                "--app-id", self.seeded.app_id, "--secret", self.seeded.secret, "--goods", ",".join(goods_ids),
                "--concurrency", str(concurrency), "--warmup", str(a.warmup), "--seconds", str(a.seconds),
                "--client", a.client, "--open-id-prefix", prefix, *(extra or [])]
        if once:
            argv.append("--once")
        stats0 = self.stub_stats()
        path0 = self.order_path()
        sampler = CpuSampler({"server": [s.pid for s in self.servers], "stub": self.stub.pid})
        t0 = time.monotonic()
        sampler.start()
        # Its stdout (the last line is the JSON result) and stderr go to a log of their own.
        child = self.children.start("load generator", argv, self.tmp / f"loadgen-{time.monotonic_ns()}.log",
                                    child_env())
        spy: Child | None = None
        if a.py_spy and not once:
            self.spy_n += 1
            Path(a.py_spy).mkdir(parents=True, exist_ok=True)
            raw = Path(a.py_spy) / f"{self.kind}-{self.spy_n}-{prefix.rstrip('-')}.txt"
            # The first server process only: with several, each gets its share of the buyers.
            spy = self.children.start("py-spy", profile.argv(self.servers[0].pid, a.warmup + a.seconds, raw),
                                      self.tmp / "py-spy.log")
        rc, cpu_s = child.wait_with_usage(timeout=a.warmup + a.seconds + 120)
        cpu = sampler.stop()
        elapsed = time.monotonic() - t0
        self.children.stop(child)
        lines = [ln for ln in child.log_path.read_text(errors="replace").splitlines() if ln.startswith("{")]
        if rc != 0 or not lines:
            raise RuntimeError(f"load generator failed (exit {rc}):\n{child.tail()}")
        result: dict[str, Any] = json.loads(lines[-1])
        cpu["loadgen"] = round(cpu_s / elapsed, 2)
        cpu["others"] = round(max(0.0, cpu["machine_busy"] - sum(
            cpu[k] for k in ("server", "stub", "loadgen", "postgres"))), 2)
        result["cpu_cores"] = cpu
        if result.get("orders_per_s"):
            # CPU all server processes spent per placed order: steadier than orders/s on a shared machine.
            result["server_cpu_ms_per_order"] = round(cpu["server"] * 1000 / result["orders_per_s"], 2)
        stats1 = self.stub_stats()
        result["stub"] = {k: stats1.get(k, 0) - stats0.get(k, 0) for k in stats1}
        path1 = self.order_path()
        if path0 is not None and path1 is not None:  # includes the warm-up: the batches' average size
            d = {k: path1.get(k, 0) - path0.get(k, 0) for k in path1}
            result["orders_per_take_batch"] = round(d["taken_in_batches"] / d["take_batches"], 2) \
                if d.get("take_batches") else None
            result["accepts_per_batch"] = round(d["accepted_in_batches"] / d["accept_batches"], 2) \
                if d.get("accept_batches") else None
        if result.get("errors"):
            result["server_log_tail"] = self.logs_tail()
        if spy is not None:
            try:
                spy.wait_with_usage(timeout=30)
            except TimeoutError:
                pass
            self.children.stop(spy)
            result["profile"] = profile.summarise(raw) if raw.exists() else "  (py-spy wrote nothing)"
        return result


HEADER = (f"  {'scen.':<6} {'orders/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'srv ms/ord':>10}"
          "   CPU in cores: server, postgres, stub, loadgen, others / machine busy")


def fmt_scenario(name: str, r: dict[str, Any]) -> str:
    errs = ", ".join(f"{k}={v}" for k, v in r["outcomes"].items() if k != "ok")
    c = r["cpu_cores"]
    line = (f"  {name:<6} {r['orders_per_s']:>9.1f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['errors']:>7}"
            f" {r.get('server_cpu_ms_per_order', 0):>10.2f}   {c['server']:.2f}, {c['postgres']:.2f}, "
            f"{c['stub']:.2f}, {c['loadgen']:.2f}, {c['others']:.2f} / {c['machine_busy']:.2f} of {os.cpu_count()}")
    if r.get("orders_per_take_batch"):
        line += f"   batches: {r['orders_per_take_batch']} orders, {r.get('accepts_per_batch')} acceptances"
    return line + (f"   errors: {errs}" if errs else "")


def run_database(kind: str, args: argparse.Namespace, children: Children, tmp: Path) -> dict[str, Any]:
    dbname = None
    if kind == "postgresql":
        dbname, url = dbsetup.create_pg_database(PG_ADMIN_URL)
        log(f"postgresql: created database {dbname}")
        servers_list = args.pg_servers
    else:
        url = f"sqlite:///{tmp / 'bench.db'}"
        servers_list = [args.sqlite_servers]
    run = Run(kind, url, args, tmp, children)
    out: dict[str, Any] = {"by_servers": {}}
    try:
        run.prepare()
        assert run.seeded is not None
        seeded = run.seeded
        for n in servers_list:
            if n < len(run.servers):
                run.stop_servers()
            run.add_servers(n)
            res: dict[str, Any] = {}
            log(f"{kind}: {n} server(s), hot item, {args.concurrency} buyers, {args.warmup}s warm-up + "
                f"{args.seconds}s")
            res["hot"] = run.loadgen([seeded.hot], concurrency=args.concurrency, prefix=f"hot-s{n}-")
            log(f"{kind}: {n} server(s), {args.many_goods} goods at random, {args.concurrency} buyers")
            res["many"] = run.loadgen(seeded.many, concurrency=args.concurrency, prefix=f"many-s{n}-")
            out["by_servers"][str(n)] = res
        # Oversell and flash sale: the last servers (the most) sell the last units to many buyers at once.
        log(f"{kind}: oversell check, stock {args.oversell_stock}, {args.oversell_buyers} buyers at once")
        once = run.loadgen([seeded.oversell], concurrency=args.oversell_buyers, once=True, prefix="oversell-")
        left = dbsetup.read_goods(url, seeded, seeded.oversell)
        want = min(args.oversell_stock, args.oversell_buyers)
        out["oversell"] = {
            "orders": once["orders"], "outcomes": once["outcomes"], "stock_left": left["stock"],
            "live_orders_quantity": left["live_quantity"],
            "ok": once["orders"] == want and left["stock"] == args.oversell_stock - want
            and left["stock"] >= 0 and left["live_quantity"] == want,
        }
        if not args.no_flash:
            out["flash"] = flash_sale.run(run, args, log)
        out["stock_check"] = dbsetup.check_stock(url, seeded, [seeded.hot, *seeded.many])
        if args.pay_orders:  # after the stock check: its refunds give units back
            assert run.stub is not None
            sampler = CpuSampler({"server": [s.pid for s in run.servers], "stub": run.stub.pid})
            out["paying"] = paying.bench_pay(run.server_urls, seeded.app_id, seeded.secret, seeded.many,
                                             args.pay_orders, args.concurrency, log, sampler)
        out["stub_total"] = stub = run.stub_stats()
        run.stop_servers()
        if args.pay_orders:  # the servers are stopped: nothing moves money in this database any more
            out["paying"]["recon"] = paying.bench_reconcile(url, seeded.app_id, out["paying"], log)
        # The best server count by hot orders/s.
        best = max(out["by_servers"], key=lambda n: out["by_servers"][n]["hot"]["orders_per_s"])
        out["servers"] = int(best)
        out["hot"] = out["by_servers"][best]["hot"]
        out["many"] = out["by_servers"][best]["many"]
        out["oversell_ok"] = bool(out["oversell"]["ok"] and out["stock_check"]["ok"]
                                  and stub.get("bad_signatures", 0) == 0
                                  and (args.no_flash or out["flash"]["units_ok"]))
        if kind == "postgresql" and not args.no_pgbench:
            assert dbname is not None
            log(f"postgresql: pgbench on the order path's SQL, clients {args.pgbench_clients}, "
                f"{args.pgbench_seconds}s each")
            out["pgbench"] = pgbench_runner.run(
                dbname, seeded.app_id, seeded.hot, clients=args.pgbench_clients, seconds=args.pgbench_seconds,
                admin_url=PG_ADMIN_URL, log=log,
            )
        return out
    finally:
        run.stop_servers()
        children.stop_all()
        if dbname is not None and not args.keep_db:
            try:
                dbsetup.drop_pg_database(PG_ADMIN_URL, dbname)
                log(f"postgresql: dropped database {dbname}")
            except Exception as e:  # reported, never hidden
                log(f"postgresql: could not drop {dbname}: {e}")


def fig(s: dict[str, Any]) -> dict[str, Any]:
    return {"orders_per_s": s["orders_per_s"], "p50_ms": s["p50_ms"], "p99_ms": s["p99_ms"],
            "errors": s["errors"], "server_cpu_ms_per_order": s.get("server_cpu_ms_per_order"),
            "cpu_cores": s["cpu_cores"], "orders_per_take_batch": s.get("orders_per_take_batch"),
            "accepts_per_batch": s.get("accepts_per_batch")}


def summary(kind: str, r: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"servers": r["servers"], "hot": fig(r["hot"]), "many": fig(r["many"]),
                           "oversell_ok": r["oversell_ok"]}
    if len(r["by_servers"]) > 1:
        out["by_servers"] = {n: {"hot": fig(v["hot"]), "many": fig(v["many"])}
                             for n, v in r["by_servers"].items()}
        out["scaling"] = flash_sale.scaling(r["by_servers"])
    if "flash" in r:
        out["flash_sale"] = flash_sale.summary(r["flash"])
    if "paying" in r:
        out["paying"] = paying.summary(r["paying"])
    if kind == "postgresql" and "pgbench" in r:
        tps = r["pgbench"]["tps"]
        best = max(tps.values()) if tps else 0.0
        out["pgbench_best_tps"] = best
        out["pgbench_tps"] = tps
        out["ratio_to_pgbench"] = round(r["hot"]["orders_per_s"] / best, 3) if best else None
    return out


def print_report(kind: str, r: dict[str, Any]) -> None:
    print()
    print(f"== {kind} ==")
    for n, res in r["by_servers"].items():
        print(f"  server processes: {n}{'   (best)' if int(n) == r['servers'] else ''}")
        print(HEADER)
        print(fmt_scenario("hot", res["hot"]))
        print(fmt_scenario("many", res["many"]))
        for scen in ("hot", "many"):
            if res[scen].get("server_log_tail"):
                print(f"  server log after {scen} (it had errors):")
                print("    " + res[scen]["server_log_tail"].replace("\n", "\n    "))
            if "profile" in res[scen]:
                print(f"  profile of the (first) server, {scen}:")
                print(res[scen]["profile"])
    if len(r["by_servers"]) > 1:
        flash_sale.print_scaling(r["by_servers"])
    o = r["oversell"]
    print(f"  oversell: {o['orders']} orders placed for stock {r['oversell_expected']} by "
          f"{r['oversell_buyers']} buyers; stock left {o['stock_left']}; outcomes {o['outcomes']} -> "
          f"{'ok' if o['ok'] else 'FAIL'}")
    if "flash" in r:
        flash_sale.print_flash(r["flash"])
    s = r["stock_check"]
    print(f"  stock check after hot+many: {s['units_taken']} units taken == units in non-FAIL orders -> "
          f"{'ok' if s['ok'] else 'FAIL ' + json.dumps(s['mismatches'])}")
    if "paying" in r:
        paying.print_paying(r["paying"])
    st = r["stub_total"]
    print(f"  stub merchant: {st.get('good_signatures', 0)} good signatures, "
          f"{st.get('bad_signatures', 0)} bad")
    if "pgbench" in r:
        tps = r["pgbench"]["tps"]
        print("  pgbench (same SQL as the order path, -M prepared): "
              + ", ".join(f"{c} clients {v:.0f} tps" for c, v in tps.items()))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.orders", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a ~1 minute smoke run (short windows, 1 and 3 servers)")
    p.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument("--seconds", type=float, help="measured window per scenario (default 20; quick 3)")
    p.add_argument("--warmup", type=float, help="warm-up per scenario, discarded (default 3; quick 0.5)")
    p.add_argument("--concurrency", type=int, default=64, help="concurrent buyers (default 64)")
    p.add_argument("--pg-servers", help="server process counts to run on PostgreSQL, one after the other "
                   "(default 1,2,3; quick 1,3)")
    p.add_argument("--sqlite-servers", type=int, default=1, help="server processes on SQLite (default 1)")
    p.add_argument("--pool-size", type=int, help="PAYBUTTON_ORDER_POOL_SIZE for the server: the order path's "
                                                                "connections (default: its own)")
    p.add_argument("--client", choices=("auto", "raw", "aiohttp", "httpx"), default="auto")
    p.add_argument("--hot-stock", type=int, default=10**7)
    p.add_argument("--many-goods", type=int, default=200)
    p.add_argument("--many-stock", type=int, default=10**6)
    p.add_argument("--oversell-stock", type=int, default=50)
    p.add_argument("--oversell-buyers", type=int, default=200)
    p.add_argument("--flash-stock", type=int, default=500)
    p.add_argument("--flash-buyers", type=int, default=5000)
    p.add_argument("--flash-connections", type=int, default=512,
                   help="flash sale: requests in flight at most, over all servers (a balancer's pool)")
    p.add_argument("--no-flash", action="store_true", help="skip the flash sale")
    p.add_argument("--pay-orders", type=int, help="paying: orders placed, 4 in 5 paid and some refunded, then the "
                   "day's sandbox bill reconciled; 0 skips it (default 2000; quick 300)")
    p.add_argument("--pgbench-clients", default="1,2,4,16")
    p.add_argument("--pgbench-seconds", type=int, help="per client count (default 10; quick 1)")
    p.add_argument("--no-pgbench", action="store_true")
    p.add_argument("--keep-db", action="store_true", help="keep the PostgreSQL database and the temp folder")
    p.add_argument("--py-spy", metavar="DIR", help="profile the server with py-spy during each scenario")
    p.add_argument("--strict", action="store_true", help="exit 1 when a floor is not met")
    a = p.parse_args(argv)
    a.seconds = a.seconds if a.seconds is not None else (3.0 if a.quick else 20.0)
    a.warmup = a.warmup if a.warmup is not None else (0.5 if a.quick else 3.0)
    a.pay_orders = a.pay_orders if a.pay_orders is not None else (300 if a.quick else 2000)
    a.pgbench_seconds = a.pgbench_seconds if a.pgbench_seconds is not None else (1 if a.quick else 10)
    a.pg_servers = [int(x) for x in (a.pg_servers or ("1,3" if a.quick else "1,2,3")).split(",")]
    a.pgbench_clients = [int(x) for x in a.pgbench_clients.split(",")]
    return a


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    m = machine()
    kinds = ["postgresql", "sqlite"] if args.db == "both" else [args.db]
    if "postgresql" in kinds:
        try:
            m["postgresql"] = dbsetup.pg_settings(PG_ADMIN_URL)
        except Exception as e:
            print(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {e}", file=sys.stderr)
            return 2
    print(f"machine: {m['nproc']} CPUs, {m['cpu']}, Python {m['python']}, {m['platform']}")
    if "postgresql" in m:
        pg = m["postgresql"]
        print(f"postgresql: {pg['version']}, synchronous_commit={pg['synchronous_commit']}, fsync={pg['fsync']}, "
              f"shared_buffers={pg['shared_buffers']}")
    if m["busy_before_run_cores"] > 0.3:
        print(f"WARNING: the machine was already busy before the run ({m['busy_before_run_cores']} of "
              f"{m['nproc']} cores): the figures will be low; 'others' in the CPU columns shows how much.")
    print(f"run: {args.concurrency} buyers, {args.warmup}s warm-up + {args.seconds}s measured per scenario; "
          f"client {args.client}; databases {args.db}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="pb_bench_"))
    children = Children()
    results: dict[str, dict[str, Any]] = {}
    started = time.monotonic()
    try:
        for kind in kinds:
            r = run_database(kind, args, children, tmp)
            r["oversell_expected"] = min(args.oversell_stock, args.oversell_buyers)
            r["oversell_buyers"] = args.oversell_buyers
            results[kind] = r
    finally:
        children.stop_all()
        if not args.keep_db:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f"kept {tmp}")
    for kind, r in results.items():
        print_report(kind, r)
    final: dict[str, Any] = {"machine": m}
    ok = True
    for kind, r in results.items():
        s = summary(kind, r)
        final[kind] = s
        floor = FLOORS[f"{kind}_orders_per_s"]
        for scen in ("hot", "many"):
            f = s[scen]
            ok = ok and f["orders_per_s"] >= floor and f["p99_ms"] <= FLOORS["p99_ms"] and f["errors"] == 0
        ok = ok and s["oversell_ok"]
    final["floors"] = FLOORS
    final["meets_floors"] = ok
    recon_ok = all(r["paying"]["recon"]["ok"] for r in results.values() if "paying" in r)
    final["reconciled_clean"] = recon_ok if args.pay_orders else None
    print()
    print(f"floors: PostgreSQL >= {FLOORS['postgresql_orders_per_s']} orders/s, SQLite >= "
          f"{FLOORS['sqlite_orders_per_s']} orders/s, p99 <= {FLOORS['p99_ms']} ms, no errors, no oversell "
          f"-> {'met' if ok else 'NOT met'}   (whole run {time.monotonic() - started:.0f}s)")
    if not recon_ok:
        print("the reconciliation of the bench's own traffic left a break (see above): exit 1")
    print(json.dumps(final, ensure_ascii=False), flush=True)
    return 1 if (args.strict and not ok) or not recon_ok else 0


if __name__ == "__main__":
    raise SystemExit(main())
