"""The short crash drill in CI: `python -m bench.chaos` with 3 SIGKILLs of a real `paybutton serve`, on SQLite and on
PostgreSQL (the two run side by side to keep the wall time near one drill: most of a drill is waiting for the
dead server's leases to run out). Each must end with every callback delivered, no order paid twice, the stock
conserved, the ledger whole (every paid payment and succeeded refund posted once), every late payment (a buyer
paying after the order ended) refunded exactly once, and `paybutton check` clean -- and must really have done the
work (orders, payments, refunds, late payments, verifications, callbacks, kills), so an empty run cannot pass."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_URL = os.environ.get("PAYBUTTON_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
KILLS = 3


async def _pg_up() -> None:
    engine = create_async_engine(PG_ADMIN_URL)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


def _drill(db: str, out: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PAYBUTTON_TEST_PG_URL"] = PG_ADMIN_URL
    argv = [sys.executable, "-m", "bench.chaos", "--db", db, "--kills", str(KILLS), "--seconds", "12",
            "--clients", "5", "--seed", "10", "--drain-seconds", "150", "--json", str(out)]
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _assert_clean(r: dict[str, Any], output: str) -> None:
    where = f"{r['database']}:\n{output[-4000:]}"
    cb = r["callbacks"]
    assert r["kills"] == KILLS, where
    assert r["orders"]["in_database"] > 20 and r["orders_paid"] > 10, where
    assert r["refunds"]["in_database"] > 0 and r["verifications"]["units_verified_in_database"] > 0, where
    assert set(cb["by_type"]) >= {"payment", "pre_create_refund", "refund"}, where
    assert r["drain"]["settled"], where
    assert cb["expected"] > 0 and cb["lost"] == 0 and cb["delivered"] == cb["expected"], where
    assert cb["bad_signatures"] == 0, where
    assert r["paid_twice"]["orders_paid_twice"] == 0, where
    assert r["stock"]["conserved"], json.dumps(r["stock"], indent=1) + where
    assert r["check"]["exit_code"] == 0, r["check"]["output"] + where
    books = r["ledger"]  # every paid payment and succeeded refund posted once, the txns balanced
    assert books["ok"] and books["txns"]["pay"] == books["payments_paid"] > 10, json.dumps(books) + where
    assert books["txns"].get("refund", 0) == books["refunds_succeeded"] > 0, json.dumps(books) + where
    late = r["late_payments"]  # paid after the order ended: each kept, refunded once, and the books balance
    assert late["late"] >= 1 and late["refunded_once"] == late["late"] and late["ok"], json.dumps(late) + where
    assert r["client_view"]["late_payments_seen"] >= 1, where
    assert r["client_view"]["http_5xx"] == {}, where
    assert r["ok"], where


def test_crash_drill_on_both_databases(tmp_path: Path) -> None:
    try:
        asyncio.run(_pg_up())
    except Exception as e:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {e}")
    t0 = time.monotonic()
    runs = {db: (_drill(db, tmp_path / f"{db}.json"), tmp_path / f"{db}.json") for db in ("sqlite", "postgresql")}
    outputs = {}
    try:
        for db, (proc, _) in runs.items():
            outputs[db], _ = proc.communicate(timeout=400)
    finally:
        for proc, _ in runs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for db, (proc, out) in runs.items():
        assert out.exists(), outputs[db][-4000:]
        report = json.loads(out.read_text())
        _assert_clean(report["databases"][db], outputs[db])
        assert proc.returncode == 0, outputs[db][-4000:]
        print(next(line for line in outputs[db].splitlines() if line.startswith("chaos ")))
    print(f"both drills in {time.monotonic() - t0:.0f}s")
