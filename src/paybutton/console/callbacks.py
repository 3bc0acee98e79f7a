"""The console's callback pages: the log and every attempt (filtered through outbox.CallbackFilter and
AttemptFilter, with the values outbox allows), one callback with its attempts, replaying a dead letter, and a
test callback."""

from __future__ import annotations

from fastapi.responses import HTMLResponse, Response

from paybutton.callbacks import ops
from paybutton.callbacks.outbox import ATTEMPT_TYPES, CALLBACK_TYPES, STATUSES, AttemptFilter, CallbackFilter
from paybutton.console import callback_queries, forms, words
from paybutton.console.deps import Form, SignedIn, console_router
from paybutton.console.forms import text
from paybutton.console.page import MAX_ID, Console, choice, cursor_of, number, pager
from paybutton.errors import TradeError

router = console_router()

OUTCOMES = {"1": True, "0": False}  # the attempts page's ?ok=: answered err_no 0, or failed
MODES = {"sync": True, "async": False}  # ?mode=: the synchronous extension calls, or the outbox's deliveries


def callback_filter(c: Console) -> tuple[CallbackFilter, dict[str, str]]:
    """The log's filter from the address (values it does not allow are dropped), and the address's filters as
    shown. `q` is an order id or a refund id (refund ids are rf…, order ids ot…)."""
    qp = c.query
    shown = {"type": choice(qp.get("type", ""), CALLBACK_TYPES), "status": choice(qp.get("status", ""), STATUSES),
             "q": qp.get("q", "").strip()[:64]}
    q, by_refund = shown["q"], shown["q"].startswith("rf")
    flt = CallbackFilter(kind=shown["type"] or None, status=shown["status"] or None,
                         order_id=q if q and not by_refund else None, refund_id=q if by_refund else None)
    return flt, shown


def attempt_filter(c: Console) -> tuple[AttemptFilter, dict[str, str]]:
    """The attempts' filter from the address (by type, outcome and kind, searched by order id), and as shown."""
    qp = c.query
    shown = {"type": choice(qp.get("type", ""), ATTEMPT_TYPES), "ok": choice(qp.get("ok", ""), tuple(OUTCOMES)),
             "mode": choice(qp.get("mode", ""), tuple(MODES)), "q": qp.get("q", "").strip()[:64]}
    flt = AttemptFilter(kind=shown["type"] or None, order_id=shown["q"] or None, ok=OUTCOMES.get(shown["ok"]),
                        synchronous=MODES.get(shown["mode"]))
    return flt, shown


@router.get("/console/callbacks", response_class=HTMLResponse)
async def callbacks_list(c: SignedIn) -> Response:
    return await _callbacks(c)


async def _callbacks(c: Console, status_code: int = 200, error: str = "") -> Response:
    flt, shown = callback_filter(c)
    cursor = cursor_of(c)
    page = await callback_queries.callbacks_page(c.ctx, c.app_id, cursor, **flt)
    return c.render("callbacks.html", status_code, nav="callbacks", page=page, kind=shown["type"],
                    status=shown["status"], q=shown["q"], kinds=CALLBACK_TYPES, statuses=STATUSES,
                    first=cursor is not None, error=error, targets=tuple(ops.TEST_TARGETS), link=pager(shown))


@router.get("/console/attempts", response_class=HTMLResponse)
async def attempts_list(c: SignedIn) -> Response:
    """Every attempt of every merchant call, newest first: the outbox's deliveries and the synchronous
    pre_create_order and marketing calls; filtered by type, outcome and kind, searched by order id."""
    flt, shown = attempt_filter(c)
    cursor = cursor_of(c)
    page = await callback_queries.attempts_page(c.ctx, c.app_id, cursor, **flt)
    return c.render("attempts.html", nav="callbacks", page=page, kind=shown["type"], outcome=shown["ok"],
                    mode=shown["mode"], q=shown["q"], kinds=ATTEMPT_TYPES, first=cursor is not None,
                    link=pager(shown))


@router.get("/console/callbacks/{callback_id}", response_class=HTMLResponse)
async def callback_page(callback_id: str, c: SignedIn) -> Response:
    return await _callback(c, callback_id)


async def _callback(c: Console, callback_id: str, status_code: int = 200, error: str = "") -> Response:
    try:
        cb = await callback_queries.get_callback(c.ctx, c.app_id, number(callback_id, 0, 1, MAX_ID))
    except TradeError:
        return c.not_found()
    note = c.t["test_sent"].format(id=cb["id"]) if c.query.get("ok", "") == "test_sent" else ""
    # after a replay, the banner says where it stands now: being sent, delivered, or failed again
    replayed = c.t["replayed_" + cb["status"]] if c.query.get("ok", "") == "replayed" else ""
    urls = {a["url"] for a in cb["attempt_log"] if a["url"]} | {cb["url"]}
    return c.render("callback.html", status_code, nav="callbacks", cb=cb, error=error, note=note,
                    ok_text=replayed, show_urls=len(urls - {None}) > 1,
                    refresh=words.refresh_seconds(cb, c.ctx.clock.now_ms()))


@router.post("/console/callbacks/{callback_id}/replay", response_class=HTMLResponse)
async def callback_replay(callback_id: str, c: SignedIn, form: Form) -> Response:
    cid = number(callback_id, 0, 1, MAX_ID)
    try:
        await callback_queries.replay(c.ctx, c.app_id, cid)
    except TradeError as e:
        if e.name == "CALLBACK_NOT_FOUND":
            return c.not_found()
        return await _callback(c, callback_id, 409, forms.error_text(e, c.lang))
    return c.redirect(f"/console/callbacks/{cid}?ok=replayed")


@router.post("/console/callbacks-test", response_class=HTMLResponse)
async def callback_test(c: SignedIn, form: Form) -> Response:
    try:
        cid = await callback_queries.send_test(c.ctx, c.app_id, text(form, "target") or "payment")
    except TradeError as e:
        return await _callbacks(c, 400, forms.error_text(e, c.lang))
    return c.redirect(f"/console/callbacks/{cid}?ok=test_sent")
