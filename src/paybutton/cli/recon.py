"""`paybutton reconcile`: one day's reconciliation of an app with its channels' bills, on demand (the worker runs
yesterday's by itself once the bills are ready). Exit 0 when everything matched or was settled, 1 when a break is
left (this day's or an earlier one still open), 3 when a bill could not be had (nothing changed; try again later).
`--resolve ID --note TEXT` closes a break a person has dealt with (the line ids are in the report)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import typer

from paybutton import clikit
from paybutton.apps import service as app_service
from paybutton.clikit import DatabaseOpt, JsonFlag
from paybutton.clock import SystemClock
from paybutton.context import Ctx
from paybutton.db import Database
from paybutton.kernel.outbound import CallbackClient
from paybutton.kernel.signing import Signer
from paybutton.money import yuan
from paybutton.recon import running, store, views
from paybutton.recon.bill import beijing_now, parse_day

PROBLEMS = {
    "not_ready": "no bill for this day yet",
    "download": "the bill did not download",
    "hash": "the bill's hash does not match",
    "format": "the bill is not in the documented format",
    "encoding": "the bill is not in the documented encoding",
}


def _day(text: str | None) -> date:
    if text is None:
        return beijing_now(SystemClock().now_ms()).date() - timedelta(days=1)
    try:
        return parse_day(text)
    except ValueError:
        clikit.fail(f"--date {text!r} is not a day: give YYYY-MM-DD (a Beijing-time day)")


async def _ctx(db: Database, database: str | None) -> Ctx:
    clock = SystemClock()
    async with db.tx() as conn:
        private_pem, _ = await app_service.ensure_platform_key(conn, clock)
    return Ctx(settings=clikit.settings_for(database), db=db, clock=clock, signer=Signer(private_pem),
               http=CallbackClient())


def _line(ln: dict[str, Any]) -> str:
    key = ln["out_refund_no"] or ln["out_trade_no"]
    amounts = f"channel {_money(ln['channel_amount'])}, ours {_money(ln['our_amount'])}"
    return (f"    #{ln['id']} {ln['klass']:<6} {ln['kind']:<6} {key}  {amounts}  {ln['state']}/{ln['action']}  "
            f"{ln['note'] or ''}")


def _money(fen: int | None) -> str:
    return "-" if fen is None else f"¥{yuan(fen)}"


def human(rep: dict[str, Any]) -> str:
    out = [f"reconciliation of {rep['app_id']} for {rep['date']} (Beijing)"]
    if not rep["runs"]:
        out.append("  no channel to reconcile")
    for r in rep["runs"]:
        if r["state"] != "DONE":
            why = PROBLEMS.get(r["problem"] or "", r["state"])
            out.append(f"  {r['channel']}: not reconciled: {why}: {r['message'] or ''} (nothing changed; "
                       f"tried again later)")
            continue
        c, a = r["counts"], r["amounts"]
        out.append(f"  {r['channel']}: {r['bill_lines']} bill lines; " + ", ".join(
            f"{k} {c[k]} ({_money(a[k])})" for k in views.CLASSES))
        out += [_line(ln) for ln in r["lines"]]
    if rep["open_breaks"]:
        out.append(f"  breaks still open: {len(rep['open_breaks'])}")
        out += [f"  {b['date']} {b['channel']}" + _line(b)[3:] for b in rep["open_breaks"]]
    if rep["pending"]:
        out.append(f"  shorts waiting for the next day's bill: {rep['pending']}")
    return "\n".join(out)


def _resolve(app_id: str, ids: list[int], note: str | None, database: str | None) -> None:
    if not note or not note.strip():
        clikit.fail("--resolve needs --note: say what was done about the line (e.g. 'refunded by hand')")

    async def go(db: Database) -> tuple[int, int]:
        async with db.tx() as conn:
            n = await store.resolve_by_hand(conn, app_id, ids, SystemClock().now_ms(),
                                            f"resolved by hand: {note.strip()[:400]}")
            left = [r for r in await store.open_lines(conn, app_id) if r.state == "break"]
        return n, len(left)

    n, left = clikit.run(database, go, app_id=app_id)
    typer.echo(f"resolved {n} line(s); {left} break(s) still open")


def reconcile(app_id: str = typer.Option(..., "--app"),
              day: str | None = typer.Option(None, "--date", help="YYYY-MM-DD, Beijing time (default: yesterday)"),
              as_json: bool = JsonFlag, database: str | None = DatabaseOpt,
              resolve: list[int] = typer.Option([], "--resolve", help="mark this open line (its id) resolved"),
              note: str | None = typer.Option(None, "--note", help="with --resolve: what was done")) -> None:
    """Reconcile one day of an app with its channels' bills (对账): matched, long (settled through the paid or
    late-payment path), short (open until the next day's bill), differences (reported, never changed). With
    --resolve ID --note TEXT: close a break a person has dealt with instead."""
    if resolve:
        _resolve(app_id, resolve, note, database)
        return
    the_day = _day(day)

    async def go(db: Database) -> dict[str, Any]:
        ctx = await _ctx(db, database)
        try:
            await running.reconcile_app(ctx, app_id, the_day)
        except running.DayNotOver as e:
            clikit.fail(str(e))
        finally:
            await ctx.http.aclose()
        async with db.engine.connect() as conn:
            return await views.day_report(conn, app_id, the_day.isoformat())

    rep = clikit.run(database, go, app_id=app_id)
    clikit.out(rep, as_json, human)
    if rep["open_breaks"]:
        raise typer.Exit(1)
    if any(r["state"] != "DONE" for r in rep["runs"]):
        raise typer.Exit(3)
