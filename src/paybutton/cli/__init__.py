"""The `paybutton` command: demo | serve | db | app | receiver | goods | orders | keys | buyer-token | callbacks |
statement | reconcile | bookings | audit.

This module wires the command tree; each group lives in its own module (apps, callbacks, admin, trade, running,
cli/goods.py and cli/orders.py), and what they share (options, running on a database, printing) is in
paybutton/clikit.py."""

from __future__ import annotations

from paybutton import clikit
from paybutton.cli import admin, backup, recon, running, statement, trade
from paybutton.cli.apps import app_cli, receiver_cli
from paybutton.cli.audit import audit_cmd
from paybutton.cli.bookings import bookings_cli
from paybutton.cli.callbacks import callbacks_cli
from paybutton.cli.goods import goods_cli
from paybutton.cli.orders import orders_cli

cli = clikit.group("paybutton: a self-hosted Douyin-style trade system.")

# `paybutton --help` lists the commands in this order, then the groups
cli.command("buyer-token")(trade.buyer_token_cmd)
cli.command("check")(admin.check)
cli.command("audit")(audit_cmd)
cli.command("verify")(trade.verify)
cli.command("statement")(statement.statement_cmd)
cli.command("reconcile")(recon.reconcile)
cli.command("serve")(running.serve)
cli.command("demo")(running.demo)

admin.db_cli.command("backup")(backup.db_backup)
admin.db_cli.command("restore")(backup.db_restore)
cli.add_typer(admin.db_cli, name="db")
cli.add_typer(app_cli, name="app")
cli.add_typer(receiver_cli, name="receiver")
cli.add_typer(goods_cli, name="goods")
cli.add_typer(orders_cli, name="orders")
cli.add_typer(admin.keys_cli, name="keys")
cli.add_typer(callbacks_cli, name="callbacks")
cli.add_typer(bookings_cli, name="bookings")
cli.add_typer(admin.docs_cli, name="docs")


def main() -> None:
    cli()
