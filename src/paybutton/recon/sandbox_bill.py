"""The sandbox's bill: what the sandbox cashier charged and refunded in a day, so the demo reconciles too.

The sandbox keeps no books outside the process (its memory of answers is per process and bounded), so its bill is
written from the records it answered: the attempts it paid (its `sbx…` channel_pay_id, provider "sandbox") and the
refunds it made through them, in the same line shapes as a real channel's bill. After any traffic it reconciles
clean: a line that does not is a record of ours that disagrees with itself (an attempt paid but not as the day's
money, a refund without its payment), which is exactly what reconciliation should show."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.recon import store
from paybutton.recon.bill import Bill, BillLine


async def bill(conn: AsyncConnection, app_id: str, provider: str, start: int, end: int) -> Bill:
    pays = await store.day_pays(conn, app_id, provider, start, end)
    refunds = await store.day_refunds(conn, app_id, provider, start, end)
    lines = [BillLine("pay", p.payment_id, p.amount, "SUCCESS") for p in pays.values()]
    lines += [BillLine("refund", r.payment_id, r.amount, "SUCCESS", out_refund_no=r.refund_id)
              for r in refunds.values()]
    return Bill(tuple(lines))
