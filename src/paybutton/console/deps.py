"""The console's dependencies: `Visitor` (any console request), `SignedIn` (a signed-in app, else the redirect to
sign in), `Form` / `VisitorForm` (a POSTed form whose CSRF token holds, else the 403 page). A dependency that
refuses raises `EarlyAnswer`; `ConsoleRoute`, the route class of every console router, turns it into the answer,
so a handler never checks."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.datastructures import FormData

from paybutton import audit, i18n
from paybutton.config import DEMO_APP_ID
from paybutton.console import queries
from paybutton.console import session as sess
from paybutton.console.page import Console, now_ms
from paybutton.context import Ctx, CtxDep


class EarlyAnswer(Exception):
    """The answer a dependency gives instead of the page: the redirect to sign in, or the 403 of a bad token."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class ConsoleRoute(APIRoute):
    """A console route: an EarlyAnswer raised while it runs (its dependencies included) is the answer."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except EarlyAnswer as e:
                return e.response

        return answer


def console_router() -> APIRouter:
    return APIRouter(tags=["console"], include_in_schema=False, route_class=ConsoleRoute)


async def _load(request: Request, ctx: Ctx, *, need_app: bool) -> Console:
    """The console of this request. In demo mode an anonymous visitor is signed in to the demo app by itself;
    elsewhere only the app's password or key signs in."""
    await ctx.fresh_signer()  # the session cookie's secret follows the platform key
    session = sess.load(request, ctx)
    lang = i18n.lang_of_request(request, sess.LANG_COOKIE)
    app = None
    wanted = session.app_id or (DEMO_APP_ID if ctx.settings.demo and need_app else None)
    if wanted:
        now = now_ms()
        found = await queries.find_app(ctx, wanted, session.sid if session.app_id else None, now)
        if found is not None:
            live = found.live
            if session.app_id is None:  # the demo sign-in
                sid = await queries.start_sign_in(ctx, wanted, now)
                session.app_id, session.fp, session.sid, session.dirty, live = wanted, found.fp, sid, True, True
            if live and session.fp == found.fp:
                app = found.view
        if app is None and session.app_id is not None:
            session.app_id, session.fp, session.sid, session.dirty = None, None, None, True
    return Console(request, ctx, session, app, lang)


async def visitor(request: Request, ctx: CtxDep) -> Console:
    """Any console request, signed in or not (the sign-in pages)."""
    return await _load(request, ctx, need_app=False)


async def signed_in(request: Request, ctx: CtxDep) -> Console:
    """A signed-in console; else the redirect to sign in, back to this page (a GET) or to the dashboard."""
    c = await _load(request, ctx, need_app=True)
    if c.app is None:
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        nxt = back if request.method == "GET" else "/console"
        raise EarlyAnswer(c.redirect("/console/login?" + urlencode({"next": nxt})))
    audit.acting(audit.console_actor(c.app_id))  # every change this request makes is recorded as the session's app
    return c


Visitor = Annotated[Console, Depends(visitor)]
SignedIn = Annotated[Console, Depends(signed_in)]


async def _checked(c: Console) -> FormData:
    form = await c.request.form()
    token = form.get("csrf")
    if not sess.csrf_ok(c.session, token if isinstance(token, str) else None):
        raise EarlyAnswer(c.forbidden())
    return form


async def signed_in_form(c: SignedIn) -> FormData:
    """The POSTed form of a signed-in console, its CSRF token checked."""
    return await _checked(c)


async def visitor_form(c: Visitor) -> FormData:
    """The POSTed form of a sign-in page, its CSRF token checked."""
    return await _checked(c)


Form = Annotated[FormData, Depends(signed_in_form)]
VisitorForm = Annotated[FormData, Depends(visitor_form)]


async def sign_in(c: Console, creds: queries.Credentials) -> None:
    """Make this request's session a new sign-in of the app (a new CSRF token and a new console_sessions row)."""
    sid = await queries.start_sign_in(c.ctx, creds.app_id, now_ms())
    c.session = sess.Session(app_id=creds.app_id, fp=sess.fingerprint(creds.secret, creds.password_hash), sid=sid,
                             dirty=True)
