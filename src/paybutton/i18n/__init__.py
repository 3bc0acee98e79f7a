"""Every person-facing text in one of two languages, and the one language choice for every surface.

The language (`choose`): the `lang` query parameter, then the surface's cookie (the console's), then the
Accept-Language header (in its q order), then zh-CN. "en…" is English, "zh…" Chinese; any other value is not a
choice and the next source decides. The texts live in gettext catalogs under `src/paybutton/locale/` (English
msgids; `make messages` extracts and updates them, `tests/unit/test_catalogs.py` checks them), read once per
process from the .po files with Babel. How to add a text: docs/architecture.md, "Texts and languages"."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from paybutton.i18n.catalogs import Catalog, catalog

LANGS = ("zh-CN", "en")
DEFAULT = "zh-CN"
Scope = Mapping[str, Any]


def code_of(value: str | None) -> str | None:
    """"en" or "zh-CN" for a value that names one of them ("en-US", "zh", "zh-Hans-CN"), else None."""
    v = (value or "").strip().lower()
    if v.startswith("en"):
        return "en"
    if v.startswith("zh"):
        return "zh-CN"
    return None


def from_accept_language(header: str | None) -> str | None:
    """The first of our languages in an Accept-Language header, highest q first (equal q: the header's order)."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            k, _, v = p.strip().partition("=")
            if k.strip() == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        code = code_of(tag)
        if code and q > 0:
            ranked.append((-q, i, code))
    return min(ranked)[2] if ranked else None


def choose(query: str | None = None, cookie: str | None = None, accept_language: str | None = None) -> str:
    """The one language choice: query `lang`, then the surface's cookie, then Accept-Language, then zh-CN."""
    return code_of(query) or code_of(cookie) or from_accept_language(accept_language) or DEFAULT


def lang_of_scope(scope: Scope, cookie: str | None = None) -> str:
    """`choose` for an ASGI scope (`cookie`: the value of the surface's language cookie, if it has one)."""
    query = None
    for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
        if k == "lang":
            query = v  # the last one, as Starlette's query_params.get
    accept = None
    for k, v in scope.get("headers", ()):
        if k.lower() == b"accept-language":
            accept = v.decode("latin-1")
            break
    return choose(query, cookie, accept)


def lang_of_request(request: Any, cookie_name: str | None = None) -> str:
    """`choose` for a Starlette request; `cookie_name`: the surface's language cookie."""
    return lang_of_scope(request.scope, request.cookies.get(cookie_name) if cookie_name else None)


def N_(msgid: str) -> str:
    """Marks a text for the catalogs where it is defined; `gettext` translates it where it is shown."""
    return msgid


def NP_(context: str, msgid: str) -> str:
    """`N_` with a context, for a text whose English is another text's with a different meaning: gettext's
    "context\x04msgid" form, which `gettext` understands."""
    return f"{context}\x04{msgid}"


def tr(lang: str) -> Catalog:
    """The catalog of a language (an unknown code: the default's)."""
    return catalog(lang if lang in LANGS else DEFAULT)


def gettext(lang: str, msgid: str) -> str:
    return tr(lang).gettext(msgid)


def pgettext(lang: str, context: str, msgid: str) -> str:
    return tr(lang).pgettext(context, msgid)


@lru_cache(maxsize=64)
def _table(items: tuple[tuple[Any, str], ...], lang: str) -> Mapping[Any, str]:
    c = tr(lang)
    return {k: c.gettext(v) for k, v in items}


def table(keys: Mapping[Any, str], lang: str) -> Mapping[Any, str]:
    """A module's key -> msgid table in one language (cached per table and language)."""
    return _table(tuple(keys.items()), lang)


def both(msgid: str) -> dict[str, str]:
    """A text in every language, {"zh-CN": …, "en": …} (for payloads that carry both)."""
    return {lang: gettext(lang, msgid) for lang in LANGS}


def jinja_context(lang: str) -> dict[str, Any]:
    """What Jinja2's i18n extension calls in a template rendered in `lang`: _(), gettext, ngettext, pgettext."""
    c = tr(lang)
    return {"_": c.gettext, "gettext": c.gettext, "ngettext": c.ngettext, "pgettext": c.pgettext, "lang": lang}


@lru_cache(maxsize=8)
def script_msgids(path: str) -> tuple[str, ...]:
    """The msgids a browser script asks for with L('…'), read from the script once per process."""
    from babel.messages.extract import extract  # only here: the server never extracts anything else

    with open(path, "rb") as f:
        return tuple(sorted({str(m[1]) for m in extract("javascript", f, keywords={"L": None}) if m[1]}))


def script_texts(path: str, lang: str) -> dict[str, str]:
    """The texts of a browser script (`script_msgids`) in one language, {msgid: text}, for its page's boot data."""
    c = tr(lang)
    return {m: c.gettext(m) for m in script_msgids(path)}
