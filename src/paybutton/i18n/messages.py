"""`make messages`: extract every text from the code, templates and browser scripts, and update the catalogs.

    python -m paybutton.i18n.messages          # extract + update both .po files (new texts get an empty msgstr,
                                               # English ones are filled with the msgid)
    python -m paybutton.i18n.messages --check  # what tests/unit/test_catalogs.py checks; exit 1 with a list

Where texts are found (one place, used by the check too):
- Python under src/paybutton: N_("…") (a table entry, translated where shown), gettext(lang, "…"),
  pgettext(lang, "context", "…");
- Jinja templates (*/templates/*.html): {% trans %}…{% endtrans %}, _("…"), gettext("…"), pgettext("ctx", "…");
- the browser scripts (pages/static/*.js): L('…')."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog as BabelCatalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from paybutton.i18n.catalogs import FOLDERS, po_path

STAMP = datetime(2026, 12, 7, tzinfo=UTC)
PACKAGE = Path(__file__).resolve().parent.parent
SCRIPTS = ("pages/static/pages.js", "pages/static/pay-button.js")

PY_KEYWORDS: dict[str, Any] = {"N_": None, "NP_": ((1, "c"), 2), "gettext": (2,), "pgettext": ((2, "c"), 3)}
JINJA_KEYWORDS: dict[str, Any] = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}
JS_KEYWORDS: dict[str, Any] = {"L": None}
RUNS: list[tuple[list[tuple[str, str]], dict[str, Any], dict[str, dict[str, Any]]]] = [
    ([("i18n/**.py", "ignore"), ("locale/**", "ignore"), ("**.py", "python")], PY_KEYWORDS, {}),
    ([("**/templates/**.html", "jinja2")], JINJA_KEYWORDS, {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}),
    ([(p, "javascript") for p in SCRIPTS], JS_KEYWORDS, {}),
]


def extract() -> BabelCatalog:
    """Every msgid the code uses, with where (file:line)."""
    cat = BabelCatalog(project="paybutton", charset="utf-8")
    for method_map, keywords, options in RUNS:
        for filename, lineno, message, comments, context in extract_from_dir(
            str(PACKAGE), method_map, options, keywords
        ):
            cat.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return cat


def read(lang: str) -> BabelCatalog:
    with po_path(lang).open("rb") as f:
        return read_po(f, locale=FOLDERS[lang])


def update() -> None:
    template = extract()
    for lang in FOLDERS:
        path = po_path(lang)
        if path.exists():
            cat = read(lang)
            cat.update(template, no_fuzzy_matching=True)
        else:
            cat = BabelCatalog(locale=FOLDERS[lang], project="paybutton", charset="utf-8")
            cat.update(template, no_fuzzy_matching=True)
        cat.obsolete.clear()  # a text the code no longer uses leaves the catalog
        cat.fuzzy = False
        cat.creation_date = cat.revision_date = STAMP  # no date churn in git: the .po changes when a text does
        if lang == "en":
            for m in cat:
                if m.id and not m.string:
                    m.string = m.id
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            write_po(f, cat, width=120, sort_output=True, include_lineno=False)


# where the msgid stands among a marker's arguments (a variable there is a text no catalog can hold)
MSGID_ARG = {"N_": 0, "NP_": 1, "gettext": 1, "pgettext": 2}


def unreadable() -> Iterator[str]:
    """Calls of N_/NP_/gettext/pgettext in Python whose msgid (or context) is not written as a string: the extractor
    skips them, so their text would silently stay untranslated."""
    for path in sorted(PACKAGE.rglob("*.py")):
        if "i18n" in path.relative_to(PACKAGE).parts:  # (not the checkout's own path: a folder may be named i18n)
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name not in MSGID_ARG or (name in ("gettext", "pgettext") and len(node.args) <= MSGID_ARG[name]):
                continue  # gettext(x) with one argument is another gettext (a catalog's own), not ours
            args = node.args[: MSGID_ARG[name] + 1][-2 if name in ("NP_", "pgettext") else -1:]
            # a table lookup (gettext(lang, TEXTS[key])) reads a table whose values are N_/NP_ markers, checked there
            lookup = name in ("gettext", "pgettext") and isinstance(args[-1], ast.Subscript)
            if not lookup and not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
                yield f"{path.relative_to(PACKAGE)}:{node.lineno}: {name}() needs its text written as a string"


def problems() -> Iterator[str]:
    """Every reason the catalogs are not complete: a text used in code but in no catalog, an empty or fuzzy
    translation, a catalog entry the code does not use, a marker whose text the extractor cannot read."""
    yield from unreadable()
    used = {(m.context, m.id) for m in extract() if m.id}
    for lang in FOLDERS:
        cat = read(lang)
        have = {(m.context, m.id): m for m in cat if m.id}
        for key in sorted(used - have.keys(), key=str):
            yield f"{lang}: missing {key[1]!r}" + (f" (context {key[0]!r})" if key[0] else "")
        for key, m in sorted(have.items(), key=str):
            if m.fuzzy:
                yield f"{lang}: fuzzy {m.id!r}"
            elif not m.string:
                yield f"{lang}: untranslated {m.id!r}"
            if key not in used:
                yield f"{lang}: unused {m.id!r}"


def main(argv: list[str]) -> int:
    if "--check" in argv:
        found = list(problems())
        for p in found:
            print(p)
        return 1 if found else 0
    update()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
