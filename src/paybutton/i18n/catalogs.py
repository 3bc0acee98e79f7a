"""The gettext catalogs, read once per process from the .po files in src/paybutton/locale/<lang>/LC_MESSAGES/
with Babel (no compiled .mo to keep in step: the .po in git is what runs, in a checkout and in a wheel alike).
Reading both catalogs takes a few milliseconds, on first use."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
FOLDERS = {"zh-CN": "zh_CN", "en": "en"}


def po_path(lang: str) -> Path:
    return LOCALE_DIR / FOLDERS[lang] / "LC_MESSAGES" / f"{DOMAIN}.po"


class Catalog:
    """One language's texts: gettext semantics (a missing or empty text falls back to the msgid)."""

    def __init__(self, lang: str, texts: dict[tuple[str | None, str], str | tuple[str, ...]]) -> None:
        self.lang = lang
        self._texts = texts

    def pgettext(self, context: str | None, msgid: str) -> str:
        found = self._texts.get((context, msgid))
        if isinstance(found, tuple):
            found = found[0]
        return found or msgid

    def gettext(self, msgid: str) -> str:
        context, sep, text = msgid.partition("\x04")  # NP_'s form
        return self.pgettext(context, text) if sep else self.pgettext(None, msgid)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        found = self._texts.get((None, singular))
        forms = found if isinstance(found, tuple) else ()
        if self.lang == "en" or not forms:
            i = 0 if n == 1 else 1
            return (forms[i] if len(forms) > i and forms[i] else None) or (singular if n == 1 else plural)
        return forms[0] or singular  # Chinese has one form


def load(lang: str) -> Catalog:
    with po_path(lang).open("rb") as f:
        cat = read_po(f, locale=FOLDERS[lang])
    texts: dict[tuple[str | None, str], str | tuple[str, ...]] = {}
    for m in cat:
        if not m.id or m.fuzzy:
            continue
        key = m.id[0] if isinstance(m.id, tuple | list) else m.id
        texts[(m.context, key)] = tuple(m.string) if isinstance(m.string, tuple | list) else (m.string or "")
    return Catalog(lang, texts)


@cache
def catalog(lang: str) -> Catalog:
    return load(lang)
