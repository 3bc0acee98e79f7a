"""The flash sale of the benchmark (5,000 buyers released at once on a good with 500 units, quantity 1 each) and
the figures of running several server processes: throughput per added process."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bench import dbsetup

if TYPE_CHECKING:
    from bench.orders import Run


def _share(before: dict[str, int] | None, after: dict[str, int] | None) -> dict[str, Any]:
    """Sold-out answers served from memory vs. by a query during the sale, from the servers' own counters."""
    if before is None or after is None:
        return {"reported": False}
    mem = after.get("sold_out_from_memory", 0) - before.get("sold_out_from_memory", 0)
    db = after.get("sold_out_from_database", 0) - before.get("sold_out_from_database", 0)
    return {"reported": True, "from_memory": mem, "from_database": db,
            "share_from_memory": round(mem / (mem + db), 3) if mem + db else None}


def run(r: Run, args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    assert r.seeded is not None
    seeded = r.seeded
    log(f"{r.kind}: flash sale, stock {args.flash_stock}, {args.flash_buyers} buyers released at once over "
        f"{len(r.servers)} server(s), at most {args.flash_connections} requests in flight")
    before = r.order_path()
    once = r.loadgen([seeded.flash], concurrency=args.flash_buyers, once=True, prefix="flash-",
                     extra=["--connections", str(args.flash_connections)])
    after = r.order_path()
    left = dbsetup.read_goods(r.url, seeded, seeded.flash)
    want = min(args.flash_stock, args.flash_buyers)
    units_ok = (left["stock"] == args.flash_stock - want and left["live_quantity"] == want
                and once["orders"] == want)
    outcomes_ok = set(once["outcomes"]) <= {"ok", "GOODS_SOLD_OUT"}
    return {
        "servers": len(r.servers), "buyers": args.flash_buyers, "stock": args.flash_stock,
        "connections": once.get("connections"), "orders": once["orders"], "outcomes": once["outcomes"],
        "sold_out_s": once.get("last_order_s"), "all_answered_s": once["elapsed_s"],
        "p50_ms": once["p50_ms"], "p99_ms": once["p99_ms"], "max_ms": once["max_ms"],
        "units_sold_in_database": left["live_quantity"], "stock_left": left["stock"],
        "units_ok": units_ok, "outcomes_ok": outcomes_ok, "sold_out_answers": _share(before, after),
        "cpu_cores": once["cpu_cores"],
    }


def summary(f: dict[str, Any]) -> dict[str, Any]:
    keys = ("servers", "buyers", "stock", "orders", "sold_out_s", "all_answered_s", "p50_ms", "p99_ms",
            "units_sold_in_database", "stock_left", "units_ok", "outcomes_ok", "outcomes", "sold_out_answers")
    return {k: f[k] for k in keys}


def share_text(s: dict[str, Any]) -> str:
    if not s["reported"]:
        return "n/a (the servers report no order_path counters in /healthz)"
    if s["share_from_memory"] is None:
        return "n/a (no sold-out answers counted)"
    return (f"{s['share_from_memory'] * 100:.1f} % ({s['from_memory']} from memory, "
            f"{s['from_database']} by a query)")


def print_flash(f: dict[str, Any]) -> None:
    print(f"  flash sale: {f['buyers']} buyers at once on stock {f['stock']}, {f['servers']} server(s), "
          f"{f['connections']} connections")
    print(f"    sold out after {f['sold_out_s']} s (last order answered); all answered after "
          f"{f['all_answered_s']} s; p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms (from the release)")
    print(f"    units sold (database): {f['units_sold_in_database']}, stock left {f['stock_left']}, "
          f"orders placed {f['orders']} -> {'ok' if f['units_ok'] else 'FAIL'}; outcomes {f['outcomes']}"
          f"{'' if f['outcomes_ok'] else ' (UNEXPECTED outcomes)'}")
    print(f"    sold-out answers served without a query: {share_text(f['sold_out_answers'])}")


def scaling(by_servers: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Orders/s with N server processes, and what each added process brought (vs. the previous count)."""
    out: dict[str, dict[str, Any]] = {}
    prev: dict[str, Any] | None = None
    prev_n = 0
    for n, res in sorted(by_servers.items(), key=lambda kv: int(kv[0])):
        row: dict[str, Any] = {}
        for scen in ("hot", "many"):
            ops = res[scen]["orders_per_s"]
            row[f"{scen}_orders_per_s"] = ops
            row[f"{scen}_per_added_server"] = (
                round((ops - prev[scen]["orders_per_s"]) / (int(n) - prev_n), 1) if prev is not None else None)
            row[f"{scen}_server_cpu_ms_per_order"] = res[scen].get("server_cpu_ms_per_order")
        out[n] = row
        prev, prev_n = res, int(n)
    return out


def print_scaling(by_servers: dict[str, dict[str, Any]]) -> None:
    print("  instances (N x `paybutton serve --workers 1`, buyers spread over them; srv ms/ord summed over all):")
    print(f"    {'servers':>7} {'hot o/s':>9} {'+/added':>8} {'srv ms':>7} {'many o/s':>9} {'+/added':>8} "
          f"{'srv ms':>7}")

    def added(v: float | None) -> str:
        return "" if v is None else f"{v:+.1f}"

    for n, row in scaling(by_servers).items():
        print(f"    {n:>7} {row['hot_orders_per_s']:>9.1f} {added(row['hot_per_added_server']):>8} "
              f"{row['hot_server_cpu_ms_per_order'] or 0:>7.2f} {row['many_orders_per_s']:>9.1f} "
              f"{added(row['many_per_added_server']):>8} {row['many_server_cpu_ms_per_order'] or 0:>7.2f}")
