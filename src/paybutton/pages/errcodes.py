"""The error codes the browser scripts use, generated from the error registry (errors.py) so that no script retypes
a number: each script names its codes `E.NAME` and carries a generated `E` table of the names it uses, after the
marker line below. `python -m paybutton.pages.errcodes` rewrites the tables after a script starts or stops using a
code; `--check` exits 1 naming each script whose table differs (tests/unit/test_js_errors.py fails likewise).
The texts of the codes (the error event's errMsg) are not copied into the scripts: the bridge page hands them to
pay-button.js from errors.py (pages/routes.py, SEED_TEXTS), pages.js reads them from GET /api/errors."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from paybutton.errors import REGISTRY

STATIC = Path(__file__).resolve().parent / "static"
SCRIPTS = ("pages.js", "pay-button.js", "tt.js")  # every script under static/ that names a code
BEGIN = "// errNo by name, generated from errors.py: python -m paybutton.pages.errcodes"
USE = re.compile(r"\bE\.([A-Z][A-Z0-9_]*)\b")
# The marker line, then the table (none yet right after the marker is put in).
_BLOCK = re.compile(r"^( *)" + re.escape(BEGIN) + r"\n(?: *(?:const|var) E = \{.*?\};\n)?", re.M | re.S)
WIDTH = 120


def _table(names: list[str], indent: str, keyword: str) -> str:
    entries = [f"{n}: {REGISTRY[n].err_no}" for n in names]
    lines, line = [], f"{indent}{keyword} E = {{"
    for i, entry in enumerate(entries):
        piece = entry + ("," if i < len(entries) - 1 else "};")
        if len(line) + 1 + len(piece) > WIDTH and not line.endswith("{"):
            lines.append(line)
            line = indent + "  " + piece
        else:
            line += ("" if line.endswith("{") else " ") + piece
    lines.append(line)
    return "\n".join(lines) + "\n"


def generate(text: str) -> str:
    """`text` with its table made from the codes it uses (its `E.NAME`s, outside the table)."""
    found = _BLOCK.search(text)
    if found is None:
        raise ValueError("no generated errNo table: add the marker line BEGIN where it goes")
    rest = text[:found.start()] + text[found.end():]
    names = sorted(set(USE.findall(rest)), key=lambda n: (REGISTRY[n].err_no or 0, n))
    if missing := [n for n in names if REGISTRY[n].err_no is None]:
        raise ValueError(f"no errNo (the pages never see these errors): {missing}")
    keyword = "const" if re.search(r"^\s*const ", rest, re.M) else "var"
    indent = found.group(1)
    block = f"{indent}{BEGIN}\n{_table(names, indent, keyword)}"
    return text[:found.start()] + block + text[found.end():]


def stale() -> list[str]:
    """The scripts whose table is not what `generate` makes of them."""
    return [n for n in SCRIPTS if generate(text := (STATIC / n).read_text(encoding="utf-8")) != text]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        found = stale()
        for name in found:
            print(f"{name}: its errNo table is stale; run `python -m paybutton.pages.errcodes`", file=sys.stderr)
        return 1 if found else 0
    for name in SCRIPTS:
        path = STATIC / name
        text = path.read_text(encoding="utf-8")
        new = generate(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"rewrote the errNo table of {name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
