"""The registry holds every code of the seed's bind:error table with the seed's own meaning."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from paybutton.errors import REGISTRY, SEED_CODES, TradeError

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "000_11fab81c70cc6ff3.txt"
# The seed's bind:error table, copied verbatim so the check runs in any clone; when the seed guide is beside the
# project, the copy is checked against it.
TABLE_COPY = Path(__file__).resolve().parents[1] / "data" / "seed_error_table.txt"


def table_text(text: str) -> str:
    start = text.index("errNo(错误码) | 含义")
    return text[start:text.index("效果示例", start)]


def seed_table(body: str) -> dict[int, str]:
    cells = [c.strip() for c in body.split("|")]
    table: dict[int, str] = {}
    for i, cell in enumerate(cells[:-1]):
        if re.fullmatch(r"\d{5}", cell):
            table[int(cell)] = cells[i + 1]
    return table


def test_every_seed_code_with_the_seed_meaning() -> None:
    copy = TABLE_COPY.read_text(encoding="utf-8")
    if SEED.exists():
        assert table_text(SEED.read_text(encoding="utf-8")) == copy, "tests/data/seed_error_table.txt is stale"
    table = seed_table(copy)
    assert len(table) == 40  # 21500-21518, 21521-21524, 21526-21537, 21546-21547, 10000-10002
    assert set(table) == set(SEED_CODES), set(table) ^ set(SEED_CODES)
    for code, meaning in table.items():
        assert SEED_CODES[code].zh == meaning, code


def test_names_are_unique_and_raisable() -> None:
    for name, spec in REGISTRY.items():
        err = TradeError(name)
        assert err.spec is spec
        assert err.text("en") and err.text("zh-CN")
        assert 400 <= spec.http_status < 600


def test_unknown_name_is_a_bug() -> None:
    with pytest.raises(KeyError):
        TradeError("NO_SUCH_ERROR")
