"""The tables the browser scripts take from the Python rules, generated so that no script retypes them: `E`, the
error codes by name (errors.py), and `G`, the rules the scripts check before the server does (goods/rules.py,
order/rules.py, kernel/handover.py, the id lengths of inputs.py) and the seed's pay result codes (cashier/base.py).
A script names what it uses (`E.NAME`, `G.key`) and carries a generated table of just those, after its marker line
below. `python -m paybutton.pages.errcodes` rewrites the tables after a script starts or stops using an entry;
`--check` exits 1 naming each script whose table differs (tests/unit/test_js_errors.py fails likewise).
The texts of the codes (the error event's errMsg) are not copied into the scripts: the bridge page hands them to
pay-button.js from errors.py (pages/routes.py, SEED_TEXTS), pages.js reads them from GET /api/errors."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paybutton.cashier.base import PAY_CODES, Outcome
from paybutton.errors import REGISTRY
from paybutton.goods import rules as goods_rules
from paybutton.inputs import ID_LIMITS
from paybutton.kernel import handover
from paybutton.order import rules as order_rules

STATIC = Path(__file__).resolve().parent / "static"
SCRIPTS = ("pages.js", "pay-button.js", "tt.js")  # every script under static/
WIDTH = 120


def _err_nos(names: set[str]) -> dict[str, Any]:
    if unknown := sorted(names - REGISTRY.keys()):
        raise KeyError(f"no such error: {unknown}")
    if missing := sorted(n for n in names if REGISTRY[n].err_no is None):
        raise ValueError(f"no errNo (the pages never see these errors): {missing}")
    return {n: REGISTRY[n].err_no for n in sorted(names, key=lambda n: (REGISTRY[n].err_no, n))}


# goods/rules.py (labels, limits), order/rules.py (the buyer's mobile number), kernel/handover.py (the one-time
# code's form), inputs.py (the longest ids the API takes; the button counts UTF-8 bytes, the server characters: the
# same for the ASCII ids it makes) and cashier/base.py (tt.pay's result codes, which pages.js also emits), by the
# names the scripts use
RULES: dict[str, Any] = {
    "labels": list(goods_rules.LABEL_TYPES), "valueLabels": sorted(goods_rules.VALUE_LABELS),
    "maxLabels": goods_rules.MAX_LABELS, "maxLabelValue": goods_rules.MAX_LABEL_VALUE,
    "exclusions": [list(pair) for pair in goods_rules.EXCLUSIONS],
    "limits": [goods_rules.LIMITS_LOW, goods_rules.LIMITS_HIGH],
    "limitsDefault": [goods_rules.MIN_LIMITS_DEFAULT, goods_rules.MAX_LIMITS_DEFAULT],
    "mobile": order_rules.MOBILE.pattern,  # matched after order/rules.py's normalise_phone takes +86, spaces, dashes
    "handoverCode": handover.CODE_PATTERN,  # redirect mode's one-time code (kernel/handover.py)
    "goodsIdMax": ID_LIMITS["goods_id"], "orderIdMax": ID_LIMITS["order_id"], "refundIdMax": ID_LIMITS["refund_id"],
    "payCodes": {o.value: PAY_CODES[o] for o in (Outcome.SUCCESS, Outcome.TIMEOUT, Outcome.FAIL, Outcome.USER_CLOSED,
                                                 Outcome.CANCEL)},
    # the buyer closed (3) or cancelled (4) the cashier: the order is kept (pay-button.js says so)
    "payKept": [PAY_CODES[Outcome.USER_CLOSED], PAY_CODES[Outcome.CANCEL]],
}


def _rules(names: set[str]) -> dict[str, Any]:
    if unknown := sorted(names - RULES.keys()):
        raise KeyError(f"no such rule: {unknown}")
    return {k: v for k, v in RULES.items() if k in names}


@dataclass(frozen=True)
class Table:
    var: str  # its name in the scripts
    marker: str  # the comment line above it
    entries: Callable[[set[str]], dict[str, Any]]  # the entries for the names a script uses

    @property
    def use(self) -> re.Pattern[str]:
        return re.compile(r"\b" + self.var + r"\.([A-Za-z][A-Za-z0-9_]*)\b")

    @property
    def block(self) -> re.Pattern[str]:  # the marker line, then the table (none yet right after the marker is put in)
        return re.compile(r"^( *)" + re.escape(self.marker) + r"\n(?: *(?:const|var) " + self.var + r" = \{.*?\};\n)?",
                          re.M | re.S)


COMMAND = "python -m paybutton.pages.errcodes"
BEGIN = f"// errNo by name, generated from errors.py: {COMMAND}"
TABLES = (
    Table("E", BEGIN, _err_nos),
    Table("G", f"// rules, generated from the Python (pages/errcodes.py, RULES): {COMMAND}", _rules),
)


def js(value: Any) -> str:
    """`value` as a JavaScript literal, in the scripts' style (single quotes)."""
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, list):
        return "[" + ", ".join(js(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {js(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"no JavaScript form for {value!r}")
    return str(value)


def _table(var: str, entries: dict[str, Any], indent: str, keyword: str) -> str:
    pieces = [f"{k}: {js(v)}" for k, v in entries.items()]
    lines, line = [], f"{indent}{keyword} {var} = {{"
    for i, entry in enumerate(pieces):
        piece = entry + ("," if i < len(pieces) - 1 else "};")
        if len(line) + 1 + len(piece) > WIDTH and not line.endswith("{"):
            lines.append(line)
            line = indent + "  " + piece
        else:
            line += ("" if line.endswith("{") else " ") + piece
    lines.append(line)
    return "\n".join(lines) + "\n"


def _generate_one(text: str, table: Table) -> str:
    found = table.block.search(text)
    rest = text if found is None else text[:found.start()] + text[found.end():]
    names = set(table.use.findall(rest))
    if found is None:
        if names:
            raise ValueError(f"no generated {table.var} table: add the marker line where it goes: {table.marker}")
        return text
    keyword = "const" if re.search(r"^\s*const ", rest, re.M) else "var"
    indent = found.group(1)
    block = f"{indent}{table.marker}\n{_table(table.var, table.entries(names), indent, keyword)}"
    return text[:found.start()] + block + text[found.end():]


def generate(text: str) -> str:
    """`text` with its tables made from what it uses (its `E.NAME`s and `G.key`s, outside the tables)."""
    if TABLES[0].block.search(text) is None:
        raise ValueError("no generated errNo table: add the marker line BEGIN where it goes")
    for table in TABLES:
        text = _generate_one(text, table)
    return text


def stale() -> list[str]:
    """The scripts whose tables are not what `generate` makes of them."""
    return [n for n in SCRIPTS if generate(text := (STATIC / n).read_text(encoding="utf-8")) != text]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        found = stale()
        for name in found:
            print(f"{name}: its generated tables are stale; run `python -m paybutton.pages.errcodes`", file=sys.stderr)
        return 1 if found else 0
    for name in SCRIPTS:
        path = STATIC / name
        text = path.read_text(encoding="utf-8")
        new = generate(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"rewrote the generated tables of {name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
