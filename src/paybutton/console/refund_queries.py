"""The console's refunds: a page of the app's refunds, one refund to audit, and the merchant's audit."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Table, or_, select
from sqlalchemy.sql.elements import ColumnElement

from paybutton.console.queries import PAGE, Page, page_of
from paybutton.context import Ctx
from paybutton.errors import TradeError
from paybutton.refund import store as refund_store
from paybutton.refund.auditing import merchant_audit
from paybutton.refund.rules import AuditStatus, RefundStatus
from paybutton.refund.settling import nudge
from paybutton.refund.store import Refund
from paybutton.tables import orders, refunds


async def refunds_page(ctx: Ctx, app_id: str, *, status: str | None, audit: str | None, q: str = "",
                       page: int) -> Page[dict[str, Any]]:
    """One page of the app's refunds, newest first; `q` is an exact refund id, order id, out_refund_no or the
    order's out_order_no."""
    conds: list[ColumnElement[bool]] = [refunds.c.app_id == app_id]
    if status:
        conds.append(refunds.c.status == status)
    if audit:
        conds.append(refunds.c.audit_status == audit)
    if q:
        by_out_order = select(orders.c.order_id).where(orders.c.app_id == app_id, orders.c.out_order_no == q)
        conds.append(or_(refunds.c.refund_id == q, refunds.c.order_id == q, refunds.c.out_refund_no == q,
                         refunds.c.order_id.in_(by_out_order)))
    stmt = (select(refunds).where(*conds).order_by(refunds.c.created_at.desc(), refunds.c.refund_id.desc())
            .limit(PAGE + 1).offset((page - 1) * PAGE))
    async with ctx.db.engine.connect() as conn:
        rows = [refund_row(Refund.from_row(r)) for r in (await conn.execute(stmt)).all()]
    return page_of(rows, page)


def columns_of(row: Any, table: Table) -> dict[str, Any]:
    """A typed row (order/rows, refund/store) as a template's dict: its table's columns, in the table's order."""
    return {c.name: getattr(row, c.name) for c in table.columns}


def refund_row(r: Refund) -> dict[str, Any]:
    """A refund as the pages show it: its columns, the reasons joined, and whether the merchant can audit it now."""
    d = columns_of(r, refunds)
    try:
        d["reason"] = ", ".join(str(x) for x in json.loads(r.reason or "[]"))
    except ValueError:
        d["reason"] = r.reason or ""
    d["can_audit"] = can_audit(r)
    return d


def can_audit(r: Refund) -> bool:
    """The merchant can audit the refund now: it is in flight, waiting for the merchant's decision."""
    return r.status == RefundStatus.PROCESSING and r.audit_status == AuditStatus.TOAUDIT


async def refund_of(ctx: Ctx, app_id: str, refund_id: str) -> Refund | None:
    async with ctx.db.engine.connect() as conn:
        return await refund_store.refund_row(conn, app_id, refund_id)


async def audit(ctx: Ctx, app_id: str, refund: Refund, agree: bool, deny_message: str | None) -> None:
    """The merchant's decision on a refund waiting for it; REFUND_STATUS_CONFLICT when it waits no more. The
    refund then moves on at once (what is left is the refund worker's)."""
    if not can_audit(refund) or not refund.out_refund_no:
        raise TradeError("REFUND_STATUS_CONFLICT", "the refund is not waiting for an audit")
    async with ctx.db.tx() as conn:
        await merchant_audit(conn, ctx, app_id, refund.out_refund_no, agree, deny_message)
    await nudge(ctx, app_id, refund.refund_id)
