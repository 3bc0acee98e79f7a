"""`paybutton check`'s part: every reconciliation break still open, one line each."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.recon import store


async def open_breaks(conn: AsyncConnection) -> list[str]:
    out = []
    for r in await store.breaks(conn):
        key = r.out_refund_no or r.out_trade_no
        out.append(f"reconciliation break: app {r.app_id} {r.channel} {r.bill_date}: {r.klass} {r.kind} {key} "
                   f"(channel {r.channel_amount}, ours {r.our_amount} fen): {r.note or ''}")
    return out
