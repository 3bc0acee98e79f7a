"""`paybutton orders list|show`: the console's order list and order page from a shell (plain or --json). The
list filters as the console's does (status; order id, out_order_no or buyer) and by goods and creation time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import typer
from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from paybutton import clikit, money
from paybutton.clikit import DatabaseOpt, JsonFlag, beijing_time
from paybutton.clock import BEIJING
from paybutton.console.order_queries import last_attempt, read_order_detail
from paybutton.db import Database
from paybutton.order.states import OrderStatus, payable
from paybutton.tables import orders

orders_cli = clikit.group("Orders: list (filtered as the console's list) and show (the order page).")

MAX_LIMIT = 500
STATUSES = [s.value for s in OrderStatus]
COLUMNS = (orders.c.order_id, orders.c.out_order_no, orders.c.open_id, orders.c.goods_id, orders.c.quantity,
           orders.c.total_amount, orders.c.discount_amount, orders.c.status, orders.c.pre_order_status,
           orders.c.created_at, orders.c.paid_at)
HEADER = (f"{'order':<26} {'created (+08:00)':<25} {'status':<8} {'last pay':<9} {'payable':>10}  "
          f"{'goods × qty':<24} {'out_order_no':<24} buyer")


def parse_moment(value: str, option: str) -> int:
    """A date (2026-12-01: its midnight) or a time (2026-12-01T10:00), Beijing time unless it has an offset;
    epoch ms. Anything else is one line and exit 2."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        clikit.fail(f"{option} takes a date or time like 2026-12-01 or 2026-12-01T10:00:00+08:00, got {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BEIJING)
    return int(moment.timestamp() * 1000)


def _filters(app_id: str, status: str | None, q: str | None, out_order_no: str | None, buyer: str | None,
             goods_id: str | None, since: str | None, until: str | None) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [orders.c.app_id == app_id]
    if status:
        if status.upper() not in STATUSES:
            clikit.fail(f"--status is one of {', '.join(STATUSES)}, got {status!r}")
        conds.append(orders.c.status == status.upper())
    if q:
        conds.append((orders.c.order_id == q) | (orders.c.out_order_no == q) | (orders.c.open_id == q))
    for column, value in ((orders.c.out_order_no, out_order_no), (orders.c.open_id, buyer),
                          (orders.c.goods_id, goods_id)):
        if value:
            conds.append(column == value)
    if since:
        conds.append(orders.c.created_at >= parse_moment(since, "--since"))
    if until:
        conds.append(orders.c.created_at < parse_moment(until, "--until"))
    return conds


def _row(r: Any) -> dict[str, Any]:
    """A list row, a mapping of COLUMNS and last_pay (as the console's list): not the whole Order per line."""
    d = dict(r._mapping)
    d["payable"] = payable(d["total_amount"], d["discount_amount"])
    return d


def _line(o: dict[str, Any]) -> str:
    goods = f"{o['goods_id']} × {o['quantity']}"
    return (f"{o['order_id']:<26} {beijing_time(o['created_at']):<25} {o['status']:<8} {o['last_pay'] or '-':<9} "
            f"{'¥' + money.yuan(o['payable']):>10}  {goods:<24} {o['out_order_no'] or '-':<24} {o['open_id']}")


@orders_cli.command("list")
def orders_list(
    app_id: str = typer.Option(..., "--app"),
    status: str | None = typer.Option(None, help=", ".join(STATUSES)),
    q: str | None = typer.Option(None, "--q", help="an order id, out_order_no or buyer open_id (the console's search)"),
    out_order_no: str | None = typer.Option(None, "--out-order-no"),
    buyer: str | None = typer.Option(None, "--buyer", help="the buyer's open_id"),
    goods_id: str | None = typer.Option(None, "--goods"),
    since: str | None = typer.Option(None, help="created at or after (date or time; Beijing time without offset)"),
    until: str | None = typer.Option(None, help="created before (date or time; Beijing time without offset)"),
    limit: int = typer.Option(50, help=f"orders per page, 1..{MAX_LIMIT}"),
    page: int = typer.Option(1, help="page number, from 1"),
    as_json: bool = JsonFlag,
    database: str | None = DatabaseOpt,
) -> None:
    """The app's orders, newest first: id, created, status, last payment attempt, payable, goods, out_order_no,
    buyer."""
    if not 1 <= limit <= MAX_LIMIT or not 1 <= page <= 1_000_000:
        clikit.fail(f"--limit is 1..{MAX_LIMIT} and --page 1..1000000")
    conds = _filters(app_id, status, q, out_order_no, buyer, goods_id, since, until)
    stmt = (select(*COLUMNS, last_attempt()).where(*conds)
            .order_by(orders.c.created_at.desc(), orders.c.order_id.desc()).limit(limit + 1).offset((page - 1) * limit))

    async def go(db: Database) -> dict[str, Any]:
        async with db.engine.connect() as conn:
            rows = [_row(r) for r in (await conn.execute(stmt)).all()]
        return {"orders": rows[:limit], "page": page, "has_more": len(rows) > limit}

    def human(got: dict[str, Any]) -> str:
        if not got["orders"]:
            return "no orders"
        more = [f"more: --page {got['page'] + 1}"] if got["has_more"] else []
        return "\n".join([HEADER, *(_line(o) for o in got["orders"]), *more])

    clikit.out(clikit.run(database, go, app_id=app_id), as_json, human)


def _detail_text(d: dict[str, Any]) -> str:
    o = d["order"]
    lines = [f"order {o['order_id']}  ({o['status']}, pre_create_order {o['pre_order_status']})",
             f"  out_order_no {o['out_order_no'] or '-'}  buyer {o['open_id']}  "
             f"goods {o['goods_id']} × {o['quantity']}",
             f"  amount ¥{money.yuan(o['total_amount'])}  discount ¥{money.yuan(o['discount_amount'])}  "
             f"payable ¥{money.yuan(o['payable'])}",
             f"  created {beijing_time(o['created_at'])}  pay by {beijing_time(o['pay_expire_at'])}  "
             f"paid {beijing_time(o['paid_at'])}"]
    if o.get("message"):
        lines.append(f"  message: {o['message']}")
    lines.append("item orders:")
    lines += [f"  {i['item_order_id']}  status {i['status']}  ¥{money.yuan(i['price'])}  refunded "
              f"¥{money.yuan(i['refunded_amount'])}  voucher {i['voucher_code'] or '-'}" for i in d["items"]]
    lines.append("payments:")
    lines += [f"  {p['payment_id']}  {p['channel']}  {p['state']}/{p['outcome']}  ¥{money.yuan(p['amount'])}  "
              f"{beijing_time(p['created_at'])}" for p in d["payments"]] or ["  -"]
    lines.append("refunds:")
    lines += [f"  {r['refund_id']}  {r['status']}  audit {r['audit_status']}  ¥{money.yuan(r['refund_total_amount'])}"
              for r in d["refunds"]] or ["  -"]
    lines.append("timeline:")
    lines += [f"  {beijing_time(e['at'])}  {'ok ' if e['ok'] else 'NO '} {e['kind'][3:]:<12} {e['text']}"
              for e in d["timeline"]]
    return "\n".join(lines)


@orders_cli.command("show")
def orders_show(order_id: str, app_id: str = typer.Option(..., "--app"), as_json: bool = JsonFlag,
                database: str | None = DatabaseOpt) -> None:
    """One order as the console's order page shows it: item orders, payments, refunds, callbacks, timeline."""

    async def go(db: Database) -> dict[str, Any]:
        async with db.engine.connect() as conn:
            detail = await read_order_detail(conn, app_id, order_id)
        if detail is None:
            clikit.fail(f"no order {order_id} in app {app_id}")
        return dict(detail)

    clikit.out(clikit.run(database, go, app_id=app_id), as_json, _detail_text)
