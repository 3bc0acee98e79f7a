"""One console request (`Console`): its session, the signed-in app, the language, and how it answers: a page
rendered from the templates, a redirect, the console's 404 or 403. Plus the small readers every page uses."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import QueryParams

from paybutton import i18n
from paybutton.apps import service as app_service
from paybutton.console import forms, words
from paybutton.console import session as sess
from paybutton.console.queries import MAX_PAGE_NO
from paybutton.console.texts import TEXTS
from paybutton.context import Ctx

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.add_extension("jinja2.ext.i18n")
templates.env.filters["yuan"] = lambda fen: "" if fen is None else "¥" + forms.fen_to_yuan(int(fen))
templates.env.filters["time"] = forms.show_time
templates.env.filters["word"] = words.word
templates.env.filters["event_text"] = words.event_text
templates.env.filters["refund_message"] = words.refund_message
templates.env.tests["match_color"] = lambda v: isinstance(v, str) and app_service.COLOR_RE.fullmatch(v) is not None

OK_KEYS = frozenset({"created", "saved", "audited", "replayed", "settings_saved", "password_saved", "pay_saved"})
MAX_ID = 2**62  # callback ids and cursors the console reads from its addresses


@dataclass
class Console:
    """One console request: the session, the signed-in app (None on the sign-in page) and the language."""

    request: Request
    ctx: Ctx
    session: sess.Session
    app: Mapping[str, Any] | None
    lang: str

    @property
    def t(self) -> Mapping[str, str]:
        return i18n.table(TEXTS, self.lang)

    @property
    def app_id(self) -> str:
        assert self.app is not None
        return str(self.app["app_id"])

    @property
    def signed_app(self) -> Mapping[str, Any]:
        assert self.app is not None
        return self.app

    @property
    def query(self) -> QueryParams:
        return self.request.query_params

    def _finish(self, response: Response) -> Response:
        if self.session.dirty:
            sess.save(self.request, self.ctx, self.session, response)
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        return response

    def render(self, template: str, http_status: int = 200, **data: Any) -> Response:
        ok = self.request.query_params.get("ok", "")
        context = {**i18n.jinja_context(self.lang), "c": self, "t": self.t, "lang": self.lang, "app": self.app,
                   "csrf": self.session.csrf,
                   "path": self.request.url.path, "query": str(self.request.url.query),
                   "ok_text": self.t[ok] if ok in OK_KEYS else "", **data}
        return self._finish(templates.TemplateResponse(self.request, template, context, status_code=http_status))

    def redirect(self, url: str) -> Response:
        return self._finish(RedirectResponse(url, status_code=303))

    def not_found(self) -> Response:
        return self.render("message.html", 404, title=self.t["not_found"], text=self.t["not_found_text"])

    def forbidden(self) -> Response:
        return self.render("message.html", 403, title="403", text=self.t["csrf_bad"])


def safe_next(value: str | None) -> str:
    """Only a console path of ours: never an open redirect."""
    if value and value.startswith("/console") and "//" not in value and "\\" not in value:
        return value
    return "/console"


def now_ms() -> int:
    """Sign-ins expire on the wall clock, as their cookie does (not on the trade clock, which tests move)."""
    return int(time.time() * 1000)


def number(value: str | None, default: int, low: int = 1, high: int = MAX_PAGE_NO) -> int:
    """A whole number from an address or form, within [low, high]; else `default`."""
    try:
        n = int(value or "")
    except ValueError:
        return default
    return n if low <= n <= high else default


def cursor_of(c: Console) -> int | None:
    return number(c.query.get("cursor"), 0, 1, MAX_ID) or None


def choice(value: str, allowed: tuple[str, ...]) -> str:
    """`value` when it is one of `allowed`, else "" (no filter)."""
    return value if value in allowed else ""


def pager(params: dict[str, str]) -> Callable[..., str]:
    """The templates' link(page=…) / link(cursor=…): this list's address with its filters kept."""
    kept = {k: v for k, v in params.items() if v}

    def link(**changes: Any) -> str:
        return "?" + urlencode({**kept, **{k: str(v) for k, v in changes.items()}})

    return link


def fold(errors: dict[str, str], shown: frozenset[str]) -> dict[str, str]:
    """Errors of fields the form does not show go to the form's summary."""
    return {(k if k in shown else ""): v for k, v in errors.items()}
