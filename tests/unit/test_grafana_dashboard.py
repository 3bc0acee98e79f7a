"""docs/grafana-dashboard.json shows only series /metrics has (telemetry/metrics.py and the database gauges of
telemetry/scrape.py), and every series /metrics has is on it: a renamed series breaks this test, not the panel."""

from __future__ import annotations

import json
import re
from pathlib import Path

from paybutton.telemetry import metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json"
SCRAPE = Path(metrics.__file__).with_name("scrape.py")
SUFFIXES = ("_bucket", "_sum", "_count", "_total")


def _exposed() -> set[str]:
    """The series names /metrics answers with."""
    names = {m._name for m in vars(metrics).values() if hasattr(m, "_name") and hasattr(m, "_type")}
    names |= set(re.findall(r'GaugeMetricFamily\("(paybutton_\w+)"', SCRAPE.read_text()))
    return {n for n in names if n.startswith("paybutton_")}


def _family(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def test_the_dashboard_shows_every_series_and_no_other() -> None:
    board = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
    shown = {_family(n) for e in exprs for n in re.findall(r"paybutton_\w+", e)}
    exposed = _exposed()
    assert len(exposed) >= 14
    assert shown - exposed == set(), "the dashboard asks for series /metrics does not have"
    assert exposed - shown == set(), "series /metrics has that the dashboard does not show"
