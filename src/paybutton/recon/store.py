"""The reconciliation's SQL: the run row (claimed once), our records a bill is matched against, its lines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.ledger.accounts import PAY, REFUND, channel
from paybutton.recon.matching import OurPay, OurRefund, Verdict
from paybutton.tables import ledger_entries, ledger_txns, orders, payments, recon_lines, recon_runs, refunds

CHUNK = 500  # ids per IN (...) list


async def run_row(conn: AsyncConnection, app_id: str, channel: str, day: str) -> Row[Any] | None:
    q = select(recon_runs).where(recon_runs.c.app_id == app_id, recon_runs.c.channel == channel,
                                 recon_runs.c.bill_date == day)
    return (await conn.execute(q)).first()


async def insert_run(conn: AsyncConnection, row: dict[str, Any]) -> None:
    await conn.execute(insert(recon_runs).values(**row))


async def claim(conn: AsyncConnection, run: Row[Any], values: dict[str, Any]) -> bool:
    """Compare-and-set on the state, lease and tries read: exactly one instance wins a run."""
    q = (update(recon_runs)
         .where(recon_runs.c.run_id == run.run_id, recon_runs.c.state == run.state, recon_runs.c.tries == run.tries)
         .values(**values))
    return (await conn.execute(q)).rowcount == 1


async def set_run(conn: AsyncConnection, run_id: str, claimed_by: str, values: dict[str, Any]) -> bool:
    """Write the end of a run, guarded on still holding it."""
    q = (update(recon_runs)
         .where(recon_runs.c.run_id == run_id, recon_runs.c.state == "RUNNING",
                recon_runs.c.claimed_by == claimed_by)
         .values(**values))
    return (await conn.execute(q)).rowcount == 1


def _chunks(ids: Iterable[str]) -> list[list[str]]:
    items = sorted(set(ids))
    return [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]


def _pay(r: Row[Any]) -> OurPay:
    return OurPay(r.payment_id, r.app_id, r.provider, r.amount, r.state, bool(r.late), r.message or "")


async def pays_by_id(conn: AsyncConnection, ids: Iterable[str]) -> dict[str, OurPay]:
    out: dict[str, OurPay] = {}
    for chunk in _chunks(ids):
        for r in await conn.execute(select(payments).where(payments.c.payment_id.in_(chunk))):
            out[r.payment_id] = _pay(r)
    return out


async def day_pays(conn: AsyncConnection, app_id: str, provider: str, start: int, end: int) -> dict[str, OurPay]:
    """The attempts of this provider that ended paid within [start, end)."""
    q = select(payments).where(payments.c.app_id == app_id, payments.c.provider == provider,
                               payments.c.state == "SUCCESS", payments.c.updated_at >= start,
                               payments.c.updated_at < end)
    return {r.payment_id: _pay(r) for r in await conn.execute(q)}


def _refunds_q() -> Any:
    paid_by = func.coalesce(refunds.c.payment_id, orders.c.payment_id)
    return (select(refunds.c.refund_id, refunds.c.app_id, refunds.c.refund_total_amount, refunds.c.status,
                   payments.c.provider, payments.c.payment_id)
            .select_from(refunds.join(orders, orders.c.order_id == refunds.c.order_id)
                         .outerjoin(payments, payments.c.payment_id == paid_by)))


def _refund(r: Row[Any]) -> OurRefund:
    return OurRefund(r.refund_id, r.app_id, r.provider or "", r.refund_total_amount, r.status, r.payment_id or "")


async def refunds_by_id(conn: AsyncConnection, ids: Iterable[str]) -> dict[str, OurRefund]:
    out: dict[str, OurRefund] = {}
    for chunk in _chunks(ids):
        for r in await conn.execute(_refunds_q().where(refunds.c.refund_id.in_(chunk))):
            out[r.refund_id] = _refund(r)
    return out


async def day_refunds(conn: AsyncConnection, app_id: str, provider: str, start: int,
                      end: int) -> dict[str, OurRefund]:
    """The refunds through this provider that succeeded within [start, end)."""
    q = _refunds_q().where(refunds.c.app_id == app_id, payments.c.provider == provider,
                           refunds.c.status == "SUCCESS", refunds.c.refund_at >= start, refunds.c.refund_at < end)
    return {r.refund_id: _refund(r) for r in await conn.execute(q)}


async def channel_moves(conn: AsyncConnection, app_id: str, provider: str, start: int,
                        end: int) -> list[tuple[str, str, int]]:
    """(kind, ref id, signed fen) of every pay and refund posting to `channel:<provider>` for the app within
    [start, end): the sandbox's bill (sandbox_bill.py)."""
    q = (select(ledger_txns.c.kind, ledger_txns.c.ref_id, func.sum(ledger_entries.c.amount))
         .select_from(ledger_entries.join(ledger_txns, ledger_txns.c.txn_id == ledger_entries.c.txn_id))
         .where(ledger_txns.c.app_id == app_id, ledger_txns.c.kind.in_((PAY, REFUND)),
                ledger_entries.c.account == channel(provider), ledger_txns.c.created_at >= start,
                ledger_txns.c.created_at < end)
         .group_by(ledger_txns.c.kind, ledger_txns.c.ref_id).order_by(ledger_txns.c.kind, ledger_txns.c.ref_id))
    moved = [(str(k), str(r), int(a)) for k, r, a in await conn.execute(q)]
    # A 0-fen payment or refund posts a transaction without entries (posting.py keeps no 0 line): it is on the bill
    # as 0 when its record names this provider
    empty = (select(ledger_txns.c.kind, ledger_txns.c.ref_id)
             .where(ledger_txns.c.app_id == app_id, ledger_txns.c.kind.in_((PAY, REFUND)),
                    ledger_txns.c.created_at >= start, ledger_txns.c.created_at < end,
                    ~select(ledger_entries.c.entry_id).where(ledger_entries.c.txn_id == ledger_txns.c.txn_id)
                    .exists()))
    zero = [(str(k), str(r)) for k, r in await conn.execute(empty)]
    pays = await pays_by_id(conn, [r for k, r in zero if k == PAY])
    refunds = await refunds_by_id(conn, [r for k, r in zero if k == REFUND])
    for kind, ref in zero:
        record = pays.get(ref) if kind == PAY else refunds.get(ref)
        if record is not None and record.provider == provider:
            moved.append((kind, ref, 0))
    return moved


def _key() -> Any:
    return func.coalesce(recon_lines.c.out_refund_no, recon_lines.c.out_trade_no)


async def seen_keys(conn: AsyncConnection, app_id: str, channel: str, day: str, keys: Iterable[str]) -> set[str]:
    """The keys an earlier day's bill of this channel showed (matched or long)."""
    out: set[str] = set()
    for chunk in _chunks(keys):
        q = (select(_key()).select_from(recon_lines.join(recon_runs, recon_runs.c.run_id == recon_lines.c.run_id))
             .where(recon_runs.c.app_id == app_id, recon_runs.c.channel == channel, recon_runs.c.bill_date < day,
                    recon_lines.c.klass.in_(("matched", "long")), _key().in_(chunk)))
        out.update(str(k) for (k,) in await conn.execute(q))
    return out


async def open_lines(conn: AsyncConnection, app_id: str, channel: str | None = None,
                     before: str | None = None) -> list[Row[Any]]:
    """Lines still open (a short waiting for the next bill, or a break), oldest first, with their run's day."""
    q = (select(recon_lines, recon_runs.c.bill_date, recon_runs.c.channel)
         .select_from(recon_lines.join(recon_runs, recon_runs.c.run_id == recon_lines.c.run_id))
         .where(recon_lines.c.app_id == app_id, recon_lines.c.state.in_(("pending", "break"))))
    if channel is not None:
        q = q.where(recon_runs.c.channel == channel)
    if before is not None:
        q = q.where(recon_runs.c.bill_date < before)
    return list((await conn.execute(q.order_by(recon_runs.c.bill_date, recon_lines.c.id))).all())


async def write_lines(conn: AsyncConnection, run_id: str, app_id: str, verdicts: Sequence[Verdict]) -> None:
    rows = [{"run_id": run_id, "app_id": app_id, "kind": v.kind, "klass": v.klass, "out_trade_no": v.out_trade_no,
             "out_refund_no": v.out_refund_no, "channel_amount": v.channel_amount, "our_amount": v.our_amount,
             "channel_status": v.channel_status, "our_status": v.our_status, "action": v.action,
             "state": v.state, "note": v.note or None, "resolved_at": None} for v in verdicts]
    for i in range(0, len(rows), CHUNK):
        await conn.execute(insert(recon_lines), rows[i:i + CHUNK])


async def close_lines(conn: AsyncConnection, ids: Sequence[int], state: str, now: int, note: str) -> None:
    """Move open lines to `state` (resolved, or break for a short the next bill did not show either)."""
    for i in range(0, len(ids), CHUNK):
        await conn.execute(update(recon_lines)
                           .where(recon_lines.c.id.in_(list(ids[i:i + CHUNK])),
                                  recon_lines.c.state.in_(("pending", "break")))
                           .values(state=state, note=note, resolved_at=now if state == "resolved" else None))


async def resolve_by_hand(conn: AsyncConnection, app_id: str, ids: Sequence[int], now: int, note: str) -> int:
    """A person looked into open lines of this app: they are resolved with the note. How many were open."""
    q = (update(recon_lines)
         .where(recon_lines.c.app_id == app_id, recon_lines.c.id.in_(list(ids)),
                recon_lines.c.state.in_(("pending", "break")))
         .values(state="resolved", note=note, resolved_at=now))
    return (await conn.execute(q)).rowcount


async def runs_of(conn: AsyncConnection, app_id: str, limit: int = 30) -> list[Row[Any]]:
    q = (select(recon_runs).where(recon_runs.c.app_id == app_id)
         .order_by(recon_runs.c.bill_date.desc(), recon_runs.c.channel).limit(limit))
    return list((await conn.execute(q)).all())


async def lines_of(conn: AsyncConnection, run_id: str, *, only_open: bool = False,
                   exclude_matched: bool = True) -> list[Row[Any]]:
    q = select(recon_lines).where(recon_lines.c.run_id == run_id)
    if exclude_matched:
        q = q.where(recon_lines.c.klass != "matched")
    if only_open:
        q = q.where(recon_lines.c.state.in_(("pending", "break")))
    return list((await conn.execute(q.order_by(recon_lines.c.id))).all())


async def breaks(conn: AsyncConnection) -> list[Row[Any]]:
    """Every break still open, of every app (`paybutton check`)."""
    q = (select(recon_lines, recon_runs.c.bill_date, recon_runs.c.channel)
         .select_from(recon_lines.join(recon_runs, recon_runs.c.run_id == recon_lines.c.run_id))
         .where(recon_lines.c.state == "break").order_by(recon_lines.c.app_id, recon_runs.c.bill_date))
    return list((await conn.execute(q)).all())

