"""Refund use cases. The flow: the refund row (PROCESSING) and the money it holds on each unit are written in
one transaction, with the merchant's pre_create_refund in the outbox (a buyer's apply calls it at once, within
its budget, and the outbox retries only when that fails: refund/applying.py); once the merchant answers with an
out_refund_no the refund waits for the audit when the app asks for one (TOAUDIT until agree, deny or the
deadline: OVERTIME = agreed), then the cashier refunds, the refund ends SUCCESS or FAIL and the `refund`
notify goes out through the outbox. `advance_due` moves every refund that can move (the worker step)."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, and_, cast, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton import ids
from paybutton.apps import service as app_service
from paybutton.callbacks import outbox
from paybutton.callbacks.schedules import next_delay
from paybutton.context import Ctx
from paybutton.errors import TradeError
from paybutton.loop import run_every
from paybutton.order import store as order_store
from paybutton.order.states import ItemStatus, OrderStatus, payable
from paybutton.refund import rules, store
from paybutton.refund.rules import AuditStatus, RefundStatus, Source, Stage
from paybutton.tables import goods, item_orders, orders, payments, refund_items, refunds
from paybutton.tables import outbox as outbox_t

log = logging.getLogger("paybutton.refund")

CASHIER_LEASE_MS = 60_000
MAX_OUT_REFUND_NO = 64


@dataclass
class RefundRequest:
    source: Source
    entries: list[rules.Entry] | None = None
    quantity: int | None = None
    refund_total_amount: int | None = None
    reason: list[str] = field(default_factory=list)
    description: str = ""
    cp_extra: str | None = None
    out_refund_no: str | None = None  # the merchant's, when it creates the refund itself
    notify_url: str | None = None
    order_entry_schema: Any = None


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


async def _app(conn: AsyncConnection, ctx: Ctx, app_id: str) -> app_service.AppRow:
    """The app row through the caller's connection (SQLite has one connection per process: never open a second)."""
    hit = ctx.apps.get(app_id)
    if hit is None:
        hit = await app_service.get_app(conn, app_id)
        ctx.apps.put(hit)
    return hit


def units_of(items: list[Any]) -> list[rules.Unit]:
    return [rules.Unit(i.item_order_id, i.price, i.status, i.refunded_amount, i.refunding_amount) for i in items]


# ------------------------------------------------------------------ creating


async def create_refund(conn: AsyncConnection, ctx: Ctx, order: Any, req: RefundRequest) -> dict[str, Any]:
    """Write the refund and hold its money on the units, in the caller's transaction (never commits).
    Two refunds racing for the same money: the second guarded UPDATE finds no room and this one fails."""
    app = await _app(conn, ctx, order.app_id)
    if order.status != OrderStatus.SUCCESS:
        raise TradeError("NOTHING_REFUNDABLE", f"the order is {order.status}")
    items = await order_store.items_of(conn, order.order_id)
    amounts = rules.plan(units_of(items), legacy=bool(order.legacy), entries=req.entries, quantity=req.quantity,
                         refund_total_amount=req.refund_total_amount)
    if req.out_refund_no is not None:
        taken = await store.find(conn, order.app_id, out_refund_no=req.out_refund_no)
        if taken:
            raise TradeError("OUT_REFUND_NO_DUPLICATE", req.out_refund_no)
    now = ctx.clock.now_ms()
    rid = ids.refund_id()
    for iid in sorted(amounts):  # key order: no deadlocks between refunds of one order
        res = await conn.execute(store.RESERVE, {"iid": iid, "oid": order.order_id, "amt": amounts[iid], "now": now})
        if res.rowcount != 1:
            raise TradeError("ITEM_NOT_REFUNDABLE", f"{iid} changed meanwhile")
    need_audit = req.source == Source.USER and bool(app["need_refund_audit"])
    deadline = now + int(app["refund_audit_seconds"]) * 1000 if need_audit else None
    asks_merchant = req.source in (Source.USER, Source.EXPIRY) and bool(app["refund_url"])
    out_refund_no = req.out_refund_no
    if asks_merchant:
        stage, audit = Stage.PRE_REFUND, AuditStatus.INIT
    else:
        out_refund_no = out_refund_no or rid
        stage, audit = (Stage.AUDIT, AuditStatus.TOAUDIT) if need_audit else (Stage.READY, AuditStatus.INIT)
    row: dict[str, Any] = {
        "refund_id": rid, "app_id": order.app_id, "order_id": order.order_id, "out_refund_no": out_refund_no,
        "status": RefundStatus.PROCESSING.value, "stage": stage.value, "refund_total_amount": sum(amounts.values()),
        "source": int(req.source), "audit_status": audit.value, "need_refund_audit": 1 if need_audit else 2,
        "refund_audit_deadline": deadline, "deny_message": None, "reason": _dumps(req.reason),
        "description": req.description, "cp_extra": req.cp_extra, "notify_url": req.notify_url,
        "order_entry_schema": None if req.order_entry_schema is None else _dumps(req.order_entry_schema),
        "pre_refund_outbox_id": None, "locked_until": None, "channel_refund_id": None, "message": None,
        "created_at": now, "refund_at": None, "updated_at": now,
    }
    if asks_merchant:
        row["pre_refund_outbox_id"] = await outbox.enqueue(
            conn, ctx.clock, app_id=order.app_id, kind="pre_create_refund", url=app["refund_url"],
            msg=pre_refund_msg(order, row, amounts), order_id=order.order_id, refund_id=rid,
            schedule="pre_create_refund")
    await conn.execute(refunds.insert().values(**row))
    await conn.execute(refund_items.insert(), [
        {"refund_id": rid, "item_order_id": iid, "amount": amt} for iid, amt in sorted(amounts.items())])
    return view(row, [{"item_order_id": k, "amount": v} for k, v in sorted(amounts.items())])


def _item_detail(items: list[Any]) -> dict[str, Any]:
    its = [i if isinstance(i, dict) else dict(i._mapping) for i in items]
    return {"item_order_quantity": len(its),
            "item_order_detail": [{"item_order_id": i["item_order_id"], "refund_amount": i["amount"]} for i in its]}


def pre_refund_msg(order: Any, r: dict[str, Any], amounts: dict[str, int]) -> dict[str, Any]:
    """The pre_create_refund msg (reference §14.3)."""
    return {
        "app_id": order.app_id, "open_id": order.open_id, "refund_id": r["refund_id"], "order_id": order.order_id,
        "out_order_no": order.out_order_no or "", "refund_total_amount": r["refund_total_amount"],
        "need_refund_audit": r["need_refund_audit"], "refund_audit_deadline": r["refund_audit_deadline"] or 0,
        "create_refund_time": r["created_at"], "refund_source": r["source"],
        "refund_reason": json.loads(r["reason"] or "[]"), "refund_description": r["description"] or "",
        "cp_extra": r["cp_extra"] or "",
        "refund_item_detail": _item_detail([{"item_order_id": k, "amount": v} for k, v in sorted(amounts.items())]),
    }


def refund_msg(r: Any, items: list[Any]) -> dict[str, Any]:
    """The refund result notify msg (reference §14.4)."""
    m = r if isinstance(r, dict) else dict(r._mapping)
    return {
        "app_id": m["app_id"], "status": m["status"], "order_id": m["order_id"], "refund_id": m["refund_id"],
        "out_refund_no": m["out_refund_no"] or "", "cp_extra": m["cp_extra"] or "",
        "refund_total_amount": m["refund_total_amount"], "refund_item_detail": _item_detail(items),
        "is_all_settled": False, "message": m["message"] or "", "event_time": m["refund_at"] or m["updated_at"],
        "refund_source": m["source"], "refund_type": 2 if m["source"] == Source.MERCHANT else 1,
    }


def view(r: Any, items: list[Any]) -> dict[str, Any]:
    """A refund as query_refund shows it (reference §16), plus our own fields."""
    m = r if isinstance(r, dict) else dict(r._mapping)
    its = [i if isinstance(i, dict) else dict(i._mapping) for i in items]
    return {
        "refund_id": m["refund_id"], "out_refund_no": m["out_refund_no"] or "", "order_id": m["order_id"],
        "refund_status": m["status"], "refund_total_amount": m["refund_total_amount"],
        "item_order_detail": [{"item_order_id": i["item_order_id"], "refund_amount": i["amount"]} for i in its],
        "refund_source": m["source"],
        "merchant_audit_detail": {
            "audit_status": m["audit_status"], "need_refund_audit": m["need_refund_audit"],
            "refund_audit_deadline": m["refund_audit_deadline"] or 0, "deny_message": m["deny_message"] or "",
        },
        "message": m["message"] or "", "create_at": m["created_at"], "refund_at": m["refund_at"] or 0,
        "stage": m["stage"],
    }


# ------------------------------------------------------------------ merchant audit


async def merchant_audit(conn: AsyncConnection, ctx: Ctx, app_id: str, out_refund_no: str, agree: bool,
                         deny_message: str | None) -> str:
    """refund/merchant_audit_callback: TOAUDIT -> AGREE (to the cashier) or DENY (the refund FAILs, its money is
    free again, the notify goes out), in the caller's transaction. Returns the refund id."""
    if not agree and not deny_message:
        raise TradeError("INVALID_PARAMETER", "deny_message is required when denying")
    now = ctx.clock.now_ms()
    got = (await conn.execute(store.AUDIT, {
        "app": app_id, "orn": out_refund_no, "now": now,
        "audit": (AuditStatus.AGREE if agree else AuditStatus.DENY).value,
        "deny": None if agree else deny_message, "stage": (Stage.READY if agree else Stage.AUDIT).value,
    })).first()
    if got is None:
        if not await store.find(conn, app_id, out_refund_no=out_refund_no):
            raise TradeError("REFUND_NOT_FOUND", out_refund_no)
        raise TradeError("REFUND_STATUS_CONFLICT", "the refund is not waiting for an audit")
    if not agree:
        await _finish(conn, ctx, got.refund_id, Stage.AUDIT, ok=False, message=f"merchant denied: {deny_message}")
    return str(got.refund_id)


# ------------------------------------------------------------------ finishing


async def _finish(conn: AsyncConnection, ctx: Ctx, refund_id: str, from_stage: Stage, *, ok: bool, message: str,
                  channel_refund_id: str | None = None) -> bool:
    """PROCESSING -> SUCCESS | FAIL with the units' money settled or released and the notify enqueued."""
    now = ctx.clock.now_ms()
    res = await conn.execute(store.FINISH, {
        "rid": refund_id, "from_stage": from_stage.value,
        "to_status": (RefundStatus.SUCCESS if ok else RefundStatus.FAIL).value, "message": message[:500],
        "channel_refund_id": channel_refund_id, "refund_at": now if ok else None, "now": now})
    if res.rowcount != 1:
        return False
    items = await store.items_of(conn, refund_id)
    for it in items:
        moved = await conn.execute(store.SETTLE if ok else store.RELEASE,
                                   {"iid": it.item_order_id, "amt": it.amount, "now": now})
        if moved.rowcount != 1:
            raise RuntimeError(f"refund {refund_id}: item {it.item_order_id} does not hold {it.amount}")
    r = await store.refund_row(conn, refund_id)
    assert r is not None
    app = await _app(conn, ctx, r.app_id)
    url = r.notify_url or app["refund_url"] or app["payment_notify_url"]
    await outbox.enqueue(conn, ctx.clock, app_id=r.app_id, kind="refund", url=url, msg=refund_msg(r, items),
                         order_id=r.order_id, refund_id=refund_id, schedule="refund")
    return True


async def _paid_attempt(conn: AsyncConnection, r: Any, o: Any) -> Any:
    """The payment attempt a refund gives money back from: its own (a late payment's), else the one that paid the
    order. None for a payment recorded before attempts existed."""
    pid = r.payment_id or o.payment_id
    if pid is None:
        return None
    return (await conn.execute(select(payments).where(payments.c.payment_id == pid))).first()


async def _through_cashier(ctx: Ctx, refund_id: str) -> None:
    """Ask the channel that took the payment (the attempt's provider) to refund it. The refund id is the channel's
    idempotency key, so a retry after the lease is the same refund. A `pending` answer leaves the refund at the
    CASHIER stage: the channel's refund notify (settle_channel_refund) or a later retry ends it."""
    now = ctx.clock.now_ms()
    async with ctx.db.tx() as conn:
        res = await conn.execute(store.CLAIM_CASHIER, {"rid": refund_id, "now": now, "until": now + CASHIER_LEASE_MS})
        if res.rowcount != 1:
            return
        r = await store.refund_row(conn, refund_id)
        assert r is not None
        o = await order_store.order_row(conn, r.order_id)
        assert o is not None
        p = await _paid_attempt(conn, r, o)
        app = await _app(conn, ctx, r.app_id)
    cashier = ctx.cashier_by_provider(app, p.provider) if p is not None else ctx.cashier
    result = await cashier.refund(
        refund_id=refund_id, order_id=r.order_id, amount=r.refund_total_amount,
        channel_pay_id=p.channel_pay_id if p is not None else o.channel_pay_id,
        out_trade_no=p.payment_id if p is not None else None, total=p.amount if p is not None else None)
    if result.pending:
        log.info("refund %s: accepted by the channel, waiting for its notify", refund_id)
        return
    async with ctx.db.tx() as conn:
        await _finish(conn, ctx, refund_id, Stage.CASHIER, ok=result.ok,
                      message=result.message or ("refunded" if result.ok else "the channel refused"),
                      channel_refund_id=result.channel_refund_id)


async def settle_channel_refund(ctx: Ctx, app_id: str, refund_id: str, *, out_trade_no: str | None, ok: bool,
                                channel_refund_id: str | None, message: str = "") -> bool | None:
    """The channel's refund notify: end a refund waiting at the CASHIER stage, once. None: no such refund of this
    app and payment (refused, nothing changed); False: already ended (a replay, nothing changed); True: ended now."""
    async with ctx.db.tx() as conn:
        r = await store.refund_row(conn, refund_id)
        if r is None or r.app_id != app_id:
            log.warning("refund notify: no refund %s of app %s; refused", refund_id, app_id)
            return None
        o = await order_store.order_row(conn, r.order_id)
        p = await _paid_attempt(conn, r, o)
        if out_trade_no is not None and (p is None or p.payment_id != out_trade_no):
            log.warning("refund notify: refund %s is not of payment %s; refused", refund_id, out_trade_no)
            return None
        return await _finish(conn, ctx, refund_id, Stage.CASHIER, ok=ok,
                             message=message or ("refunded" if ok else "the channel refused"),
                             channel_refund_id=channel_refund_id)


# ------------------------------------------------------------------ moving refunds on


def _parse_pre_refund(answer: str | None) -> tuple[str, str | None, str | None] | None:
    """(out_refund_no, notify_url, order_entry_schema JSON) from the stored answer data, None if unusable."""
    try:
        data = json.loads(answer) if answer else None
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    no = data.get("out_refund_no")
    if not isinstance(no, str) or not 0 < len(no) <= MAX_OUT_REFUND_NO:
        return None
    url = data.get("notify_url")
    schema = data.get("order_entry_schema")
    return no, url if isinstance(url, str) and url else None, None if schema is None else _dumps(schema)


async def _reopen(ctx: Ctx, outbox_id: int, why: str) -> None:
    """The merchant said err_no 0 but its answer is unusable: that counts as a failed attempt, retried."""
    now = ctx.clock.now_ms()
    async with ctx.db.tx() as conn:
        ob = (await conn.execute(select(outbox_t).where(outbox_t.c.id == outbox_id))).first()
        if ob is None or ob.status != outbox.DONE:
            return
        delay = next_delay(ob.schedule, ob.attempts)
        values: dict[str, Any] = {"last_error": why, "updated_at": now, "answer_data": None}
        if delay is None:
            values["status"] = outbox.DEAD
        else:
            values.update(status=outbox.PENDING, next_attempt_at=now + delay * 1000)
        await conn.execute(update(outbox_t).where(outbox_t.c.id == outbox_id, outbox_t.c.status == outbox.DONE)
                           .values(**values))


async def _take_pre_refund_answer(ctx: Ctx, r: Any) -> None:
    async with ctx.db.engine.connect() as conn:
        ob = (await conn.execute(select(outbox_t.c.status, outbox_t.c.answer_data)
                                 .where(outbox_t.c.id == r.pre_refund_outbox_id))).first()
    if ob is None or ob.status not in (outbox.DONE, outbox.DEAD):
        return
    # The merchant never answered within the schedule (3 days): approved with our own number, as the platform does.
    parsed = (r.refund_id, None, None) if ob.status == outbox.DEAD else _parse_pre_refund(ob.answer_data)
    if parsed is None:
        await _reopen(ctx, r.pre_refund_outbox_id, "answer data has no valid out_refund_no")
        return
    no, url, schema = parsed
    need_audit = r.need_refund_audit == 1
    try:
        async with ctx.db.tx() as conn:
            if await store.find(conn, r.app_id, out_refund_no=no):
                raise TradeError("OUT_REFUND_NO_DUPLICATE", no)
            await conn.execute(store.SET_OUT_REFUND_NO, {
                "rid": r.refund_id, "orn": no, "notify_url": url or r.notify_url, "schema": schema,
                "stage": (Stage.AUDIT if need_audit else Stage.READY).value,
                "audit": (AuditStatus.TOAUDIT if need_audit else AuditStatus.INIT).value, "now": ctx.clock.now_ms()})
    except (TradeError, IntegrityError):
        await _reopen(ctx, r.pre_refund_outbox_id, f"out_refund_no {no} is already used by another refund")


async def advance(ctx: Ctx, refund_id: str) -> None:
    """Move one refund as far as it can go now."""
    async with ctx.db.engine.connect() as conn:
        r = await store.refund_row(conn, refund_id)
    if r is None or r.status != RefundStatus.PROCESSING:
        return
    if r.stage == Stage.PRE_REFUND:
        await _take_pre_refund_answer(ctx, r)
    elif r.stage == Stage.AUDIT:
        async with ctx.db.tx() as conn:
            await conn.execute(store.OVERTIME, {"rid": refund_id, "now": ctx.clock.now_ms()})
    async with ctx.db.engine.connect() as conn:
        r = await store.refund_row(conn, refund_id)
    if r is not None and r.status == RefundStatus.PROCESSING and r.stage in (Stage.READY, Stage.CASHIER):
        await _through_cashier(ctx, refund_id)


async def refund_late_payment(ctx: Ctx, order_id: str) -> str | None:
    """The buyer paid an order that had ended (timed out, closed, or paid by another attempt): give each such
    payment back whole (source 6, no audit, no pre_create_refund; the merchant never accepted it), one refund per
    late attempt, naming it. The flag flips in the same transaction, so each late payment is refunded once."""
    now = ctx.clock.now_ms()
    rid = ids.refund_id()
    async with ctx.db.tx() as conn:
        res = await conn.execute(update(orders).where(orders.c.order_id == order_id,
                                                      orders.c.auto_refund_pending.is_(True))
                                 .values(auto_refund_pending=False, updated_at=now))
        if res.rowcount != 1:
            return None
        o = await order_store.order_row(conn, order_id)
        assert o is not None
        refunded = select(refunds.c.refund_id).where(refunds.c.payment_id == payments.c.payment_id)
        late = (await conn.execute(select(payments.c.payment_id, payments.c.amount).where(
            payments.c.order_id == order_id, payments.c.late.is_(True), payments.c.outcome == "SUCCESS",
            ~refunded.exists()).order_by(payments.c.created_at))).all()
        made = []
        for i, (pid, amount) in enumerate(late):  # one refund per late payment: each is its own channel trade
            one = rid if i == 0 else ids.refund_id()
            made.append(one)
            await conn.execute(refunds.insert().values(
                refund_id=one, app_id=o.app_id, order_id=order_id, out_refund_no=one, payment_id=pid,
                status=RefundStatus.PROCESSING.value, stage=Stage.READY.value, refund_total_amount=int(amount),
                source=int(Source.LATE_PAYMENT), audit_status=AuditStatus.INIT.value, need_refund_audit=2,
                reason=_dumps(["the order ended before the payment"]), description="", cp_extra=o.cp_extra,
                created_at=now, updated_at=now))
    for one in made:
        await advance(ctx, one)
    return rid if made else None


async def refund_expired(ctx: Ctx, order_id: str) -> str | None:
    """EXPIRED_RETURNS goods whose validity ended: refund the unused units (source 3), through the usual flow."""
    async with ctx.db.tx() as conn:
        order = await order_store.order_row(conn, order_id)
        if order is None or order.status != OrderStatus.SUCCESS:
            return None
        entries = rules.expiry_entries(units_of(await order_store.items_of(conn, order_id)))
        if not entries:
            return None
        r = await create_refund(conn, ctx, order, RefundRequest(source=Source.EXPIRY, entries=entries,
                                                                reason=["过期退"], description="validity ended"))
    await nudge(ctx, r["refund_id"])
    return str(r["refund_id"])


def _expired_orders(now: int, limit: int) -> Any:
    """Paid EXPIRED_RETURNS orders past their validity with an unused unit, not already failed once."""
    unused = select(item_orders.c.item_order_id).where(
        item_orders.c.order_id == orders.c.order_id, item_orders.c.status == int(ItemStatus.UNUSED),
        item_orders.c.refunding_amount == 0)
    failed = select(refunds.c.refund_id).where(
        refunds.c.order_id == orders.c.order_id, refunds.c.source == int(Source.EXPIRY),
        refunds.c.status == RefundStatus.FAIL.value)
    return (
        select(orders.c.order_id)
        .select_from(orders.join(goods, and_(goods.c.app_id == orders.c.app_id, goods.c.goods_id == orders.c.goods_id)))
        .where(
            orders.c.status == OrderStatus.SUCCESS.value,
            goods.c.valid_days.is_not(None),
            orders.c.paid_at + cast(goods.c.valid_days, BigInteger) * rules.DAY_MS <= now,
            orders.c.goods_snapshot.contains('"EXPIRED_RETURNS"'),
            unused.exists(), ~failed.exists(),
        )
        .limit(limit)
    )


async def advance_due(ctx: Ctx, limit: int = 100) -> int:
    """The worker step: refunds whose pre_create_refund was answered, whose audit deadline passed or that wait
    for the cashier, and late payments to give back. Safe with several instances (guarded updates)."""
    now = ctx.clock.now_ms()
    answered = and_(refunds.c.stage == Stage.PRE_REFUND.value, outbox_t.c.status.in_((outbox.DONE, outbox.DEAD)))
    overdue = and_(refunds.c.stage == Stage.AUDIT.value, refunds.c.refund_audit_deadline <= now)
    ready = or_(refunds.c.stage == Stage.READY.value,
                and_(refunds.c.stage == Stage.CASHIER.value, refunds.c.locked_until <= now))
    q = (select(refunds.c.refund_id)
         .select_from(refunds.outerjoin(outbox_t, outbox_t.c.id == refunds.c.pre_refund_outbox_id))
         .where(refunds.c.status == RefundStatus.PROCESSING.value, or_(answered, overdue, ready))
         .order_by(refunds.c.created_at).limit(limit))
    late = select(orders.c.order_id).where(orders.c.auto_refund_pending.is_(True)).limit(limit)
    async with ctx.db.engine.connect() as conn:
        due = list((await conn.execute(q)).scalars())
        late_orders = list((await conn.execute(late)).scalars())
        expired = list((await conn.execute(_expired_orders(now, limit))).scalars())
    moved = 0
    for rid in due:
        try:
            await advance(ctx, rid)
            moved += 1
        except Exception:
            log.exception("refund %s: could not advance", rid)
    for oid in late_orders:
        try:
            if await refund_late_payment(ctx, oid):
                moved += 1
        except Exception:
            log.exception("order %s: could not refund the late payment", oid)
    for oid in expired:
        try:
            if await refund_expired(ctx, oid):
                moved += 1
        except TradeError as e:
            log.info("order %s: no expiry refund (%s)", oid, e.name)
        except Exception:
            log.exception("order %s: could not refund the expired units", oid)
    return moved


async def nudge(ctx: Ctx, refund_id: str) -> None:
    """Advance right after the request committed; anything left is the worker's (never fails the request)."""
    try:
        await advance(ctx, refund_id)
    except Exception:
        log.exception("refund %s: could not advance now; the worker will", refund_id)


# ------------------------------------------------------------------ the buyer's side (pages, pay-button)


async def _buyer_order(conn: AsyncConnection, app_id: str, open_id: str, ref: str) -> Any:
    row = await order_store.find_buyer_order(conn, app_id, open_id, ref)
    if row is None:
        raise TradeError("ORDER_ID_INVALID", ref)
    return row


async def buyer_refundable(ctx: Ctx, app_id: str, open_id: str, ref: str) -> dict[str, Any]:
    """What refund-apply shows: each unit with what it can still give back."""
    async with ctx.db.engine.connect() as conn:
        order = await _buyer_order(conn, app_id, open_id, ref)
        items = await order_store.items_of(conn, order.order_id)
    units = units_of(items) if order.status == OrderStatus.SUCCESS else []
    return {
        "order_id": order.order_id, "out_order_no": order.out_order_no or "", "legacy": bool(order.legacy),
        "payable": payable(order.total_amount, order.discount_amount),
        "refundable_amount": sum(rules.refundable(u) for u in units),
        "refundable_units": sum(1 for u in units if rules.untouched(u)),
        "items": [{"item_order_id": u.item_order_id, "price": u.price, "status": u.status,
                   "refunded_amount": u.refunded, "refunding_amount": u.refunding,
                   "refundable_amount": rules.refundable(u)} for u in units],
    }


def _timeline(r: Any) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = [{"step": "applied", "at": r.created_at}]
    if r.need_refund_audit == 1:
        steps.append({"step": "audit", "status": r.audit_status, "deadline": r.refund_audit_deadline,
                      "deny_message": r.deny_message or ""})
    if r.status == RefundStatus.SUCCESS:
        steps.append({"step": "refunded", "at": r.refund_at})
    elif r.status == RefundStatus.FAIL:
        steps.append({"step": "failed", "at": r.updated_at, "message": r.message or ""})
    return steps


async def buyer_detail(ctx: Ctx, app_id: str, open_id: str, ref: str) -> dict[str, Any]:
    """refund-detail: by refund id or out_refund_no, the buyer's own refunds only."""
    async with ctx.db.engine.connect() as conn:
        rows = await store.find(conn, app_id, refund_id=ref) or await store.find(conn, app_id, out_refund_no=ref)
        if not rows:
            raise TradeError("REFUND_NOT_FOUND", ref)
        r = rows[0]
        order = await order_store.order_row(conn, r.order_id)
        if order is None or order.open_id != open_id:
            raise TradeError("REFUND_NOT_FOUND", ref)
        items = await store.items_of(conn, r.refund_id)
    v = view(r, items)
    return {
        **v, "status": r.status, "amount": r.refund_total_amount, "out_order_no": order.out_order_no or "",
        "items": v["item_order_detail"], "audit_status": r.audit_status,
        "refund_audit_deadline": r.refund_audit_deadline, "deny_message": r.deny_message or "",
        "reason": json.loads(r.reason or "[]"), "description": r.description or "", "timeline": _timeline(r),
    }


async def run_refund_worker(ctx: Ctx, stop: asyncio.Event | None = None) -> None:
    """advance_due every sweep interval, forever (or until `stop`); errors are logged and the loop goes on."""

    async def step() -> bool:
        return bool(await advance_due(ctx))

    await run_every("refund worker", step, lambda: ctx.settings.sweep_interval_seconds, stop)


async def buyer_refunds(ctx: Ctx, app_id: str, open_id: str, ref: str) -> dict[str, Any]:
    """The order's refunds, newest first, with the pay-button's derived order-status (1 apply, 2 refunding,
    3 refunded, 4 failed) from the newest one."""
    async with ctx.db.engine.connect() as conn:
        order = await _buyer_order(conn, app_id, open_id, ref)
        rows = await store.find(conn, app_id, order_id=order.order_id)
    rows.reverse()
    latest = rows[0].status if rows else None
    button = {None: 1, RefundStatus.PROCESSING.value: 2, RefundStatus.SUCCESS.value: 3, RefundStatus.FAIL.value: 4}
    return {
        "order_id": order.order_id, "out_order_no": order.out_order_no or "", "order_status": button[latest],
        "refunds": [{"refund_id": r.refund_id, "out_refund_no": r.out_refund_no or "", "status": r.status,
                     "refund_total_amount": r.refund_total_amount, "audit_status": r.audit_status,
                     "created_at": r.created_at, "refund_at": r.refund_at} for r in rows],
    }
