"""`paybutton callbacks ...`: read the callback log (list, attempts, show), replay a dead letter, send a test."""

from __future__ import annotations

import json
from typing import Any

import typer

from paybutton import clikit
from paybutton.callbacks import ops as callback_ops
from paybutton.callbacks import outbox
from paybutton.clikit import DatabaseOpt, JsonFlag, beijing_time
from paybutton.clock import SystemClock
from paybutton.db import Database

callbacks_cli = clikit.group("The callback log: list, show, attempts, replay, test.")

AppIdOpt: Any = typer.Option(..., "--app")
OrderIdOpt: Any = typer.Option(None, "--order")
PageLimitOpt: Any = typer.Option(50, help=f"rows per page, 1..{outbox.MAX_PAGE}")
CursorOpt: Any = typer.Option(None, help="the next_cursor of the previous page")

CALLBACK_HEADER = (f"{'id':>6}  {'type':<19} {'order/refund':<42} {'status':<7} {'tries':<5}  "
                   f"{'next try (+08:00)':<25}  last answer")


def _more(page: dict[str, Any]) -> list[str]:
    """The line that tells how to ask for the next page (none on the last page)."""
    return [f"more: --cursor {page['next_cursor']}"] if page["has_more"] else []


def _outcome(a: dict[str, Any]) -> str:
    return "ok" if a["ok"] else (a["error"] or "failed")


def _callback_line(r: dict[str, Any]) -> str:
    about = r.get("order_id") or "-"
    if r.get("refund_id"):
        about = f"{about}/{r['refund_id']}"
    head = (r.get("last_answer_head") or r.get("last_error") or "-").replace("\n", " ")[:60]
    tries = f"{r['attempts']}/{r['max_attempts'] or '-'}"
    nxt = beijing_time(r["next_attempt_at"])
    return f"{r['id']:>6}  {r['type']:<19} {about:<42} {r['status']:<7} {tries:<5}  {nxt:<25}  {head}"


def _attempt_line(a: dict[str, Any]) -> str:
    where = f"#{a['callback_id']}" if a["callback_id"] is not None else "sync"
    return (f"{a['id']:>6}  {where:<7} {a['type']:<19} {a.get('order_id') or '-':<26} {a['attempt']:>3}  "
            f"{beijing_time(a['started_at']):<25}  {a['duration_ms']:>5} ms  HTTP {a['http_status'] or '-':<3}  "
            f"{_outcome(a)}")


def _callback_text(c: dict[str, Any]) -> str:
    lines = [CALLBACK_HEADER, _callback_line(c), f"  url: {c['url'] or '-'}  ({c['identify_name']}, "
             f"schedule {c['schedule']})", f"  body: {c['body']}"]
    if c["answer_data"] is not None:
        lines.append(f"  answer data: {json.dumps(c['answer_data'], ensure_ascii=False)}")
    for a in c["attempt_log"]:
        lines.append(f"  attempt {a['attempt']}: {beijing_time(a['started_at'])}  {a['duration_ms']} ms  "
                     f"HTTP {a['http_status'] or '-'}  {_outcome(a)}  logid {a['logid']}")
        if a["answer_head"]:
            lines.append(f"    answer: {a['answer_head'][:200]}")
    return "\n".join(lines)


@callbacks_cli.command("list")
def callbacks_list(
    app_id: str = AppIdOpt,
    status: str | None = typer.Option(None, help="PENDING, DONE, DEAD, NO_URL"),
    kind: str | None = typer.Option(None, "--type", help="payment, refund, pre_create_refund, test…"),
    order_id: str | None = OrderIdOpt,
    refund_id: str | None = typer.Option(None, "--refund"),
    limit: int = PageLimitOpt,
    cursor: int | None = CursorOpt,
    as_json: bool = JsonFlag,
    database: str | None = DatabaseOpt,
) -> None:
    """List callbacks, newest first: type, order/refund, status, attempts, next try, last answer."""

    async def go(db: Database) -> dict[str, Any]:
        async with db.engine.connect() as conn:
            return await callback_ops.list_callbacks(conn, app_id, kind=kind, status=status, order_id=order_id,
                                                     refund_id=refund_id, limit=limit, cursor=cursor)

    def human(page: dict[str, Any]) -> str:
        rows = page["callback_list"]
        if not rows:
            return "no callbacks"
        return "\n".join([CALLBACK_HEADER, *(_callback_line(r) for r in rows), *_more(page)])

    clikit.out(clikit.run(database, go, app_id=app_id), as_json, human)


@callbacks_cli.command("attempts")
def callbacks_attempts(
    app_id: str = AppIdOpt,
    kind: str | None = typer.Option(None, "--type", help="pre_create_order, payment, query_marketing_info…"),
    order_id: str | None = OrderIdOpt,
    failed: bool = typer.Option(False, "--failed", help="only the failed attempts"),
    synchronous: bool | None = typer.Option(None, "--sync/--outbox", help="only synchronous calls / only outbox"),
    limit: int = PageLimitOpt,
    cursor: int | None = CursorOpt,
    as_json: bool = JsonFlag,
    database: str | None = DatabaseOpt,
) -> None:
    """Every callback attempt, newest first, including the synchronous pre_create_order and marketing calls."""

    async def go(db: Database) -> dict[str, Any]:
        async with db.engine.connect() as conn:
            return await callback_ops.list_attempts(conn, app_id, kind=kind, order_id=order_id,
                                                    ok=False if failed else None, synchronous=synchronous,
                                                    limit=limit, cursor=cursor)

    def human(page: dict[str, Any]) -> str:
        return "\n".join([_attempt_line(a) for a in page["attempt_list"]] + _more(page)) or "no attempts"

    clikit.out(clikit.run(database, go, app_id=app_id), as_json, human)


@callbacks_cli.command("show")
def callbacks_show(callback_id: int, app_id: str = AppIdOpt,
                   as_json: bool = JsonFlag, database: str | None = DatabaseOpt) -> None:
    """Show one callback with its exact body and every attempt."""

    async def go(db: Database) -> dict[str, Any]:
        async with db.engine.connect() as conn:
            return await callback_ops.get_callback(conn, app_id, callback_id)

    clikit.out(clikit.run(database, go, app_id=app_id), as_json, _callback_text)


@callbacks_cli.command("replay")
def callbacks_replay(callback_id: int, app_id: str = AppIdOpt,
                     as_json: bool = JsonFlag, database: str | None = DatabaseOpt) -> None:
    """Send a dead letter (status DEAD) again, now, with a fresh retry schedule (the running server sends it)."""

    async def go(db: Database) -> dict[str, Any]:
        async with db.tx() as conn:
            return await callback_ops.replay(conn, SystemClock(), app_id, callback_id)

    clikit.out(clikit.run(database, go, app_id=app_id), as_json,
               lambda c: f"callback {c['id']} queued again to {c['url']}")


@callbacks_cli.command("test")
def callbacks_test(
    app_id: str = AppIdOpt,
    kind: str = typer.Option("payment", "--kind", help=f"which URL: {', '.join(callback_ops.TEST_TARGETS)}"),
    wait: float = typer.Option(10.0, help="seconds to wait for the running server to deliver it (0: queue only)"),
    as_json: bool = JsonFlag,
    database: str | None = DatabaseOpt,
) -> None:
    """Queue a signed `test` callback to one of the app's URLs; the running server's dispatcher sends it.

    Exits 0 when the merchant answered err_no 0 (or it is still queued), 1 when the attempt failed."""

    async def go(db: Database) -> dict[str, Any]:
        async with db.tx() as conn:
            cid = await callback_ops.send_test_callback(conn, SystemClock(), app_id, kind)
        return await callback_ops.wait_settled(db.engine, app_id, cid, wait)

    def human(c: dict[str, Any]) -> str:
        said = {
            "DONE": "delivered: the merchant answered err_no 0",
            "DEAD": f"failed: {c['last_error']}",
            "PENDING": "queued, not sent yet: is `paybutton serve` running on this database?",
        }[c["status"]]
        return f"test callback {c['id']} to {c['url']}: {said}\n{_callback_text(c)}"

    found = clikit.run(database, go, app_id=app_id)
    clikit.out(found, as_json, human)
    if found["status"] == "DEAD":
        raise typer.Exit(1)
