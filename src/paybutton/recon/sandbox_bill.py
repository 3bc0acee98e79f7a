"""The sandbox's bill: what the sandbox channel moved in a day, so the demo (and `make bench`) reconciles too.

The sandbox keeps no books outside the process (its memory of answers is per process and bounded), so its bill is
read from the ledger: the postings to its cash account `channel:<provider>` (ledger/accounts.py), `pay` (+amount,
ref the attempt) and `refund` (-amount, ref the refund), booked in the same transaction as the attempt or refund
they record, by the day of the posting. The reconciliation then matches them against the payment and refund rows,
which are a separate record: an amount altered on one side, a paid attempt without its posting (a short) or a
posting without its attempt (a long that names no payment) is a difference, as with a real channel's bill."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.recon import store
from paybutton.recon.bill import Bill, BillLine


async def bill(conn: AsyncConnection, app_id: str, provider: str, start: int, end: int) -> Bill:
    moves = await store.channel_moves(conn, app_id, provider, start, end)
    refunds = await store.refunds_by_id(conn, [ref for kind, ref, _ in moves if kind == "refund"])
    lines = []
    for kind, ref, amount in moves:
        if kind == "pay":
            lines.append(BillLine("pay", ref, amount, "SUCCESS"))
        else:
            paid_by = refunds[ref].payment_id if ref in refunds else ""
            lines.append(BillLine("refund", paid_by, -amount, "SUCCESS", out_refund_no=ref))
    return Bill(tuple(lines))
