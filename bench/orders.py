"""The order-placing benchmark (`make bench`): for each database, a real paybutton server, a stub merchant
that verifies every pre_create_order signature, and a load generator, each in its own process; scenarios
`hot` (every buyer orders the same good), `many` (one of 200 goods at random) and an oversell check; on
PostgreSQL, pgbench running the same SQL as the order path gives the ceiling we compare against.

    python -m bench.orders                    # ~4 minutes, both databases
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
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import dbsetup, pgbench_runner, profile
from bench.procs import Child, Children, CpuSampler, free_port, machine_ticks, wait_http

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


def serve_argv(port: int, workers: int) -> list[str]:
    """`paybutton serve --workers N` when the CLI has it, else uvicorn on the app factory."""
    helptext = serve_help()
    if "--workers" in helptext:
        cli = Path(sys.executable).parent / "paybutton"
        argv = [str(cli), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        return argv + (["--no-migrate"] if "--no-migrate" in helptext else [])
    return [sys.executable, "-m", "uvicorn", "--factory", "paybutton.app:create_app", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--loop", "uvloop", "--http", "httptools",
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
        env["PAYBUTTON_DB_POOL_SIZE"] = str(args.pool_size)
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
        self.stub_port = free_port()
        self.stub: Child | None = None
        self.server: Child | None = None
        self.server_url = ""
        self.seeded: dbsetup.Seeded | None = None
        self.spy_n = 0

    def prepare(self) -> None:
        t0 = time.monotonic()
        dbsetup.migrate(self.url)
        a = self.args
        self.seeded = dbsetup.seed(self.url, f"http://127.0.0.1:{self.stub_port}/pre_create_order",
                                   hot_stock=a.hot_stock, many=a.many_goods, many_stock=a.many_stock,
                                   oversell_stock=a.oversell_stock)
        log(f"{self.kind}: migrated and seeded app {self.seeded.app_id} "
            f"(1 hot good, {a.many_goods} goods, 1 oversell good) in {time.monotonic() - t0:.1f}s")

    def start_server(self, workers: int) -> None:
        port = free_port()
        argv = serve_argv(port, workers)
        self.server = self.children.start(f"paybutton server ({self.kind}, {workers} workers)", argv,
                                          self.tmp / f"server-{self.kind}-{workers}.log",
                                          server_env(self.url, self.args))
        self.server_url = f"http://127.0.0.1:{port}"
        wait_http(self.server_url + "/healthz", self.server, timeout=60)
        pem = wait_http(self.server_url + "/api/platform/public_key", self.server).text
        if self.stub is None:
            key_file = self.tmp / f"platform-{self.kind}.pem"
            key_file.write_text(pem)
            self.stub = self.children.start(
                f"stub merchant ({self.kind})",
                [sys.executable, "-m", "bench.stub_merchant", "--port", str(self.stub_port),
                 "--public-key-file", str(key_file)],
                self.tmp / f"stub-{self.kind}.log", child_env(),
            )
            wait_http(f"http://127.0.0.1:{self.stub_port}/stats", self.stub)
        log(f"{self.kind}: server up with {workers} worker(s): {' '.join(argv[:4])} ...")

    def stop_server(self) -> None:
        if self.server is not None:
            self.children.stop(self.server)
            self.server = None

    def stub_stats(self) -> dict[str, int]:
        resp = httpx.get(f"http://127.0.0.1:{self.stub_port}/stats", timeout=5, trust_env=False)
        return dict(resp.json())

    def loadgen(self, goods_ids: list[str], *, concurrency: int, once: bool = False,
                prefix: str = "bench-buyer-") -> dict[str, Any]:
        assert self.seeded is not None and self.server is not None and self.stub is not None
        a = self.args
        argv = [sys.executable, "-m", "bench.loadgen", "--url", self.server_url,
                "--app-id", self.seeded.app_id, "--secret", self.seeded.secret, "--goods", ",".join(goods_ids),
                "--concurrency", str(concurrency), "--warmup", str(a.warmup), "--seconds", str(a.seconds),
                "--client", a.client, "--open-id-prefix", prefix]
        if once:
            argv.append("--once")
        stats0 = self.stub_stats()
        sampler = CpuSampler({"server": self.server.pid, "stub": self.stub.pid})
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
            spy = self.children.start("py-spy", profile.argv(self.server.pid, a.warmup + a.seconds, raw),
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
            # CPU the server spent per placed order: steadier than orders/s on a shared machine.
            result["server_cpu_ms_per_order"] = round(cpu["server"] * 1000 / result["orders_per_s"], 2)
        stats1 = self.stub_stats()
        result["stub"] = {k: stats1.get(k, 0) - stats0.get(k, 0) for k in stats1}
        if result.get("errors"):
            result["server_log_tail"] = self.server.tail(15)
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
    return line + (f"   errors: {errs}" if errs else "")


def run_database(kind: str, args: argparse.Namespace, children: Children, tmp: Path) -> dict[str, Any]:
    dbname = None
    if kind == "postgresql":
        dbname, url = dbsetup.create_pg_database(PG_ADMIN_URL)
        log(f"postgresql: created database {dbname}")
        workers_list = args.pg_workers
    else:
        url = f"sqlite:///{tmp / 'bench.db'}"
        workers_list = [args.sqlite_workers]
    run = Run(kind, url, args, tmp, children)
    out: dict[str, Any] = {"by_workers": {}}
    try:
        run.prepare()
        assert run.seeded is not None
        seeded = run.seeded
        for workers in workers_list:
            run.start_server(workers)
            res: dict[str, Any] = {}
            log(f"{kind}: hot item, {args.concurrency} buyers, {args.warmup}s warm-up + {args.seconds}s")
            res["hot"] = run.loadgen([seeded.hot], concurrency=args.concurrency, prefix=f"hot-w{workers}-")
            log(f"{kind}: {args.many_goods} goods at random, {args.concurrency} buyers")
            res["many"] = run.loadgen(seeded.many, concurrency=args.concurrency, prefix=f"many-w{workers}-")
            out["by_workers"][str(workers)] = res
            if workers != workers_list[-1]:
                run.stop_server()
        # Oversell: the last server (the most workers) sells the last units to many buyers at once.
        log(f"{kind}: oversell check, stock {args.oversell_stock}, {args.oversell_buyers} buyers at once")
        once = run.loadgen([seeded.oversell], concurrency=args.oversell_buyers, once=True, prefix="oversell-")
        left = dbsetup.read_goods(url, seeded, seeded.oversell)
        want = min(args.oversell_stock, args.oversell_buyers)
        oversell = {
            "orders": once["orders"], "outcomes": once["outcomes"], "stock_left": left["stock"],
            "live_orders_quantity": left["live_quantity"],
            "ok": once["orders"] == want and left["stock"] == args.oversell_stock - want
            and left["stock"] >= 0 and left["live_quantity"] == want,
        }
        stock_check = dbsetup.check_stock(url, seeded, [seeded.hot, *seeded.many])
        stub = run.stub_stats()
        run.stop_server()
        out["oversell"] = oversell
        out["stock_check"] = stock_check
        out["stub_total"] = stub
        # Pick the best worker count by hot orders/s.
        best_w = max(out["by_workers"], key=lambda w: out["by_workers"][w]["hot"]["orders_per_s"])
        out["workers"] = int(best_w)
        out["hot"] = out["by_workers"][best_w]["hot"]
        out["many"] = out["by_workers"][best_w]["many"]
        out["oversell_ok"] = bool(oversell["ok"] and stock_check["ok"] and stub.get("bad_signatures", 0) == 0)
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
        run.stop_server()
        children.stop_all()
        if dbname is not None and not args.keep_db:
            try:
                dbsetup.drop_pg_database(PG_ADMIN_URL, dbname)
                log(f"postgresql: dropped database {dbname}")
            except Exception as e:  # reported, never hidden
                log(f"postgresql: could not drop {dbname}: {e}")


def summary(kind: str, r: dict[str, Any]) -> dict[str, Any]:
    def fig(s: dict[str, Any]) -> dict[str, Any]:
        return {"orders_per_s": s["orders_per_s"], "p50_ms": s["p50_ms"], "p99_ms": s["p99_ms"],
                "errors": s["errors"], "server_cpu_ms_per_order": s.get("server_cpu_ms_per_order"),
                "cpu_cores": s["cpu_cores"]}

    out: dict[str, Any] = {"workers": r["workers"], "hot": fig(r["hot"]), "many": fig(r["many"]),
                           "oversell_ok": r["oversell_ok"]}
    if len(r["by_workers"]) > 1:
        out["by_workers"] = {w: {"hot": fig(v["hot"]), "many": fig(v["many"])}
                             for w, v in r["by_workers"].items()}
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
    for w, res in r["by_workers"].items():
        print(f"  server workers: {w}{'   (best)' if int(w) == r['workers'] else ''}")
        print(HEADER)
        print(fmt_scenario("hot", res["hot"]))
        print(fmt_scenario("many", res["many"]))
        for scen in ("hot", "many"):
            if res[scen].get("server_log_tail"):
                print(f"  server log after {scen} (it had errors):")
                print("    " + res[scen]["server_log_tail"].replace("\n", "\n    "))
            if "profile" in res[scen]:
                print(f"  profile of the server, {scen}:")
                print(res[scen]["profile"])
    o = r["oversell"]
    print(f"  oversell: {o['orders']} orders placed for stock {r['oversell_expected']} by "
          f"{r['oversell_buyers']} buyers; stock left {o['stock_left']}; outcomes {o['outcomes']} -> "
          f"{'ok' if o['ok'] else 'FAIL'}")
    s = r["stock_check"]
    print(f"  stock check after hot+many: {s['units_taken']} units taken == units in non-FAIL orders -> "
          f"{'ok' if s['ok'] else 'FAIL ' + json.dumps(s['mismatches'])}")
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
    p.add_argument("--quick", action="store_true", help="a ~1 minute smoke run (short windows, one worker count)")
    p.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument("--seconds", type=float, help="measured window per scenario (default 20; quick 3)")
    p.add_argument("--warmup", type=float, help="warm-up per scenario, discarded (default 3; quick 0.5)")
    p.add_argument("--concurrency", type=int, default=64, help="concurrent buyers (default 64)")
    p.add_argument("--pg-workers", help="server worker counts to try on PostgreSQL (default 1,2; quick 2)")
    p.add_argument("--sqlite-workers", type=int, default=1)
    p.add_argument("--pool-size", type=int, help="PAYBUTTON_DB_POOL_SIZE for the server (default: its own)")
    p.add_argument("--client", choices=("auto", "raw", "aiohttp", "httpx"), default="auto")
    p.add_argument("--hot-stock", type=int, default=10**7)
    p.add_argument("--many-goods", type=int, default=200)
    p.add_argument("--many-stock", type=int, default=10**6)
    p.add_argument("--oversell-stock", type=int, default=50)
    p.add_argument("--oversell-buyers", type=int, default=200)
    p.add_argument("--pgbench-clients", default="1,2,4,16")
    p.add_argument("--pgbench-seconds", type=int, help="per client count (default 10; quick 1)")
    p.add_argument("--no-pgbench", action="store_true")
    p.add_argument("--keep-db", action="store_true", help="keep the PostgreSQL database and the temp folder")
    p.add_argument("--py-spy", metavar="DIR", help="profile the server with py-spy during each scenario")
    p.add_argument("--strict", action="store_true", help="exit 1 when a floor is not met")
    a = p.parse_args(argv)
    a.seconds = a.seconds if a.seconds is not None else (3.0 if a.quick else 20.0)
    a.warmup = a.warmup if a.warmup is not None else (0.5 if a.quick else 3.0)
    a.pgbench_seconds = a.pgbench_seconds if a.pgbench_seconds is not None else (1 if a.quick else 10)
    a.pg_workers = [int(x) for x in (a.pg_workers or ("2" if a.quick else "1,2")).split(",")]
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
    print()
    print(f"floors: PostgreSQL >= {FLOORS['postgresql_orders_per_s']} orders/s, SQLite >= "
          f"{FLOORS['sqlite_orders_per_s']} orders/s, p99 <= {FLOORS['p99_ms']} ms, no errors, no oversell "
          f"-> {'met' if ok else 'NOT met'}   (whole run {time.monotonic() - started:.0f}s)")
    print(json.dumps(final, ensure_ascii=False), flush=True)
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    raise SystemExit(main())
