"""Helpers of the settle tests: the app's settle rules, receivers, redeeming units, settling over the OpenAPI."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from trade_world import TradeWorld

from paybutton.apps import service as app_service
from paybutton.apps import settle_rules
from paybutton.fulfillment.service import verify_code
from paybutton.tables import ledger_txns, settles


async def rules(w: TradeWorld, **changes: Any) -> dict[str, Any]:
    """Set the app's settle rules (before the server first reads the app: its cache would keep the old row)."""
    async with w.db.tx() as conn:
        app = await app_service.update_app(conn, w.clock, w.app_id, **changes)
    w.tctx.apps.forget(w.app_id)
    return dict(app)


async def receiver(w: TradeWorld, uid: str, name: str = "渠道") -> None:
    async with w.db.tx() as conn:
        await settle_rules.add_receiver(conn, w.clock, uid, name)


async def redeem(w: TradeWorld, order_id: str) -> None:
    for item in await w.items(order_id):
        async with w.db.tx() as conn:
            await verify_code(conn, w.clock, item.voucher_code, w.app_id)


async def settle(w: TradeWorld, order: dict[str, Any], out_settle_no: str, **body: Any) -> dict[str, Any]:
    """create_settle; the whole envelope."""
    return await w.api("settle/create_settle", {"out_order_no": order["out_order_no"],
                                                "out_settle_no": out_settle_no, "settle_desc": "结算", **body})


async def counts(w: TradeWorld) -> tuple[int, int]:
    """(settles, settle txns in the ledger)."""
    async with w.db.engine.connect() as conn:
        n = (await conn.execute(select(func.count()).select_from(settles))).scalar_one()
        t = (await conn.execute(select(func.count()).select_from(ledger_txns)
                                .where(ledger_txns.c.kind == "settle"))).scalar_one()
    return int(n), int(t)
