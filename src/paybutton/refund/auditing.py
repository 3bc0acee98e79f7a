"""The merchant's audit (refund/merchant_audit_callback, and the console's agree/deny): a refund waiting at
TOAUDIT is agreed (on to the cashier) or denied (it fails at once: its money is free again and the `refund`
notify goes out). An audit nobody answers counts as agreed at the deadline (OVERTIME, refund/settling.py)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton import audit
from paybutton.context import Ctx
from paybutton.errors import TradeError
from paybutton.refund import rules, store
from paybutton.refund.finishing import finish
from paybutton.refund.rules import Stage


async def merchant_audit(conn: AsyncConnection, ctx: Ctx, app_id: str, out_refund_no: str, agree: bool,
                         deny_message: str | None) -> str:
    """TOAUDIT -> AGREE or DENY, in the caller's transaction. Returns the refund id."""
    if not agree and not deny_message:
        raise TradeError("INVALID_PARAMETER", "deny_message is required when denying")
    to = rules.audited(agree)
    got = (await conn.execute(store.AUDIT, {
        "app": app_id, "orn": out_refund_no, "now": ctx.clock.now_ms(), "audit": to.audit.value,
        "deny": None if agree else deny_message, "stage": to.stage.value,
    })).first()
    if got is None:
        if not await store.find(conn, app_id, out_refund_no=out_refund_no):
            raise TradeError("REFUND_NOT_FOUND", out_refund_no)
        raise TradeError("REFUND_STATUS_CONFLICT", "the refund is not waiting for an audit")
    await audit.record(conn, app_id=app_id, action="refund.audit", target=str(got.refund_id),
                       before={"audit": "TOAUDIT"},
                       after={"audit": to.audit.value, **({} if agree else {"deny_message": deny_message})},
                       at_ms=ctx.clock.now_ms())
    if not agree:
        await finish(conn, ctx, app_id, got.refund_id, Stage.AUDIT, ok=False,
                     message=f"merchant denied: {deny_message}")
    return str(got.refund_id)
