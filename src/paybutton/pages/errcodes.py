"""The error codes the browser scripts use, generated from the error registry (errors.py) so that no script retypes
a number: each script names its codes `E.NAME` and carries a generated `E` table of the names it uses, between
the two marker lines below. `python -m paybutton.pages.errcodes` rewrites the tables after a script starts or stops
using a code; tests/unit/test_js_errors.py fails while a table differs from what this generates."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from paybutton.errors import REGISTRY

STATIC = Path(__file__).resolve().parent / "static"
SCRIPTS = ("pages.js",)  # pay-button.js and tt.js: see tests/unit/test_js_errors.py (their 17 KB budget)
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


def main() -> None:
    for name in SCRIPTS:
        path = STATIC / name
        text = path.read_text(encoding="utf-8")
        new = generate(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"rewrote the errNo table of {name}", file=sys.stderr)


if __name__ == "__main__":
    main()
