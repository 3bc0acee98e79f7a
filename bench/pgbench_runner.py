"""pgbench on bench/pgbench/order_path.sql: the SQL the order path issues per order, with no Python in
the way. Its best TPS is the ceiling PostgreSQL sets on this machine for our order path."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

SQL_FILE = Path(__file__).resolve().parent / "pgbench" / "order_path.sql"
TPS_RE = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.M)


def pgbench_binary() -> str | None:
    return shutil.which("pgbench") or ("/usr/bin/pgbench" if Path("/usr/bin/pgbench").exists() else None)


def run(dbname: str, app_id: str, goods_id: str, *, clients: list[int], seconds: int, admin_url: str,
        log: Callable[[str], None]) -> dict[str, Any]:
    exe = pgbench_binary()
    if exe is None:
        log("pgbench not found: skipped")
        return {"tps": {}, "error": "pgbench not found"}
    u = make_url(admin_url)
    base = [exe, "-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres", "-n",
            "-f", str(SQL_FILE), "-M", "prepared", "-T", str(seconds), "-D", f"app={app_id}",
            "-D", f"goods={goods_id}", "-D", f"now={int(time.time() * 1000)}"]
    tps: dict[str, float] = {}
    errors: dict[str, str] = {}
    for c in clients:
        proc = subprocess.run([*base, "-c", str(c), "-j", str(c), dbname], capture_output=True, text=True,
                              timeout=seconds + 60, stdin=subprocess.DEVNULL)
        m = TPS_RE.search(proc.stdout)
        if proc.returncode != 0 or not m:
            errors[str(c)] = (proc.stderr or proc.stdout)[-500:]
            log(f"pgbench -c {c} failed: {errors[str(c)]}")
            continue
        tps[str(c)] = round(float(m.group(1)), 1)
        log(f"pgbench -c {c}: {tps[str(c)]} tps")
    out: dict[str, Any] = {"tps": tps}
    if errors:
        out["errors"] = errors
    return out
