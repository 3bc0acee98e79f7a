"""The merchant console at /console: sign-in, dashboard, goods, orders, refunds and their audit, voucher
verification, the callback log and attempts, settings and the app secret. Server-rendered; forms POST and
redirect."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.staticfiles import StaticFiles

from paybutton.apps import service as app_service
from paybutton.callbacks import ops
from paybutton.callbacks.schedules import SCHEDULES
from paybutton.cashier import payconfig
from paybutton.config import DEMO_APP_ID
from paybutton.console import forms, queries, words
from paybutton.console import session as sess
from paybutton.console.texts import TEXTS, lang_of
from paybutton.context import Ctx, CtxDep
from paybutton.errors import TradeError
from paybutton.fulfillment import service as fulfillment
from paybutton.goods import rules as goods_rules
from paybutton.goods import service as goods_service
from paybutton.order.states import ItemStatus, OrderStatus
from paybutton.refund.auditing import merchant_audit
from paybutton.refund.rules import AuditStatus, RefundStatus
from paybutton.refund.settling import nudge
from paybutton.tables import apps, item_orders

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["yuan"] = lambda fen: "" if fen is None else "¥" + forms.fen_to_yuan(int(fen))
templates.env.filters["time"] = forms.show_time
templates.env.filters["word"] = words.word
templates.env.filters["event_text"] = words.event_text
templates.env.filters["refund_message"] = words.refund_message
templates.env.tests["match_color"] = lambda v: isinstance(v, str) and app_service.COLOR_RE.fullmatch(v) is not None

router = APIRouter(tags=["console"], include_in_schema=False)
router.mount("/console/static", StaticFiles(directory=str(HERE / "static")), name="console-static")

OK_KEYS = frozenset({"created", "saved", "audited", "replayed", "settings_saved", "password_saved", "pay_saved"})
ORDER_STATUSES = tuple(s.value for s in OrderStatus)
REFUND_STATUSES = tuple(s.value for s in RefundStatus)
AUDIT_STATUSES = tuple(s.value for s in AuditStatus)
CALLBACK_TYPES = tuple(SCHEDULES)
SYNC_TYPES = tuple(queries.SYNC_EVENTS)  # the synchronous merchant calls: pre_create_order and the marketing ones
ATTEMPT_TYPES = (*SYNC_TYPES, *(k for k in CALLBACK_TYPES if k not in SYNC_TYPES))
MAX_DENY_MESSAGE = 200


@dataclass
class Console:
    """One console request: the session, the signed-in app (None on the sign-in page) and the language."""

    request: Request
    ctx: Ctx
    session: sess.Session
    app: app_service.AppRow | None
    lang: str

    @property
    def t(self) -> dict[str, str]:
        return TEXTS[self.lang]

    @property
    def app_id(self) -> str:
        assert self.app is not None
        return str(self.app["app_id"])

    def _finish(self, response: Response) -> Response:
        if self.session.dirty:
            sess.save(self.request, self.ctx, self.session, response)
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        return response

    def render(self, template: str, http_status: int = 200, **data: Any) -> Response:
        ok = self.request.query_params.get("ok", "")
        context = {"c": self, "t": self.t, "lang": self.lang, "app": self.app, "csrf": self.session.csrf,
                   "path": self.request.url.path, "query": str(self.request.url.query),
                   "ok_text": self.t[ok] if ok in OK_KEYS else "", **data}
        return self._finish(templates.TemplateResponse(self.request, template, context, status_code=http_status))

    def redirect(self, url: str) -> Response:
        return self._finish(RedirectResponse(url, status_code=303))

    def not_found(self) -> Response:
        return self.render("message.html", 404, title=self.t["not_found"], text=self.t["not_found_text"])

    def forbidden(self) -> Response:
        return self.render("message.html", 403, title="403", text=self.t["csrf_bad"])


def _safe_next(value: str | None) -> str:
    """Only a console path of ours: never an open redirect."""
    if value and value.startswith("/console") and "//" not in value and "\\" not in value:
        return value
    return "/console"


async def _open(request: Request, ctx: Ctx, *, need_app: bool = True) -> Console | Response:
    """The console for this request, or a redirect to sign in. In demo mode an anonymous visitor is signed in to
    the demo app by itself; elsewhere only the app's password or key signs in."""
    await ctx.fresh_signer()  # the session cookie's secret follows the platform key
    session = sess.load(request, ctx)
    lang = lang_of(request.cookies.get(sess.LANG_COOKIE) or request.query_params.get("lang"))
    app = None
    wanted = session.app_id or (DEMO_APP_ID if ctx.settings.demo and need_app else None)
    if wanted:
        now = _now_ms()
        async with ctx.db.engine.connect() as conn:
            row = (await conn.execute(select(apps).where(apps.c.app_id == wanted))).first()
            live = session.app_id is not None and await sess.alive(conn, session.sid, wanted, now)
        if row is not None:
            fp = sess.fingerprint(row.secret, row.console_password_hash)
            if session.app_id is None:  # the demo sign-in
                async with ctx.db.tx() as conn:
                    sid = await sess.start(conn, wanted, now)
                session.app_id, session.fp, session.sid, session.dirty, live = wanted, fp, sid, True, True
            if live and session.fp == fp:
                app = app_service.app_view(row)
        if app is None and session.app_id is not None:
            session.app_id, session.fp, session.sid, session.dirty = None, None, None, True
    c = Console(request, ctx, session, app, lang)
    if need_app and app is None:
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return c.redirect("/console/login?" + urlencode({"next": back if request.method == "GET" else "/console"}))
    return c


async def _post(request: Request, ctx: Ctx, *, need_app: bool = True) -> tuple[Console, FormData] | Response:
    """A form POST: the console plus the form, or the page that refuses it (signed out, or a bad CSRF token)."""
    c = await _open(request, ctx, need_app=need_app)
    if isinstance(c, Response):
        return c
    form = await request.form()
    token = form.get("csrf")
    if not sess.csrf_ok(c.session, token if isinstance(token, str) else None):
        return c.forbidden()
    return c, form


def _now_ms() -> int:
    """Sign-ins expire on the wall clock, as their cookie does (not on the trade clock, which tests move)."""
    return int(time.time() * 1000)


def _throttle(request: Request) -> sess.Throttle:
    state = request.app.state
    t: sess.Throttle | None = getattr(state, "console_throttle", None)
    if t is None:
        t = state.console_throttle = sess.Throttle()
    return t


async def _signed_in(c: Console, app_id: str, secret: str, password_hash: str | None) -> None:
    """Make this request's session a new sign-in of the app (a new CSRF token and a new console_sessions row)."""
    async with c.ctx.db.tx() as conn:
        sid = await sess.start(conn, app_id, _now_ms())
    c.session = sess.Session(app_id=app_id, fp=sess.fingerprint(secret, password_hash), sid=sid, dirty=True)


def _int(value: str | None, default: int, low: int = 1, high: int = queries.MAX_PAGE_NO) -> int:
    try:
        n = int(value or "")
    except ValueError:
        return default
    return n if low <= n <= high else default


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


# ------------------------------------------------------------------ sign-in


@router.get("/console/login", response_class=HTMLResponse)
async def login_page(request: Request, ctx: CtxDep) -> Response:
    c = await _open(request, ctx, need_app=False)
    assert isinstance(c, Console)
    if c.app is not None:
        return c.redirect(_safe_next(request.query_params.get("next")))
    return c.render("login.html", app_id_value="", error="", next=_safe_next(request.query_params.get("next")),
                    demo=ctx.settings.demo, demo_app=DEMO_APP_ID)


@router.post("/console/login", response_class=HTMLResponse)
async def login(request: Request, ctx: CtxDep) -> Response:
    got = await _post(request, ctx, need_app=False)
    if isinstance(got, Response):
        return got
    c, form = got
    app_id, password, nxt = _text(form, "app_id"), form.get("password"), _safe_next(_text(form, "next"))
    secret = password if isinstance(password, str) else ""
    throttle, key = _throttle(request), (request.client.host if request.client else "-", app_id[:32])
    wait = throttle.attempt(key)  # counted before the password check, so parallel guesses count too
    if wait:
        return c.render("login.html", 429, app_id_value=app_id, error=c.t["throttled"].format(s=wait), next=nxt,
                        demo=ctx.settings.demo, demo_app=DEMO_APP_ID)
    row = None
    if app_id and len(app_id) <= 32:
        async with ctx.db.engine.connect() as conn:
            row = (await conn.execute(select(apps.c.secret, apps.c.console_password_hash)
                                      .where(apps.c.app_id == app_id))).first()
    if row is None or not await sess.check_credentials(row.secret, row.console_password_hash, secret):
        return c.render("login.html", 401, app_id_value=app_id, error=c.t["bad_login"], next=nxt,
                        demo=ctx.settings.demo, demo_app=DEMO_APP_ID)
    throttle.succeeded(key)
    await _signed_in(c, app_id, row.secret, row.console_password_hash)
    return c.redirect(nxt)


@router.post("/console/logout")
async def logout(request: Request, ctx: CtxDep) -> Response:
    got = await _post(request, ctx, need_app=False)
    if isinstance(got, Response):
        return got
    c, _ = got
    if c.session.app_id is not None and c.session.sid is not None:
        async with ctx.db.tx() as conn:  # the cookie, copied or not, signs in no more
            await sess.end(conn, c.session.app_id, sid=c.session.sid)
    c.session = sess.Session(dirty=True)
    return c.redirect("/console/login")


@router.get("/console/lang/{code}")
async def switch_lang(code: str, request: Request) -> Response:
    resp = RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
    resp.set_cookie(sess.LANG_COOKIE, lang_of(code), max_age=365 * 86400, path="/console", samesite="lax")
    return resp


# ------------------------------------------------------------------ dashboard


@router.get("/console", response_class=HTMLResponse)
async def dashboard(request: Request, ctx: CtxDep) -> Response:
    c = await _open(request, ctx)
    if isinstance(c, Response):
        return c
    async with ctx.db.engine.connect() as conn:
        stats = await queries.dashboard(conn, c.app_id, ctx.clock.now_ms())
    return c.render("dashboard.html", nav="dashboard", stats=stats)


# ------------------------------------------------------------------ goods


@router.get("/console/goods", response_class=HTMLResponse)
async def goods_list(request: Request, ctx: CtxDep) -> Response:
    c = await _open(request, ctx)
    if isinstance(c, Response):
        return c
    qp = request.query_params
    shelf_arg = qp.get("shelf", "")
    shelf = {"on": True, "off": False}.get(shelf_arg)
    q = qp.get("q", "").strip()[:64]
    page_no = _int(qp.get("page"), 1)
    async with ctx.db.engine.connect() as conn:
        page = await queries.goods_page(conn, c.app_id, ctx.clock.now_ms(), shelf=shelf, q=q, page=page_no,
                                        lang=c.lang)
    return c.render("goods_list.html", nav="goods", page=page, q=q, shelf=shelf_arg if shelf is not None else "",
                    link=_pager({"shelf": shelf_arg if shelf is not None else "", "q": q}))


def _pager(params: dict[str, str]) -> Any:
    kept = {k: v for k, v in params.items() if v}

    def link(**changes: Any) -> str:
        return "?" + urlencode({**kept, **{k: str(v) for k, v in changes.items()}})

    return link


GOODS_FIELDS = frozenset({"goods_id", "name", "photo_url", "price", "stock", "sale_start", "sale_end", "labels",
                          "limits", "date_rule", "valid_days", "phone_required", "on_shelf"})
SETTINGS_FIELDS = frozenset({*app_service.URL_FIELDS, "origins", "audit_hours", "pay_expire", "radius", "bg_color",
                             "font_color", "theme", "new_password", "console_password", "rotate"})


def _fold(errors: dict[str, str], shown: frozenset[str]) -> dict[str, str]:
    """Errors of fields the form does not show go to the form's summary."""
    return {(k if k in shown else ""): v for k, v in errors.items()}


def _goods_form(c: Console, values: dict[str, Any], errors: dict[str, str], status: int = 200) -> Response:
    errors = _fold(errors, GOODS_FIELDS)
    return c.render("goods_form.html", status, nav="goods", v=values, errors=errors, first=words.first_slot(errors),
                    label_types=goods_rules.LABEL_TYPES, value_labels=goods_rules.VALUE_LABELS,
                    label_text={t: goods_rules.label_text({"type": t, "value": "x"}, c.lang)
                                for t in goods_rules.LABEL_TYPES})


@router.get("/console/goods/new", response_class=HTMLResponse)
async def goods_new_page(request: Request, ctx: CtxDep) -> Response:
    c = await _open(request, ctx)
    if isinstance(c, Response):
        return c
    return _goods_form(c, forms.new_goods_form(), {})


@router.post("/console/goods/new", response_class=HTMLResponse)
async def goods_create(request: Request, ctx: CtxDep) -> Response:
    got = await _post(request, ctx)
    if isinstance(got, Response):
        return got
    c, form = got
    values = forms.goods_values(form, creating=True)
    read = forms.goods_read(values)
    errors = words.goods_form_errors(values, c.lang, read)  # every error at once, before anything is written
    if errors:
        return _goods_form(c, values, errors, 400)
    try:
        async with ctx.db.tx() as conn:
            await goods_service.create_goods(conn, ctx.clock, app_id=c.app_id, goods_id=values["goods_id"], **read[0])
    except TradeError as e:
        return _goods_form(c, values, words.trade_errors(e, c.lang, forms.field_of(e)), 400)
    return c.redirect(f"/console/goods/{values['goods_id']}/edit?ok=created")


@router.get("/console/goods/{goods_id}/edit", response_class=HTMLResponse)
async def goods_edit_page(goods_id: str, request: Request, ctx: CtxDep) -> Response:
    c = await _open(request, ctx)
    if isinstance(c, Response):
        return c
    try:
        async with ctx.db.engine.connect() as conn:
            g = await goods_service.get_goods(conn, ctx.clock, app_id=c.app_id, goods_id=goods_id)
    except TradeError:
        return c.not_found()
    return _goods_form(c, {**forms.goods_form_of(g), "state": g["state"], "sold": g["sold"]}, {})


@router.post("/console/goods/{goods_id}/edit", response_class=HTMLResponse)
async def goods_update(goods_id: str, request: Request, ctx: CtxDep) -> Response:
    got = await _post(request, ctx)
    if isinstance(got, Response):
        return got
    c, form = got
    values = {**forms.goods_values(form, creating=False), "goods_id": goods_id}
    read = forms.goods_read(values)
    errors = words.goods_form_errors(values, c.lang, read)
    if errors:
        return _goods_form(c, values, errors, 400)
    changes = dict(read[0])
    try:
        stock = changes.pop("stock")
        try:  # the change the merchant typed, applied to the stock as it is now (sales may have happened)
            delta: int | None = stock - int(values["stock_was"])
        except ValueError:
            delta, changes["stock"] = None, stock
        async with ctx.db.tx() as conn:
            await goods_service.update_goods(conn, ctx.clock, app_id=c.app_id, goods_id=goods_id,
                                             stock_delta=delta, **changes)
    except TradeError as e:
        if e.name == "GOODS_NOT_FOUND":
            return c.not_found()
        return _goods_form(c, values, words.trade_errors(e, c.lang, forms.field_of(e)), 400)
    return c.redirect(f"/console/goods/{goods_id}/edit?ok=saved")


# ------------------------------------------------------------------ orders


@router.get("/console/orders", response_class=HTMLResponse)
async def orders_list(request: Request, ctx: CtxDep) -> Response:
    c = await _open(request, ctx)
    if isinstance(c, Response):
        return c
    qp = request.query_params
    status = qp.get("status", "")
    status = status if status in ORDER_STATUSES else ""
    q = qp.get("q", "").strip()[:128]
    page_no = _int(qp.get("page"), 1)
    async with ctx.db.engine.connect() as conn:
        page = await queries.orders_page(conn, c.app_id, status=status or None, q=q, page=page_no)
    return c.render("orders.html", nav="orders", page=page, q=q, status=status, statuses=ORDER_STATUSES,
                    link=_pager({"status": status, "q": q}))


@router.get("/console/orders/{order_id}", response_class=HTMLResponse)
async def order_page(order_id: str, request: Request, ctx: CtxDep) -> Response:
    c = await _open(request, ctx)
    if isinstance(c, Response):
        return c
    async with ctx.db.engine.connect() as conn:
        detail = await queries.order_detail(conn, c.app_id, order_id[:64])
    if detail is None:
        return c.not_found()
    return c.render("order.html", nav="orders", d=detail, o=detail["order"])


# ------------------------------------------------------------------ refunds


async def _refunds(c: Console, status_code: int = 200, errors: dict[str, str] | None = None) -> Response:
    qp = c.request.query_params
    status = qp.get("status", "")
    status = status if status in REFUND_STATUSES else ""
    audit = qp.get("audit", "")
    audit = audit if audit in AUDIT_STATUSES else ""
    q = qp.get("q", "").strip()[:128]
    page_no = _int(qp.get("page"), 1)
    async with c.ctx.db.engine.connect() as conn:
        page = await queries.refunds_page(conn, c.app_id, status=status or None, audit=audit or None, q=q,
                                          page=page_no)
    kept = {"status": status, "audit": audit, "q": q}
    return c.render("refunds.html", status_code, nav="refunds", page=page, status=status, audit=audit, q=q,
                    statuses=REFUND_STATUSES, audits=AUDIT_STATUSES, errors=errors or {},
                    link=_pager(kept), now=c.ctx.clock.now_ms(),
                    back="/console/refunds?" + urlencode({k: v for k, v in {**kept, "page": str(page_no)}.items()
                                                          if v}))


@router.get("/console/refunds", response_class=HTMLResponse)
async def refunds_list(request: Request, ctx: CtxDep) -> Response:
    c = await _open(request, ctx)
    if isinstance(c, Response):
        return c
    return await _refunds(c)


@router.post("/console/refunds/{refund_id}/audit", response_class=HTMLResponse)
async def refund_audit(refund_id: str, request: Request, ctx: CtxDep) -> Response:
    got = await _post(request, ctx)
    if isinstance(got, Response):
        return got
    c, form = got
    decision, message = _text(form, "decision"), _text(form, "deny_message")
    async with ctx.db.engine.connect() as conn:
        r = await queries.refund_of(conn, c.app_id, refund_id[:64])
    if r is None:
        return c.not_found()
    if decision not in ("agree", "deny"):
        return await _refunds(c, 400, {refund_id: c.t["audit"]})
    if decision == "deny" and not message:
        return await _refunds(c, 400, {refund_id: c.t["deny_needed"]})
    if len(message) > MAX_DENY_MESSAGE:
        return await _refunds(c, 400, {refund_id: f"{c.t['deny_message']} ≤ {MAX_DENY_MESSAGE}"})
    try:
        if not r["can_audit"] or not r["out_refund_no"]:
            raise TradeError("REFUND_STATUS_CONFLICT", "the refund is not waiting for an audit")
        async with ctx.db.tx() as conn:
            await merchant_audit(conn, ctx, c.app_id, r["out_refund_no"], decision == "agree",
                                 message if decision == "deny" else None)
    except TradeError as e:
        return await _refunds(c, 409, {refund_id: forms.error_text(e, c.lang)})
    await nudge(ctx, refund_id)
    back = _text(form, "back")
    back = back if back.startswith("/console/refunds?") else "/console/refunds?"
    return c.redirect(back.rstrip("?&") + ("&" if "=" in back else "?") + "ok=audited")


# ------------------------------------------------------------------ vouchers


@router.get("/console/verify", response_class=HTMLResponse)
async def verify_page(request: Request, ctx: CtxDep) -> Response:
    c = await _open(request, ctx)
    if isinstance(c, Response):
        return c
    done = None
    iid = request.query_params.get("done", "")[:32]
    if iid:
        async with ctx.db.engine.connect() as conn:
            row = (await conn.execute(select(item_orders.c.item_order_id, item_orders.c.order_id).where(
                item_orders.c.item_order_id == iid, item_orders.c.app_id == c.app_id,
                item_orders.c.status == int(ItemStatus.REDEEMED)))).first()
        if row is not None:
            done = {"item": row.item_order_id, "order": row.order_id}
    return c.render("verify.html", nav="verify", code="", error="", done=done)


@router.post("/console/verify", response_class=HTMLResponse)
async def verify(request: Request, ctx: CtxDep) -> Response:
    got = await _post(request, ctx)
    if isinstance(got, Response):
        return got
    c, form = got
    typed = _text(form, "code")[:128]
    code = typed.removeprefix(fulfillment.QR_PREFIX).strip()
    try:
        if not code:
            raise TradeError("INVALID_PARAMETER", c.t["code"])
        async with ctx.db.tx() as conn:
            if await queries.voucher_owner(conn, c.app_id, code) is None:
                raise TradeError("VOUCHER_NOT_FOUND", code)
            result = await fulfillment.verify_code(conn, ctx.clock, code)
    except TradeError as e:
        return c.render("verify.html", 400 if e.name == "INVALID_PARAMETER" else 409, nav="verify", code=typed,
                        error=forms.error_text(e, c.lang), done=None)
    return c.redirect("/console/verify?" + urlencode({"done": result["item_order_id"]}))


# ------------------------------------------------------------------ callbacks


@router.get("/console/callbacks", response_class=HTMLResponse)
async def callbacks_list(request: Request, ctx: CtxDep) -> Response:
    c = await _open(request, ctx)
    if isinstance(c, Response):
        return c
    return await _callbacks(c)


async def _callbacks(c: Console, status_code: int = 200, error: str = "") -> Response:
    qp = c.request.query_params
    kind = qp.get("type", "")
    kind = kind if kind in CALLBACK_TYPES else ""
    status = qp.get("status", "")
    status = status if status in ops.STATUSES else ""
    q = qp.get("q", "").strip()[:64]
    cursor = _int(qp.get("cursor"), 0, 1, 2**62) or None
    by_refund = q.startswith("rf")  # refund ids are rf…, order ids ot…
    async with c.ctx.db.engine.connect() as conn:
        page = await ops.list_callbacks(conn, c.app_id, kind=kind or None, status=status or None,
                                        order_id=q if q and not by_refund else None,
                                        refund_id=q if by_refund else None, limit=queries.PAGE, cursor=cursor)
    return c.render("callbacks.html", status_code, nav="callbacks", page=page, kind=kind, status=status, q=q,
                    kinds=CALLBACK_TYPES, statuses=ops.STATUSES, first=cursor is not None, error=error,
                    targets=tuple(ops.TEST_TARGETS), link=_pager({"type": kind, "status": status, "q": q}))


@router.get("/console/attempts", response_class=HTMLResponse)
async def attempts_list(request: Request, ctx: CtxDep) -> Response:
    """Every attempt of every merchant call, newest first: the outbox's deliveries and the synchronous
    pre_create_order and marketing calls; filtered by type, outcome and kind, searched by order id."""
    c = await _open(request, ctx)
    if isinstance(c, Response):
        return c
    qp = request.query_params
    kind = qp.get("type", "")
    kind = kind if kind in ATTEMPT_TYPES else ""
    outcome = qp.get("ok", "")
    outcome = outcome if outcome in ("1", "0") else ""
    mode = qp.get("mode", "")
    mode = mode if mode in ("sync", "async") else ""
    q = qp.get("q", "").strip()[:64]
    cursor = _int(qp.get("cursor"), 0, 1, 2**62) or None
    async with ctx.db.engine.connect() as conn:
        page = await ops.list_attempts(conn, c.app_id, kind=kind or None, order_id=q or None,
                                       ok=None if not outcome else outcome == "1",
                                       synchronous=None if not mode else mode == "sync",
                                       limit=queries.PAGE, cursor=cursor)
    return c.render("attempts.html", nav="callbacks", page=page, kind=kind, outcome=outcome, mode=mode, q=q,
                    kinds=ATTEMPT_TYPES, first=cursor is not None,
                    link=_pager({"type": kind, "ok": outcome, "mode": mode, "q": q}))


@router.get("/console/callbacks/{callback_id}", response_class=HTMLResponse)
async def callback_page(callback_id: str, request: Request, ctx: CtxDep) -> Response:
    c = await _open(request, ctx)
    if isinstance(c, Response):
        return c
    return await _callback(c, callback_id)


async def _callback(c: Console, callback_id: str, status_code: int = 200, error: str = "") -> Response:
    cid = _int(callback_id, 0, 1, 2**62)
    try:
        async with c.ctx.db.engine.connect() as conn:
            cb = await ops.get_callback(conn, c.app_id, cid)
    except TradeError:
        return c.not_found()
    ok = c.request.query_params.get("ok", "")
    note = c.t["test_sent"].format(id=cb["id"]) if ok == "test_sent" else ""
    return c.render("callback.html", status_code, nav="callbacks", cb=cb, error=error, note=note,
                    refresh=words.refresh_seconds(cb, c.ctx.clock.now_ms()))


@router.post("/console/callbacks/{callback_id}/replay", response_class=HTMLResponse)
async def callback_replay(callback_id: str, request: Request, ctx: CtxDep) -> Response:
    got = await _post(request, ctx)
    if isinstance(got, Response):
        return got
    c, _ = got
    cid = _int(callback_id, 0, 1, 2**62)
    try:
        async with ctx.db.tx() as conn:
            await ops.replay(conn, ctx.clock, c.app_id, cid)
    except TradeError as e:
        if e.name == "CALLBACK_NOT_FOUND":
            return c.not_found()
        return await _callback(c, callback_id, 409, forms.error_text(e, c.lang))
    return c.redirect(f"/console/callbacks/{cid}?ok=replayed")


@router.post("/console/callbacks-test", response_class=HTMLResponse)
async def callback_test(request: Request, ctx: CtxDep) -> Response:
    got = await _post(request, ctx)
    if isinstance(got, Response):
        return got
    c, form = got
    try:
        async with ctx.db.tx() as conn:
            cid = await ops.send_test_callback(conn, ctx.clock, c.app_id, _text(form, "target") or "payment")
    except TradeError as e:
        return await _callbacks(c, 400, forms.error_text(e, c.lang))
    return c.redirect(f"/console/callbacks/{cid}?ok=test_sent")


# ------------------------------------------------------------------ settings, the app secret, the platform key


async def _settings(c: Console, values: dict[str, Any], errors: dict[str, str], status_code: int = 200,
                    new_secret: str = "", **extra: Any) -> Response:
    errors = _fold(errors, SETTINGS_FIELDS)
    async with c.ctx.db.engine.connect() as conn:
        public_pem = await queries.active_public_key(conn)
    return c.render("settings.html", status_code, nav="settings", v=values, errors=errors, public_pem=public_pem,
                    url_fields=app_service.URL_FIELDS, new_secret=new_secret, pay_fields=payconfig.FIELDS,
                    pay_errors=extra.get("pay_errors", {}))


@router.get("/console/settings", response_class=HTMLResponse)
async def settings_page(request: Request, ctx: CtxDep) -> Response:
    c = await _open(request, ctx)
    if isinstance(c, Response):
        return c
    assert c.app is not None
    return await _settings(c, forms.settings_form_of(c.app), {})


@router.post("/console/settings", response_class=HTMLResponse)
async def settings_save(request: Request, ctx: CtxDep) -> Response:
    got = await _post(request, ctx)
    if isinstance(got, Response):
        return got
    c, form = got
    values = forms.settings_values(form)
    try:
        changes = forms.settings_changes(values)
        async with ctx.db.tx() as conn:
            await app_service.update_app(conn, ctx.clock, c.app_id, **changes)
    except forms.FormErrors as e:
        return await _settings(c, values, e.errors, 400)
    except TradeError as e:
        return await _settings(c, values, {forms.field_of(e): forms.error_text(e, c.lang)}, 400)
    ctx.apps.forget(c.app_id)
    return c.redirect("/console/settings?ok=settings_saved")


@router.post("/console/settings/password", response_class=HTMLResponse)
async def settings_password(request: Request, ctx: CtxDep) -> Response:
    got = await _post(request, ctx)
    if isinstance(got, Response):
        return got
    c, form = got
    assert c.app is not None
    password = form.get("new_password")
    try:
        async with ctx.db.tx() as conn:
            await app_service.update_app(conn, ctx.clock, c.app_id,
                                         console_password=password if isinstance(password, str) else "")
            row = (await conn.execute(select(apps.c.secret, apps.c.console_password_hash)
                                      .where(apps.c.app_id == c.app_id))).one()
            await sess.end(conn, c.app_id)  # every session of the app ends; this one goes on as a new sign-in
    except TradeError as e:
        return await _settings(c, forms.settings_form_of(c.app), {"new_password": forms.error_text(e, c.lang)}, 400)
    await _signed_in(c, c.app_id, row.secret, row.console_password_hash)
    return c.redirect("/console/settings?ok=password_saved")


@router.post("/console/settings/rotate-secret", response_class=HTMLResponse)
async def settings_rotate_secret(request: Request, ctx: CtxDep) -> Response:
    """A new app secret, shown on this answer only; the old one, its tokens and the app's other sessions end."""
    got = await _post(request, ctx)
    if isinstance(got, Response):
        return got
    c, form = got
    assert c.app is not None
    if form.get("confirm") != "on":
        return await _settings(c, forms.settings_form_of(c.app), {"rotate": c.t["rotate_confirm"]}, 400)
    async with ctx.db.tx() as conn:
        new_secret = await app_service.rotate_secret(conn, ctx.clock, c.app_id)
        row = (await conn.execute(select(apps.c.console_password_hash).where(apps.c.app_id == c.app_id))).one()
    ctx.apps.forget(c.app_id)
    await _signed_in(c, c.app_id, new_secret, row.console_password_hash)
    return await _settings(c, forms.settings_form_of(c.app), {}, new_secret=new_secret)


@router.get("/console/{rest:path}", response_class=HTMLResponse)
async def unknown_page(rest: str, request: Request, ctx: CtxDep) -> Response:
    """Any other console address: the console's own 404 page."""
    c = await _open(request, ctx)
    if isinstance(c, Response):
        return c
    return c.not_found()
