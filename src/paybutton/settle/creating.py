"""Creating a settle, for create_settle and the automatic settles, in the caller's transaction:

1. the same out_settle_no again answers the first settle (of the same order and unit; another is 23111);
2. the order must be paid, and an app that settles automatically refuses the developer's calls (23117);
3. settle_params' receivers must exist (an app's seller uid or a registered receiver);
4. the rules pick the units and their fen (rules.pick) and split the total (rake, receivers, the seller);
5. each unit's money is taken by one guarded UPDATE (store.TAKE), in key order: two settles (or a settle and a
   refund) racing for one unit, the second finds it taken and fails, and its transaction writes nothing;
6. the settle row, its ledger txn (kind "settle": held -> merchant / receivers / platform:fees) and its `settle`
   callback (outbox) are written together, with its channel share (sharing.plan) when the order was paid through a
   real channel and receivers are named (sent after the commit: sharing.advance)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton import ids, ledger
from paybutton.apps import settle_rules
from paybutton.callbacks import outbox
from paybutton.context import Ctx
from paybutton.errors import TradeError
from paybutton.order.rows import Order
from paybutton.order.states import OrderStatus
from paybutton.settle import rules, sharing, store
from paybutton.settle.messages import settle_msg
from paybutton.tables import settles


@dataclass(frozen=True)
class SettleRequest:
    out_settle_no: str
    settle_desc: str = ""
    settle_params: str | None = None
    item_order_id: str | None = None
    notify_url: str | None = None
    cp_extra: str | None = None
    auto: bool = False


async def create_settle(conn: AsyncConnection, ctx: Ctx, order: Order, req: SettleRequest) -> Any:
    """Write the settle and move its money, in the caller's transaction (never commits). Returns the settles row."""
    first = await store.by_out_settle_no(conn, order.app_id, req.out_settle_no)
    if first is not None:
        if first.order_id == order.order_id and first.item_order_id == req.item_order_id:
            return first
        raise TradeError("OUT_SETTLE_NO_DUPLICATE", req.out_settle_no)
    if order.status != OrderStatus.SUCCESS:
        raise TradeError("SETTLE_ORDER_NOT_PAID", f"the order is {order.status}")
    app = await ctx.app_in(conn, order.app_id)
    if not req.auto and app["settle_mode"] in settle_rules.AUTOMATIC:
        raise TradeError("SETTLE_AUTOMATIC", f"settle_mode {app['settle_mode']}")
    shares = rules.parse_params(req.settle_params)
    kinds = {s.merchant_uid: await store.account_of(conn, s.merchant_uid) for s in shares}
    if unknown := [uid for uid, k in kinds.items() if k is None]:
        raise TradeError("SETTLE_RECEIVER_UNKNOWN", ", ".join(unknown))
    picked = rules.pick(await store.units(conn, order.app_id, order.order_id), req.item_order_id,
                        after_redeem=app["settle_mode"] != "pay",
                        unit_settled=not req.auto and await store.unit_settled(conn, order.app_id, order.order_id))
    sp = rules.split(sum(picked.values()), app["rake_bps"], shares)
    now, sid = ctx.clock.now_ms(), ids.settle_id()
    for iid in sorted(picked):
        got = await conn.execute(store.TAKE, {"app": order.app_id, "iid": iid, "oid": order.order_id,
                                              "amt": picked[iid], "sid": sid, "now": now})
        if got.rowcount != 1:
            raise TradeError("SETTLE_NOTHING_LEFT", f"{iid} changed meanwhile")
    row = {
        "settle_id": sid, "app_id": order.app_id, "order_id": order.order_id, "out_order_no": order.out_order_no,
        "out_settle_no": req.out_settle_no, "item_order_id": req.item_order_id, "settle_desc": req.settle_desc,
        "settle_params": rules.dump_params(shares), "cp_extra": req.cp_extra, "notify_url": req.notify_url,
        "status": "SUCCESS", "is_auto": req.auto, "total_amount": sp.total, "rake": sp.rake,
        "commission": sp.commission, "settle_amount": sp.seller, "merchant_uid": app["merchant_uid"],
        "created_at": now, "settled_at": now,
    }
    await conn.execute(settles.insert().values(**row))
    units_left = any(rules.left(u) > 0 for u in await store.units(conn, order.app_id, order.order_id))
    await sharing.plan(conn, row, shares, kinds, units_left)  # the receivers' shares through a real channel
    await ledger.post(conn, app_id=order.app_id, kind=ledger.SETTLE, ref_id=sid, at_ms=now,
                      memo=req.settle_desc[:200], lines=_lines(order.order_id, req.item_order_id, app, sp, kinds))
    await outbox.enqueue(conn, ctx.clock, app_id=order.app_id, kind="settle",
                         url=req.notify_url or app["settle_url"], msg=settle_msg(row), order_id=order.order_id)
    return await store.by_out_settle_no(conn, order.app_id, req.out_settle_no)


def _lines(order_id: str, item_order_id: str | None, app: Any, sp: rules.Split, kinds: dict[str, str | None]
           ) -> list[ledger.Line]:
    """held:APP +total; merchant:SELLER -its part; each receiver -its share; platform:fees -rake (the unit's id on
    each line when one unit settles alone)."""
    def line(account: str, amount: int) -> ledger.Line:
        return ledger.Line(account, amount, order_id=order_id, item_order_id=item_order_id)

    lines = [line(ledger.held(app["app_id"]), sp.total), line(ledger.merchant(app["merchant_uid"]), -sp.seller),
             line(ledger.PLATFORM_FEES, -(sp.rake + sp.commission))]
    for s in sp.shares:
        kind = kinds[s.merchant_uid]
        lines.append(line(ledger.merchant(s.merchant_uid) if kind == "merchant" else ledger.receiver(s.merchant_uid),
                          -s.amount))
    return lines
