"""The console's sign-in pages: signing in with the app's password or key (throttled), signing out, and the
language switch."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from paybutton import i18n
from paybutton.config import DEMO_APP_ID
from paybutton.console import queries
from paybutton.console import session as sess
from paybutton.console.deps import Visitor, VisitorForm, console_router, sign_in
from paybutton.console.forms import text
from paybutton.console.page import Console, safe_next

router = console_router()


def _throttle(request: Request) -> sess.Throttle:
    state = request.app.state
    t: sess.Throttle | None = getattr(state, "console_throttle", None)
    if t is None:
        t = state.console_throttle = sess.Throttle()
    return t


def _login_form(c: Console, status: int = 200, *, app_id: str = "", error: str = "", nxt: str) -> Response:
    return c.render("login.html", status, app_id_value=app_id, error=error, next=nxt,
                    demo=c.ctx.settings.demo, demo_app=DEMO_APP_ID)


@router.get("/console/login", response_class=HTMLResponse)
async def login_page(c: Visitor) -> Response:
    nxt = safe_next(c.query.get("next"))
    if c.app is not None:
        return c.redirect(nxt)
    return _login_form(c, nxt=nxt)


@router.post("/console/login", response_class=HTMLResponse)
async def login(c: Visitor, form: VisitorForm) -> Response:
    app_id, password, nxt = text(form, "app_id"), form.get("password"), safe_next(text(form, "next"))
    secret = password if isinstance(password, str) else ""
    request = c.request
    throttle, key = _throttle(request), (request.client.host if request.client else "-", app_id[:32])
    wait = throttle.attempt(key)  # counted before the password check, so parallel guesses count too
    if wait:
        return _login_form(c, 429, app_id=app_id, error=c.t["throttled"].format(s=wait), nxt=nxt)
    creds = await queries.credentials(c.ctx, app_id) if app_id and len(app_id) <= 32 else None
    if creds is None or not await sess.check_credentials(creds.secret, creds.password_hash, secret):
        return _login_form(c, 401, app_id=app_id, error=c.t["bad_login"], nxt=nxt)
    throttle.succeeded(key)
    await sign_in(c, creds)
    return c.redirect(nxt)


@router.post("/console/logout")
async def logout(c: Visitor, form: VisitorForm) -> Response:
    if c.session.app_id is not None and c.session.sid is not None:  # the cookie, copied or not, signs in no more
        await queries.end_sign_in(c.ctx, c.session.app_id, c.session.sid)
    c.session = sess.Session(dirty=True)
    return c.redirect("/console/login")


@router.get("/console/lang/{code}")
async def switch_lang(code: str, request: Request) -> Response:
    # the page the switch came from, without its ?lang= (which would win over the cookie: i18n.choose)
    path, _, query = safe_next(request.query_params.get("next")).partition("?")
    rest = urlencode([(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "lang"])
    resp = RedirectResponse(path + (f"?{rest}" if rest else ""), status_code=303)
    resp.set_cookie(sess.LANG_COOKIE, i18n.code_of(code) or i18n.DEFAULT, max_age=365 * 86400, path="/console",
                    samesite="lax")
    return resp
