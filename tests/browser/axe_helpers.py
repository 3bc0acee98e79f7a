"""axe-core (bundled by the PyPI package axe-playwright-python) over a page in the browser tests: every check is
recorded in one session-wide tally that tests/conftest.py prints at the end of the run (summed over the
xdist workers)
(`axe: N pages, S serious, C critical`). Reusable by any browser test: `check_page(page, name)`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from axe_playwright_python.sync_playwright import Axe

BLOCKING = ("serious", "critical")


@dataclass
class Tally:
    pages: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {"minor": 0, "moderate": 0, "serious": 0, "critical": 0})
    found: list[str] = field(default_factory=list)  # "page: rule (impact) ×n" of every serious or critical one


TALLY = Tally()
_AXE = Axe()


def check_page(page: Any, name: str) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now; record the result under `name`; return the serious and critical
    violations (a test asserts there are none)."""
    violations: list[dict[str, Any]] = _AXE.run(page).response["violations"]
    TALLY.pages.append(name)
    blocking = []
    for v in violations:
        impact = v.get("impact") or "minor"
        TALLY.counts[impact] = TALLY.counts.get(impact, 0) + 1
        if impact in BLOCKING:
            blocking.append(v)
            targets = [n["target"] for n in v["nodes"][:3]]
            TALLY.found.append(f"{name}: {v['id']} ({impact}) ×{len(v['nodes'])} {targets}")
    return blocking


def describe(violations: list[dict[str, Any]]) -> str:
    return "; ".join(f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
                     for v in violations)
