"""pay-button.js and tt.js: under 30 KB together, unminified, and they load nothing else."""

from __future__ import annotations

import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "src" / "paybutton" / "pages" / "static"


def test_under_30_kb_together() -> None:
    size = sum((STATIC / name).stat().st_size for name in ("pay-button.js", "tt.js"))
    assert size < 30_000, size


def test_they_load_nothing_else() -> None:
    for name in ("pay-button.js", "tt.js"):
        text = (STATIC / name).read_text(encoding="utf-8")
        assert not re.search(r"https?://", text), name
        assert "import(" not in text and "importScripts" not in text, name
        assert "createElement('script')" not in text and 'createElement("script")' not in text, name
