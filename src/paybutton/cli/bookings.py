"""`paybutton bookings list` (an app's reservations, newest first) and `paybutton bookings certificates` (an order's
units as certificates: state, lock and booking)."""

from __future__ import annotations

from typing import Any

import typer

from paybutton import clikit
from paybutton.booking import service as booking
from paybutton.clikit import DatabaseOpt, JsonFlag
from paybutton.clock import SystemClock
from paybutton.db import Database
from paybutton.fulfillment import tools

bookings_cli = clikit.group("Reservations (预约) and the certificates they hold.")

AppIdOpt: Any = typer.Option(..., "--app")
BOOK_HEADER = "book_id                   order_id                  day         status   out_book_no  units"
CERT_HEADER = "certificate_id      code          status  lock    booking"
STATUS = {1: "unpaid", 2: "unused", 3: "redeemed", 4: "closed", 101: "refunding", 102: "refunded"}


def _book_line(b: dict[str, Any]) -> str:
    units = ",".join(c["item_order_id"] for c in b["book_child_info_list"])
    head = f"{b['book_id']:<25} {b['order_id']:<25} {b['book_date']:<11} {b['status']:<8}"
    return f"{head} {b['out_book_no']:<12} {units}"


def _cert_line(c: dict[str, Any]) -> str:
    book = {0: "-", 1: f"awaiting {c['book_date']}", 2: f"booked {c['book_date']}"}.get(c["book_status"], "?")
    lock = "LOCKED" if c["lock_status"] else "-"
    return f"{c['certificate_id']:<19} {c['encrypted_code']:<13} {STATUS.get(c['status'], '?'):<7} {lock:<7} {book}"


@bookings_cli.command("list")
def bookings_list(
    app_id: str = AppIdOpt,
    order_id: str | None = typer.Option(None, "--order"),
    limit: int = typer.Option(50, min=1, max=500, help="rows, 1..500"),
    as_json: bool = JsonFlag,
    database: str | None = DatabaseOpt,
) -> None:
    """List bookings, newest first: id, order, day (Beijing), status (BOOKING, SUCCESS, FAIL, CANCEL), units."""

    async def go(db: Database) -> list[dict[str, Any]]:
        async with db.engine.connect() as conn:
            return await booking.list_bookings(conn, app_id, order_id=order_id, limit=limit)

    clikit.out(clikit.run(database, go, app_id=app_id), as_json,
               lambda rows: "\n".join([BOOK_HEADER, *map(_book_line, rows)]) if rows else "no bookings")


@bookings_cli.command("certificates")
def bookings_certificates(
    app_id: str = AppIdOpt,
    order_id: str = typer.Option(..., "--order"),
    as_json: bool = JsonFlag,
    database: str | None = DatabaseOpt,
) -> None:
    """An order's certificates: code, state, LOCKED (toolkit/change_lock_status) and the day it is booked for."""

    async def go(db: Database) -> list[dict[str, Any]]:
        async with db.engine.connect() as conn:
            return await tools.order_certificates(conn, SystemClock(), app_id, order_id)

    clikit.out(clikit.run(database, go, app_id=app_id), as_json,
               lambda rows: "\n".join([CERT_HEADER, *map(_cert_line, rows)]))
