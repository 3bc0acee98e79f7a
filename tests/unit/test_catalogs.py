"""The texts (issue 18 item 14): every msgid the code, templates and scripts use is in both catalogs with a
translation that is neither empty nor fuzzy, and no catalog keeps a text nobody uses. The check is the one
`python -m paybutton.i18n.messages --check` runs; `make messages` brings the catalogs up to date."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from paybutton.i18n import catalogs, messages


def test_every_text_is_in_every_language() -> None:
    found = list(messages.problems())
    assert not found, "run `make messages`, then translate:\n" + "\n".join(found)


def test_the_check_sees_untranslated_fuzzy_and_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check itself can fail: a copy of the catalogs with one msgstr emptied, one marked fuzzy and one entry
    removed gives exactly those three problems."""
    for lang, folder in catalogs.FOLDERS.items():
        dst = tmp_path / folder / "LC_MESSAGES" / "messages.po"
        dst.parent.mkdir(parents=True)
        with catalogs.po_path(lang).open("rb") as f:
            cat = read_po(f, locale=folder)
        if lang == "zh-CN":
            ids = sorted(m.id for m in cat if m.id and not m.context)
            cat[ids[0]].string = ""
            cat[ids[1]].flags.add("fuzzy")
            cat.delete(ids[2])
        with dst.open("wb") as f:
            write_po(f, cat)
    monkeypatch.setattr(catalogs, "LOCALE_DIR", tmp_path)
    found = list(messages.problems())
    assert len(found) == 3, found
    assert sorted(p.split(" ")[1] for p in found) == ["fuzzy", "missing", "untranslated"], found


def test_catalogs_load_fast_and_translate() -> None:
    catalogs.catalog.cache_clear()
    t0 = time.perf_counter()
    zh, en = catalogs.catalog("zh-CN"), catalogs.catalog("en")
    assert time.perf_counter() - t0 < 0.5  # start-up stays fast: both .po files read with Babel
    assert zh.gettext("Pay now") == "立即支付" and en.gettext("Pay now") == "Pay now"
    assert zh.gettext("console\x04Paid") != zh.gettext("Paid")  # a context keeps two meanings apart
    assert zh.gettext("a text no catalog has") == "a text no catalog has"


def test_a_marker_whose_text_is_not_a_string_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """{f: NP_("goods field", f) for f in …} extracts nothing: the check says where instead of leaving it English."""
    (tmp_path / "mod.py").write_text('FIELDS = {f: NP_("goods field", f) for f in ("a", "b")}\n'
                                     'OK = N_("fine")\n'
                                     'def t(lang, name):\n    return gettext(lang, name), c.gettext(name)\n')
    monkeypatch.setattr(messages, "PACKAGE", tmp_path)
    assert list(messages.unreadable()) == ["mod.py:1: NP_() needs its text written as a string",
                                           "mod.py:4: gettext() needs its text written as a string"]
