"""The browser scripts' error codes agree with the error registry (errors.py).

pages.js names every code (`E.NAME`) and carries a table generated from errors.py (paybutton/pages/errcodes.py):
the table must be what the generator makes, and no errNo may be typed outside it. pay-button.js and tt.js keep
their numbers (a table of names costs about 0.5 KB gzipped, more than is left of their 17 KB budget,
test_static_scripts.py): each number they type must be a code of the seed's table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from paybutton.errors import REGISTRY, SEED_CODES
from paybutton.pages import errcodes

STATIC = Path(errcodes.STATIC)
# A number where an errNo could stand: the seed's codes are 215xx and 10000-10002.
ERR_NO = re.compile(r"(?<![\w.])(21[0-9]{3}|1000[0-9])(?![\w.])")


def _code(text: str) -> str:
    """The script without its // comments (a comment may cite a code)."""
    return "\n".join(re.sub(r"(^|\s)//.*$", "", line) for line in text.splitlines())


@pytest.mark.parametrize("name", errcodes.SCRIPTS)
def test_generated_table_is_current(name: str) -> None:
    text = (STATIC / name).read_text(encoding="utf-8")
    assert errcodes.generate(text) == text, f"run `python -m paybutton.pages.errcodes` and commit {name}"


@pytest.mark.parametrize("name", errcodes.SCRIPTS)
def test_no_code_typed_outside_the_table(name: str) -> None:
    text = (STATIC / name).read_text(encoding="utf-8")
    table = errcodes.generate(text)  # the same text (test above); cut the table out
    start = table.index(errcodes.BEGIN)
    end = table.index("};", start) + 2
    rest = _code(table[:start] + table[end:])
    assert ERR_NO.findall(rest) == [], f"{name}: name the code as E.NAME"
    for used in errcodes.USE.findall(rest):
        assert REGISTRY[used].err_no is not None, f"{name}: {used} has no errNo"


@pytest.mark.parametrize("name", ["pay-button.js", "tt.js"])
def test_typed_codes_are_seed_codes(name: str) -> None:
    typed = {int(n) for n in ERR_NO.findall(_code((STATIC / name).read_text(encoding="utf-8")))}
    assert typed, name
    assert typed - set(SEED_CODES) == set(), f"{name} types codes the seed's table does not have"


def test_generator_names_what_a_script_uses() -> None:
    text = "  'use strict';\n  " + errcodes.BEGIN + "\n  f(E.ORDER_ID_INVALID); g(E.MODE_INVALID);\n"
    assert errcodes.generate(text).splitlines()[2] == "  var E = {MODE_INVALID: 21500, ORDER_ID_INVALID: 21522};"
    with pytest.raises(KeyError):
        errcodes.generate(text.replace("E.MODE_INVALID", "E.NO_SUCH_ERROR"))
