"""The crash drill's accounting: read-only queries on the database (what the system says happened) set against
the merchant's log (what it received). Nothing here writes.

The rules it checks, from the code as it is:

* **callbacks** — every outbox row with a URL is a callback the merchant must get (order/paying.py, ending.py: payment
  SUCCESS when paid, CANCEL when an accepted order times out; refund/creating.py: pre_create_refund when a refund
  asks the merchant; refund/finishing.py: refund when it ends). The row's body is stored and resent byte for
  byte, so the SHA-256 of the body names the delivery. lost = rows never received; duplicated = receipts beyond
  the rows with that body (at-least-once: allowed after a crash, but reported). Receipts matching no row are
  synchronous calls (pre_create_order, and any extension call made in the request rather than through the
  outbox).
* **stock** (goods/, order/store.py): placing an order takes its quantity from `goods.stock` (and adds it to
  `sold`); only an order that ends unpaid gives it back (FAIL: the merchant refused or the order was closed;
  TIMEOUT: not paid in time). A refund never returns stock (refund/ touches no goods row). So for
  every good: initial stock == stock now + units of its orders in INIT, PROCESS or SUCCESS, and sold == those
  units.
* **paid twice** — an order with more than one SUCCESS payment, not counting a late (or duplicate) payment that
  has a refund of its own (refund source 6, or one naming that payment).
* **late payments** (order/paying.py, refund/worker.py): a payment that lands after its order ended (the drill's
  late payer pays with the sandbox's scenario "late", after the order's deadline) is kept and refunded
  automatically: exactly one refund of source 6 naming it, SUCCESS, of its whole amount.
* **ledger** (paybutton/ledger/): every SUCCESS payment has exactly one `pay` txn and every SUCCESS refund one
  `refund` txn (none lost, none twice), the money in the txns equals the rows', and ledger/check.py's scan (every
  txn balances, held per order = paid - refunded - settled >= 0) finds nothing."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from paybutton.db import normalise_url
from paybutton.ledger import check as ledger_check
from paybutton.tables import goods, item_orders, ledger_entries, ledger_txns, orders, outbox, payments, refunds

HOLDING = ("INIT", "PROCESS", "SUCCESS")  # order statuses that keep their units out of stock
LATE_PAYMENT_SOURCE = 6


async def _snapshot(url: str, app_id: str) -> dict[str, Any]:
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.connect() as conn:
            ob = (await conn.execute(
                select(outbox.c.id, outbox.c.type, outbox.c.status, outbox.c.body, outbox.c.attempts)
                .where(outbox.c.app_id == app_id, outbox.c.url.is_not(None)))).all()
            by_status = dict((await conn.execute(
                select(orders.c.status, func.count()).where(orders.c.app_id == app_id)
                .group_by(orders.c.status))).all())
            held = dict((await conn.execute(
                select(orders.c.goods_id, func.sum(orders.c.quantity))
                .where(orders.c.app_id == app_id, orders.c.status.in_(HOLDING)).group_by(orders.c.goods_id))).all())
            stock = {r.goods_id: (int(r.stock), int(r.sold)) for r in (await conn.execute(
                select(goods.c.goods_id, goods.c.stock, goods.c.sold).where(goods.c.app_id == app_id))).all()}
            state_col = payments.c.state if "state" in payments.c else payments.c.outcome
            pays = (await conn.execute(
                select(payments.c.payment_id, payments.c.order_id, payments.c.late, payments.c.amount,
                       state_col.label("state"))
                .where(payments.c.app_id == app_id))).all()
            rcols = [refunds.c.refund_id, refunds.c.order_id, refunds.c.status, refunds.c.source, refunds.c.stage,
                     refunds.c.refund_total_amount]
            if "payment_id" in refunds.c:
                rcols.append(refunds.c.payment_id)
            rfs = (await conn.execute(select(*rcols).where(refunds.c.app_id == app_id))).all()
            verified = (await conn.execute(
                select(func.count()).where(item_orders.c.app_id == app_id, item_orders.c.verify_id.is_not(None))
            )).scalar_one()
            auto_pending = (await conn.execute(
                select(func.count()).where(orders.c.app_id == app_id, orders.c.auto_refund_pending.is_(True))
            )).scalar_one()
    finally:
        await engine.dispose()
    return {"outbox": ob, "orders_by_status": {k: int(v) for k, v in by_status.items()}, "held": held,
            "stock": stock, "payments": pays, "refunds": rfs, "verified_units": int(verified),
            "auto_refund_pending": int(auto_pending)}


def snapshot(url: str, app_id: str) -> dict[str, Any]:
    return asyncio.run(_snapshot(url, app_id))


async def _settled(url: str, app_id: str) -> tuple[dict[str, int], list[str]]:
    """What is still moving (callbacks to send, refunds in flight, unpaid orders, live payment attempts), and the
    refunds waiting for the merchant's audit."""
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.connect() as conn:
            out = {
                "callbacks_pending": (await conn.execute(select(func.count()).where(
                    outbox.c.app_id == app_id, outbox.c.status == "PENDING"))).scalar_one(),
                "refunds_processing": (await conn.execute(select(func.count()).where(
                    refunds.c.app_id == app_id, refunds.c.status == "PROCESSING"))).scalar_one(),
                "orders_unpaid": (await conn.execute(select(func.count()).where(
                    orders.c.app_id == app_id, orders.c.status.in_(("INIT", "PROCESS"))))).scalar_one(),
                "auto_refund_pending": (await conn.execute(select(func.count()).where(
                    orders.c.app_id == app_id, orders.c.auto_refund_pending.is_(True)))).scalar_one(),
            }
            if "state" in payments.c:
                out["payments_live"] = (await conn.execute(select(func.count()).where(
                    payments.c.app_id == app_id, payments.c.state.in_(("PROCESSING", "UNKNOWN", "PENDING")))
                )).scalar_one()
            toaudit = list((await conn.execute(select(refunds.c.refund_id).where(
                refunds.c.app_id == app_id, refunds.c.status == "PROCESSING", refunds.c.audit_status == "TOAUDIT")
            )).scalars())
    finally:
        await engine.dispose()
    return {**{k: int(v) for k, v in out.items()}, "refunds_toaudit": len(toaudit)}, toaudit


def settled(url: str, app_id: str) -> tuple[dict[str, int], list[str]]:
    return asyncio.run(_settled(url, app_id))


def callbacks(snap: dict[str, Any], received: list[dict[str, Any]]) -> dict[str, Any]:
    """Expected (outbox rows with a URL) against received (the merchant's log), by exact body."""
    expected: Counter[str] = Counter()
    kind_of: dict[str, str] = {}
    status_of: Counter[str] = Counter()
    for row in snap["outbox"]:
        h = hashlib.sha256(row.body.encode()).hexdigest()
        expected[h] += 1
        kind_of[h] = row.type
        status_of[row.status] += 1
    got: Counter[str] = Counter(r["sha256"] for r in received if r.get("ok"))
    per_type: dict[str, Counter[str]] = defaultdict(Counter)
    lost = duplicated = delivered = 0
    for h, n in expected.items():
        k = kind_of[h]
        per_type[k]["expected"] += n
        d = min(n, got.get(h, 0))
        delivered += d
        per_type[k]["delivered"] += d
        if got.get(h, 0) < n:
            lost += n - got.get(h, 0)
            per_type[k]["lost"] += n - got.get(h, 0)
        if got.get(h, 0) > n:
            duplicated += got[h] - n
            per_type[k]["duplicated"] += got[h] - n
    synchronous: Counter[str] = Counter(r["type"] for r in received if r.get("ok") and r["sha256"] not in expected)
    events: Counter[str] = Counter(r["key"] for r in received if r.get("ok") and r["sha256"] in expected)
    return {
        "expected": sum(expected.values()), "delivered": delivered, "lost": lost, "duplicated": duplicated,
        "received_total": sum(got.values()), "outbox_status": dict(status_of),
        "bad_signatures": sum(1 for r in received if not r.get("ok")),
        "by_type": {k: dict(v) for k, v in sorted(per_type.items())},
        "synchronous_calls": dict(synchronous),
        "events_told_twice": sum(1 for n in events.values() if n > 1),
    }


def stock(snap: dict[str, Any], initial: dict[str, int]) -> dict[str, Any]:
    per: dict[str, Any] = {}
    ok = True
    for g, init in sorted(initial.items()):
        now, sold = snap["stock"].get(g, (0, 0))
        held = int(snap["held"].get(g) or 0)
        good = init == now + held and sold == held and now >= 0
        ok = ok and good
        per[g] = {"initial": init, "stock": now, "held_by_orders": held, "sold": sold, "conserved": good}
    return {"conserved": ok, "goods": per}


def paid_twice(snap: dict[str, Any]) -> dict[str, Any]:
    refunded_payment: set[str] = set()
    late_refund_orders: set[str] = set()
    for r in snap["refunds"]:
        if r.status == "FAIL":
            continue
        if getattr(r, "payment_id", None):
            refunded_payment.add(r.payment_id)
        if r.source == LATE_PAYMENT_SOURCE:
            late_refund_orders.add(r.order_id)
    kept: dict[str, list[str]] = defaultdict(list)
    late_total = late_unrefunded = 0
    for p in snap["payments"]:
        if p.state != "SUCCESS":
            continue
        if p.late:
            late_total += 1
            if p.payment_id in refunded_payment or p.order_id in late_refund_orders:
                continue
            late_unrefunded += 1
        kept[p.order_id].append(p.payment_id)
    twice = sorted(o for o, ps in kept.items() if len(ps) > 1)
    return {"orders_paid_twice": len(twice), "examples": twice[:5], "late_payments": late_total,
            "late_payments_not_refunded": late_unrefunded}


def late_payments(snap: dict[str, Any]) -> dict[str, Any]:
    """Payments that landed after their order had ended (the late payer's, or a crash's): each must have exactly
    one refund of its own (source 6, naming that payment), SUCCESS, of the payment's whole amount. `ok` when every
    one has; the ledger's and `paybutton check`'s verdicts on the money are their own sections."""
    own: dict[str, list[Any]] = defaultdict(list)
    for r in snap["refunds"]:
        if r.source == LATE_PAYMENT_SOURCE and getattr(r, "payment_id", None):
            own[r.payment_id].append(r)
    late = [p for p in snap["payments"] if p.late and p.state == "SUCCESS"]
    once = [p.payment_id for p in late if len(own[p.payment_id]) == 1
            and own[p.payment_id][0].status == "SUCCESS" and own[p.payment_id][0].refund_total_amount == p.amount]
    twice = [p.payment_id for p in late if len(own[p.payment_id]) > 1]
    never = [p.payment_id for p in late if not own[p.payment_id]]
    return {"late": len(late), "refunded_once": len(once), "refunded_twice": twice[:5], "not_refunded": never[:5],
            "other": sorted(set(p.payment_id for p in late) - set(once) - set(twice) - set(never))[:5],
            "amount": sum(p.amount for p in late), "ok": len(once) == len(late)}


async def _ledger(url: str, app_id: str) -> dict[str, Any]:
    engine = create_async_engine(normalise_url(url))
    t, e = ledger_txns, ledger_entries
    try:
        async with engine.connect() as conn:
            txns = dict((await conn.execute(select(t.c.kind, func.count()).where(t.c.app_id == app_id)
                                            .group_by(t.c.kind))).all())
            twice = (await conn.execute(select(func.count()).select_from(
                select(t.c.kind, t.c.ref_id).where(t.c.app_id == app_id).group_by(t.c.kind, t.c.ref_id)
                .having(func.count() > 1).subquery()))).scalar_one()
            held = dict((await conn.execute(
                select(t.c.kind, func.sum(e.c.amount)).select_from(e.join(t, t.c.txn_id == e.c.txn_id))
                .where(e.c.app_id == app_id, e.c.account == f"held:{app_id}").group_by(t.c.kind))).all())
            paid = (await conn.execute(select(func.count(), func.coalesce(func.sum(payments.c.amount), 0)).where(
                payments.c.app_id == app_id, payments.c.state == "SUCCESS"))).one()
            refunded = (await conn.execute(select(func.count(), func.coalesce(
                func.sum(refunds.c.refund_total_amount), 0)).where(
                refunds.c.app_id == app_id, refunds.c.status == "SUCCESS"))).one()
            problems = await ledger_check.scan(conn)
    finally:
        await engine.dispose()
    out = {"txns": {k: int(v) for k, v in txns.items()}, "txns_twice": int(twice),
           "payments_paid": int(paid[0]), "paid_in": -int(held.get("pay") or 0), "payments_amount": int(paid[1]),
           "refunds_succeeded": int(refunded[0]), "refunded": int(held.get("refund") or 0),
           "refunds_amount": int(refunded[1]), "problems": problems[:20]}
    out["ok"] = (not problems and out["txns_twice"] == 0 and out["txns"].get("pay", 0) == out["payments_paid"]
                 and out["txns"].get("refund", 0) == out["refunds_succeeded"]
                 and out["paid_in"] == out["payments_amount"] and out["refunded"] == out["refunds_amount"])
    return out


def ledger(url: str, app_id: str) -> dict[str, Any]:
    """The ledger against the rows after the drill: nothing lost, nothing posted twice, every txn balanced."""
    return asyncio.run(_ledger(url, app_id))
