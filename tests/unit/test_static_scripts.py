"""pay-button.js and tt.js: at most 17 KB together as shipped (gzip level 9 of each file, summed; pay-button.js as
the server serves it, with its texts from the catalogs), so they can be written plainly rather than squeezed; and
they load nothing else."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from paybutton.pages.routes import pay_button_js

STATIC = Path(__file__).resolve().parents[2] / "src" / "paybutton" / "pages" / "static"
# bytes, gzip-compressed. 14 KB until issue 18, whose redirect handover, channel pages in the top window, the origin
# refusal, the kept-order toasts and both languages' texts from the catalogs (their English msgids stand twice in the
# served file: in L() and as TX's keys) took it to 15.7 KB; a budget, not a target.
BUDGET = 17 * 1024


def test_at_most_17_kb_gzipped_together() -> None:
    shipped = {"pay-button.js": pay_button_js(), "tt.js": (STATIC / "tt.js").read_bytes()}
    sizes = {name: len(gzip.compress(body, compresslevel=9)) for name, body in shipped.items()}
    assert sum(sizes.values()) <= BUDGET, sizes


def test_they_load_nothing_else() -> None:
    for name in ("pay-button.js", "tt.js"):
        text = (STATIC / name).read_text(encoding="utf-8")
        assert not re.search(r"https?://", text), name
        assert "import(" not in text and "importScripts" not in text, name
        assert "createElement('script')" not in text and 'createElement("script")' not in text, name
