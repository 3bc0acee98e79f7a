"""The browser scripts' error codes and texts come from the error registry (errors.py), and the goods and order
rules they check from goods/rules.py and order/rules.py, never retyped.

Every script under pages/static names its codes `E.NAME` (and its rules `G.key`) and carries tables generated from
the Python (paybutton/pages/errcodes.py): the tables must be what the generator makes, no errNo may be typed outside
them (not even in a comment, where it would go stale unseen), nor a label type or a limit, and no script types the
text of a code: the error event's errMsg comes from errors.py as the pages serve it (the bridge's hello,
GET /api/errors)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from paybutton.errors import REGISTRY
from paybutton.goods import rules as goods_rules
from paybutton.order import rules as order_rules
from paybutton.pages import errcodes

STATIC = Path(errcodes.STATIC)
TEMPLATES = STATIC.parent / "templates"
# A number where an errNo could stand: the seed's codes are 215xx and 10000-10002.
ERR_NO = re.compile(r"(?<![\w.])(21[0-9]{3}|1000[0-9])(?![\w.])")
SCRIPTS = sorted(p.name for p in STATIC.glob("*.js"))


def _without_tables(name: str) -> str:
    text = (STATIC / name).read_text(encoding="utf-8")
    for table in errcodes.TABLES:
        text = table.block.sub("", text)
    return text


def test_every_script_is_generated() -> None:
    assert SCRIPTS == sorted(errcodes.SCRIPTS)


@pytest.mark.parametrize("name", SCRIPTS)
def test_generated_table_is_current(name: str) -> None:
    text = (STATIC / name).read_text(encoding="utf-8")
    assert errcodes.generate(text) == text, f"run `python -m paybutton.pages.errcodes` and commit {name}"


def test_check_mode_names_a_stale_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert errcodes.main(["--check"]) == 0
    for name in errcodes.SCRIPTS:
        (tmp_path / name).write_text((STATIC / name).read_text(encoding="utf-8"), encoding="utf-8")
    text = (tmp_path / "tt.js").read_text(encoding="utf-8")
    (tmp_path / "tt.js").write_text(text.replace("PAY_FAILED: 10000", "PAY_FAILED: 10009"), encoding="utf-8")
    monkeypatch.setattr(errcodes, "STATIC", tmp_path)
    assert errcodes.main(["--check"]) == 1
    assert "tt.js: its generated tables are stale" in capsys.readouterr().err
    assert errcodes.main([]) == 0  # rewrites it
    assert (tmp_path / "tt.js").read_text(encoding="utf-8") == text
    assert errcodes.main(["--check"]) == 0


@pytest.mark.parametrize("name", SCRIPTS)
def test_no_code_typed_outside_the_table(name: str) -> None:
    rest = _without_tables(name)
    typed = [(n + 1, line.strip()) for n, line in enumerate(rest.splitlines()) if ERR_NO.search(line)]
    assert typed == [], f"{name}: name the code as E.NAME"
    for used in errcodes.TABLES[0].use.findall(rest):
        assert REGISTRY[used].err_no is not None, f"{name}: {used} has no errNo"


@pytest.mark.parametrize("name", SCRIPTS)
def test_no_rule_typed_outside_the_table(name: str) -> None:
    """A label type, a limit, the mobile pattern or the handover code's outside G is a copy of the Python's."""
    rest = _without_tables(name)
    copies = [*goods_rules.LABEL_TYPES, str(goods_rules.LIMITS_HIGH), str(goods_rules.MAX_LABEL_VALUE), "1[3-9]",
              "{43}"]
    assert [c for c in copies if c in rest] == [], f"{name}: use G (python -m paybutton.pages.errcodes)"


def test_rules_table_holds_the_python_rules() -> None:
    page = (STATIC / "pay-button.js").read_text(encoding="utf-8")
    line = next(x for x in page.splitlines() if "exclusions:" in x)
    assert "['NON_REFUNDABLE', 'REFUND_ANYTIME']" in line
    assert errcodes.RULES["mobile"] == order_rules.MOBILE.pattern
    with pytest.raises(KeyError):
        errcodes.generate("  " + errcodes.BEGIN + "\n  " + errcodes.TABLES[1].marker + "\n  f(G.noSuchRule);\n")
    with pytest.raises(ValueError, match="no generated G table"):
        errcodes.generate("  " + errcodes.BEGIN + "\n  f(G.limits);\n")


@pytest.mark.parametrize("name", [*SCRIPTS, *(p.name for p in TEMPLATES.glob("*.html"))])
def test_no_code_text_typed(name: str) -> None:
    """No script or page types a code's text (either language): the registry's text reaches them as data."""
    path = STATIC / name if name.endswith(".js") else TEMPLATES / name
    text = path.read_text(encoding="utf-8")
    if name.endswith(".html"):
        assert ERR_NO.findall(text) == [], f"{name} types an errNo"
    quoted = set(re.findall(r"'((?:[^'\\\n]|\\.)*)'|\"((?:[^\"\\\n]|\\.)*)\"", text))
    strings = {a or b for a, b in quoted}
    texts = {t: s.name for s in REGISTRY.values() if s.err_no is not None for t in (s.zh, s.en)}
    assert {t: texts[t] for t in strings if t in texts} == {}, f"{name} retypes a code's text"


def test_generator_names_what_a_script_uses() -> None:
    text = "  'use strict';\n  " + errcodes.BEGIN + "\n  f(E.ORDER_ID_INVALID); g(E.MODE_INVALID);\n"
    assert errcodes.generate(text).splitlines()[2] == "  var E = {MODE_INVALID: 21500, ORDER_ID_INVALID: 21522};"
    with pytest.raises(KeyError):
        errcodes.generate(text.replace("E.MODE_INVALID", "E.NO_SUCH_ERROR"))
    with pytest.raises(ValueError, match="no errNo"):
        errcodes.generate(text.replace("E.MODE_INVALID", "E.INTERNAL_ERROR"))


def test_pages_type_no_input_length() -> None:
    """An input's maxlength is the buyer API's max_length for its field (pages/routes.py, INPUT_MAX), not a copy."""
    typed = {p.name: re.findall(r'maxlength="\d+"', p.read_text(encoding="utf-8")) for p in TEMPLATES.glob("*.html")}
    assert {k: v for k, v in typed.items() if v} == {}
