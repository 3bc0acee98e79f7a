"""The order writer's statements: named parameters become asyncpg's numbered ones, and the benchmark's pgbench
script is the writer's own PostgreSQL statements (regenerate it with `python -m bench.pgbench_script`)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from paybutton.goods.selling import SELL_SQL
from paybutton.order.store import positional
from paybutton.order.store_pg import TAKE_ORDER

_SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "pgbench_script.py"
_spec = importlib.util.spec_from_file_location("pgbench_script", _SCRIPT)
assert _spec is not None and _spec.loader is not None
pgbench_script = importlib.util.module_from_spec(_spec)
sys.modules["pgbench_script"] = pgbench_script
_spec.loader.exec_module(pgbench_script)


def test_positional_parameters() -> None:
    sql, names = positional("SELECT :a, :b::int, :a || ':x' FROM t WHERE c = 'y'::text")
    assert (sql, names) == ("SELECT $1, $2::int, $1 || ':x' FROM t WHERE c = 'y'::text", ("a", "b"))


def test_the_take_is_guarded_by_the_sell_condition() -> None:
    assert SELL_SQL in TAKE_ORDER


def test_pgbench_script_is_generated_from_the_writer() -> None:
    assert pgbench_script.SQL_FILE.read_text() == pgbench_script.script(), "run: python -m bench.pgbench_script"
    assert pgbench_script.bind(SELL_SQL, pgbench_script.TAKE_VALUES) in pgbench_script.SQL_FILE.read_text()
