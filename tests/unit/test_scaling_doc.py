"""docs/scaling.md's Citus calls are the ones paybutton/distribution.py generates from the schema: a
`create_reference_table` or `create_distributed_table` for every table (and only those), in the generated order,
which puts each table after the tables its foreign keys point to. A table added to the schema without a place in
the plan, or left out of the page, fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from paybutton import distribution
from paybutton.distribution import DISTRIBUTED_TABLES, REFERENCE_TABLES, citus_calls, is_distributed
from paybutton.tables import metadata

DOC = Path(__file__).resolve().parents[2] / "docs" / "scaling.md"
CALL = re.compile(r"SELECT create_(reference|distributed)_table\('(\w+)'.*")


def _named(calls: list[str]) -> list[str]:
    return [m.group(2) for m in map(CALL.match, calls) if m]


def test_the_doc_shows_the_generated_calls_in_order() -> None:
    calls = citus_calls(metadata)
    in_doc = [line.strip() for line in DOC.read_text(encoding="utf-8").splitlines() if CALL.match(line.strip())]
    assert in_doc == calls, "docs/scaling.md, 'The calls': paste paybutton.distribution.citus_calls(metadata)"


def test_every_table_has_one_call_of_its_kind() -> None:
    calls = citus_calls(metadata)
    names = _named(calls)
    assert sorted(names) == sorted({t.name for t in metadata.sorted_tables} | {"alembic_version"})
    for call, name in zip(calls, names, strict=True):
        kind = "distributed" if is_distributed(name) else "reference"
        assert call.startswith(f"SELECT create_{kind}_table('{name}', " if kind == "distributed"
                               else f"SELECT create_reference_table('{name}');"), call
        if kind == "distributed" and name != distribution.COLOCATE_WITH:
            assert call.endswith(f"'app_id', colocate_with => '{distribution.COLOCATE_WITH}');"), call


def test_each_table_comes_after_the_tables_it_references() -> None:
    place = {name: i for i, name in enumerate(_named(citus_calls(metadata)))}
    for table in metadata.sorted_tables:
        for fk in table.foreign_key_constraints:
            assert place[fk.referred_table.name] < place[table.name], (table.name, fk.referred_table.name)


def test_the_plan_names_each_table_once() -> None:
    assert not REFERENCE_TABLES & DISTRIBUTED_TABLES
    with pytest.raises(KeyError, match="neither"):
        is_distributed("scratch")
