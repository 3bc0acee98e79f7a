"""Commands that act for a buyer or a merchant: `paybutton buyer-token` (mint a buyer's token) and `verify`
(redeem a voucher)."""

from __future__ import annotations

from typing import Any

import typer

from paybutton import buyer_token, clikit
from paybutton.apps import service as app_service
from paybutton.clikit import DatabaseOpt, JsonFlag
from paybutton.clock import SystemClock
from paybutton.db import Database
from paybutton.fulfillment.service import verify_code


def buyer_token_cmd(
    app_id: str = typer.Option(..., "--app"),
    open_id: str = typer.Option(..., "--open-id"),
    ttl: int = typer.Option(86400, help="seconds"),
    database: str | None = DatabaseOpt,
) -> None:
    """Mint a buyer token for a user of an app (what the merchant's server does on sign-in)."""

    async def go(db: Database) -> app_service.AppRow:
        async with db.engine.connect() as conn:
            return await app_service.get_app(conn, app_id)

    app = clikit.run(database, go, app_id=app_id)
    typer.echo(buyer_token.mint(app_id, app["secret"], open_id, ttl))


def verify(code: str, app_id: str | None = typer.Option(None, "--app", help="the app whose voucher it is (needed "
                                                      "only when several apps have the code)"),
           as_json: bool = JsonFlag, database: str | None = DatabaseOpt) -> None:
    """Redeem (核销) one voucher by its code or the QR data on the voucher card (pbv1:CODE)."""
    async def go(db: Database) -> dict[str, Any]:
        async with db.tx() as conn:
            return await verify_code(conn, SystemClock(), code, app_id)

    clikit.out(clikit.run(database, go, app_id=app_id), as_json,
               lambda r: f"verified {r['certificate_code']}: item order {r['item_order_id']} of order {r['order_id']} "
                         f"(verify_id {r['verify_id']})")
