"""The console's refunds page: the list (by status and audit, searched) and the merchant's audit of a refund."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi.responses import HTMLResponse, Response

from paybutton.console import forms, refund_queries
from paybutton.console.deps import Form, SignedIn, console_router
from paybutton.console.forms import text
from paybutton.console.page import Console, choice, number, pager
from paybutton.errors import TradeError
from paybutton.refund.rules import AuditStatus, RefundStatus

router = console_router()

REFUND_STATUSES = tuple(s.value for s in RefundStatus)
AUDIT_STATUSES = tuple(s.value for s in AuditStatus)
MAX_DENY_MESSAGE = 200


async def _refunds(c: Console, status_code: int = 200, errors: dict[str, str] | None = None,
                   back: str = "") -> Response:
    """The list, filtered by the address; after an audit action that failed, by the list's address it came from
    (`back`), so a filter such as 待审核 stays."""
    query: Mapping[str, str] = dict(parse_qsl(urlsplit(back).query)) if back else c.query
    status = choice(query.get("status", ""), REFUND_STATUSES)
    audit = choice(query.get("audit", ""), AUDIT_STATUSES)
    q = query.get("q", "").strip()[:128]
    page_no = number(query.get("page"), 1)
    page = await refund_queries.refunds_page(c.ctx, c.app_id, status=status or None, audit=audit or None, q=q,
                                             page=page_no)
    kept = {"status": status, "audit": audit, "q": q}
    return c.render("refunds.html", status_code, nav="refunds", page=page, status=status, audit=audit, q=q,
                    statuses=REFUND_STATUSES, audits=AUDIT_STATUSES, errors=errors or {},
                    link=pager(kept), now=c.ctx.clock.now_ms(),
                    back="/console/refunds?" + urlencode({k: v for k, v in {**kept, "page": str(page_no)}.items()
                                                          if v}))


@router.get("/console/refunds", response_class=HTMLResponse)
async def refunds_list(c: SignedIn) -> Response:
    return await _refunds(c)


def _decision_error(c: Console, decision: str, message: str) -> str:
    """What is wrong with the audit form ("" when nothing is)."""
    if decision not in ("agree", "deny"):
        return c.t["audit"]
    if decision == "deny" and not message:
        return c.t["deny_needed"]
    if len(message) > MAX_DENY_MESSAGE:
        return f"{c.t['deny_message']} ≤ {MAX_DENY_MESSAGE}"
    return ""


@router.post("/console/refunds/{refund_id}/audit", response_class=HTMLResponse)
async def refund_audit(refund_id: str, c: SignedIn, form: Form) -> Response:
    """Deny (with a reason) at once; agree only once confirmed: the first press shows what is about to be given
    back and asks again (the console runs no scripts, so the confirmation is a page)."""
    decision, message = text(form, "decision"), text(form, "deny_message")
    back = text(form, "back")
    back = back if back.startswith("/console/refunds?") else "/console/refunds?"
    r = await refund_queries.refund_of(c.ctx, c.app_id, refund_id[:64])
    if r is None:
        return c.not_found()
    wrong = _decision_error(c, decision, message)
    if wrong:
        return await _refunds(c, 400, {refund_id: wrong}, back)
    if decision == "agree" and text(form, "confirm") != "yes":
        if not refund_queries.can_audit(r):
            return await _refunds(c, 409, {refund_id: c.t["audit_gone"]}, back)
        return c.render("refund_confirm.html", nav="refunds", r=refund_queries.refund_row(r), back=back)
    try:
        await refund_queries.audit(c.ctx, c.app_id, r, decision == "agree", message if decision == "deny" else None)
    except TradeError as e:
        return await _refunds(c, 409, {refund_id: forms.error_text(e, c.lang)}, back)
    return c.redirect(back.rstrip("?&") + ("&" if "=" in back else "?") + "ok=audited")
