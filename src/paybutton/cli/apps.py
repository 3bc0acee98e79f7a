"""`paybutton app ...`: create, show, list and change merchant apps (secrets masked unless asked for)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from paybutton import clikit
from paybutton.apps import service as app_service
from paybutton.apps import settle_rules
from paybutton.clikit import DatabaseOpt, JsonFlag, ShowSecretOpt
from paybutton.clock import SystemClock
from paybutton.db import Database
from paybutton.errors import TradeError

app_cli = clikit.group("Merchant apps.")

DELIVERY_TYPE_HELP = "1 platform codes (delivery_verify) or 0 merchant codes (push_delivery)"
SHOWN = ("secret", "pre_order_url", "payment_notify_url", "refund_url", "marketing_url", "login_url",
         "allowed_origins", "pay_expire_seconds", "need_refund_audit", "delivery_type", "channels", "suspended",
         "merchant_uid", "settle_mode", "settle_days", "rake_bps", "settle_url")
SETTLE_MODE_HELP = "how orders settle: manual (create_settle), verify (核销 D+N) or pay (支付 D+N)"


def _app_text(a: dict[str, Any]) -> str:
    lines = [f"{a['app_id']}  {a['name']}"]
    for k in SHOWN:
        lines.append(f"  {k}: {a.get(k)}")
    for channel, cfg in (a.get("pay_config") or {}).items():  # masked: secrets show as "set (…last 4)"
        lines.append(f"  {channel}: " + ", ".join(f"{k}={v}" for k, v in cfg.items()))
    return "\n".join(lines)


def _app_out(a: dict[str, Any], as_json: bool, show_secret: bool) -> None:
    """Print an app, its secret masked unless `show_secret`."""
    clikit.out(clikit.masked_app(app_service.public_view(a), show_secret), as_json, _app_text)


def _pay_settings(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise TradeError("INVALID_PARAMETER", f"{path}: not a readable JSON file ({e})") from None
    if not isinstance(data, dict):
        raise TradeError("INVALID_PARAMETER", f"{path}: must hold a JSON object")
    return data


@app_cli.command("create")
def app_create(
    name: str = typer.Option(..., help="display name (shown on the pages)"),
    pre_order_url: str | None = typer.Option(None, help="pre_create_order extension point URL"),
    payment_notify_url: str | None = typer.Option(None),
    refund_url: str | None = typer.Option(None),
    marketing_url: str | None = typer.Option(None),
    login_url: str | None = typer.Option(None, help="where tt.login gets a buyer token"),
    origin: list[str] = typer.Option([], help="allowed origin of the merchant's pages (repeatable)"),
    pay_expire_seconds: int = typer.Option(300),
    refund_audit: bool = typer.Option(False, help="refunds wait for the merchant's audit"),
    delivery_type: int = typer.Option(1, help=DELIVERY_TYPE_HELP),
    console_password: str | None = typer.Option(None),
    as_json: bool = JsonFlag,
    database: str | None = DatabaseOpt,
) -> None:
    """Create a merchant app; prints its id and its secret (and the platform public key with --json).

    This is the one time the new secret is printed in clear: keep it (`app show --show-secret` prints it again)."""

    async def go(db: Database) -> dict[str, Any]:
        clock = SystemClock()
        async with db.tx() as conn:
            _, public_pem = await app_service.ensure_platform_key(conn, clock)
            a = await app_service.create_app(
                conn, clock, name=name, allowed_origins=origin, pay_expire_seconds=pay_expire_seconds,
                need_refund_audit=refund_audit, console_password=console_password, delivery_type=delivery_type,
                pre_order_url=pre_order_url,
                payment_notify_url=payment_notify_url, refund_url=refund_url, marketing_url=marketing_url,
                login_url=login_url)
        return {**app_service.public_view(a), "platform_public_key": public_pem}

    _app_out(clikit.run(database, go), as_json, show_secret=True)


@app_cli.command("show")
def app_show(app_id: str, as_json: bool = JsonFlag, show_secret: bool = ShowSecretOpt,
             database: str | None = DatabaseOpt) -> None:
    """Show one app (its secret masked unless --show-secret)."""

    async def go(db: Database) -> dict[str, Any]:
        async with db.engine.connect() as conn:
            return app_service.public_view(await app_service.get_app(conn, app_id))

    _app_out(clikit.run(database, go), as_json, show_secret)


@app_cli.command("list")
def app_list(as_json: bool = JsonFlag, show_secret: bool = ShowSecretOpt,
             database: str | None = DatabaseOpt) -> None:
    """List apps (with --json: every setting, secrets masked unless --show-secret)."""

    async def go(db: Database) -> list[dict[str, Any]]:
        async with db.engine.connect() as conn:
            apps_ = await app_service.list_apps(conn)
            return [clikit.masked_app(app_service.public_view(a), show_secret) for a in apps_]

    clikit.out(clikit.run(database, go), as_json,
               lambda rows: "\n".join(f"{a['app_id']}  {a['name']}" for a in rows) or "no apps")


@app_cli.command("update")
def app_update(
    app_id: str,
    name: str | None = typer.Option(None),
    pre_order_url: str | None = typer.Option(None),
    payment_notify_url: str | None = typer.Option(None),
    refund_url: str | None = typer.Option(None),
    marketing_url: str | None = typer.Option(None),
    login_url: str | None = typer.Option(None),
    origin: list[str] = typer.Option([], help=(
        "REPLACES the whole list of allowed origins with these (repeatable); to keep the others use --add-origin")),
    add_origin: list[str] = typer.Option([], help="add one allowed origin, keeping the others (repeatable)"),
    remove_origin: list[str] = typer.Option([], help="remove one allowed origin (repeatable)"),
    pay_expire_seconds: int | None = typer.Option(None),
    refund_audit: bool | None = typer.Option(None, "--refund-audit/--no-refund-audit"),
    suspended: bool | None = typer.Option(None, "--suspend/--resume"),
    delivery_type: int | None = typer.Option(None, help=DELIVERY_TYPE_HELP + " (new orders)"),
    console_password: str | None = typer.Option(None, help="set the console password (sign-in at /console)"),
    rotate_secret: bool = typer.Option(False, "--rotate-secret", help=(
        "replace the app secret (the new one is printed once, in clear); its access tokens, buyer tokens and "
        "console sessions end")),
    wechat_config: Path | None = typer.Option(None, help="WeChat Pay settings (JSON file, docs/integration-guide.md)"),
    alipay_config: Path | None = typer.Option(None, help="Alipay settings, a JSON file (docs/integration-guide.md)"),
    clear_wechat: bool = typer.Option(False, "--clear-wechat", help="remove the WeChat Pay settings (sandbox again)"),
    clear_alipay: bool = typer.Option(False, "--clear-alipay", help="remove the Alipay settings (sandbox again)"),
    settle_mode: str | None = typer.Option(None, help=SETTLE_MODE_HELP),
    settle_days: int | None = typer.Option(None, help="the N of D+N, in Beijing calendar days"),
    rake_bps: int | None = typer.Option(None, help="the platform's fee in basis points of what settles (operator)"),
    settle_url: str | None = typer.Option(None, help="where the settle callback goes"),
    as_json: bool = JsonFlag,
    show_secret: bool = ShowSecretOpt,
    database: str | None = DatabaseOpt,
) -> None:
    """Change an app's settings; prints the app (its secret masked unless --show-secret or --rotate-secret)."""
    changes = {"name": name, "pre_order_url": pre_order_url, "payment_notify_url": payment_notify_url,
               "refund_url": refund_url, "marketing_url": marketing_url, "login_url": login_url,
               "pay_expire_seconds": pay_expire_seconds, "need_refund_audit": refund_audit, "suspended": suspended,
               "console_password": console_password, "delivery_type": delivery_type, "settle_mode": settle_mode,
               "settle_days": settle_days, "rake_bps": rake_bps, "settle_url": settle_url}

    async def go(db: Database) -> dict[str, Any]:
        clock = SystemClock()
        async with db.tx() as conn:
            origins = None
            if origin or add_origin or remove_origin:
                current = (await app_service.get_app(conn, app_id))["allowed_origins"]
                origins = clikit.edit_origins(current, origin, add_origin, remove_origin)
            a = await app_service.update_app(conn, clock, app_id, allowed_origins=origins, **changes)
            for channel, path, clear in (("wechat", wechat_config, clear_wechat),
                                         ("alipay", alipay_config, clear_alipay)):
                if path is not None or clear:
                    a = await app_service.set_pay_channel(conn, clock, app_id, channel, _pay_settings(path))
            if rotate_secret:
                a = {**a, "secret": await app_service.rotate_secret(conn, clock, app_id)}
            return app_service.public_view(a)

    _app_out(clikit.run(database, go), as_json, show_secret or rotate_secret)
    if rotate_secret and not as_json:
        typer.echo("secret rotated (the new one is above): the old secret, its access tokens, buyer tokens and console "
                   "sessions no longer work (running servers notice within a few seconds)")


receiver_cli = clikit.group("Receivers of settles besides the seller (settle_params' merchant_uid).")


@receiver_cli.command("add")
def receiver_add(merchant_uid: str, name: str = typer.Option(..., help="who the receiver is"),
                 wechat_account: str | None = typer.Option(
                     None, help="its WeChat Pay merchant id: its shares of WeChat payments go through WeChat's "
                                "profit sharing"),
                 alipay_account: str | None = typer.Option(
                     None, help="its Alipay user id (2088...): its shares of Alipay payments go through Alipay's "
                                "royalty settle"),
                 as_json: bool = JsonFlag, database: str | None = DatabaseOpt) -> None:
    """Register a receiver that create_settle's settle_params may name."""

    async def go(db: Database) -> dict[str, Any]:
        async with db.tx() as conn:
            return await settle_rules.add_receiver(conn, SystemClock(), merchant_uid, name,
                                                   wechat_account=wechat_account, alipay_account=alipay_account)

    clikit.out(clikit.run(database, go), as_json, lambda r: f"{r['merchant_uid']}  {r['name']}")


@receiver_cli.command("list")
def receiver_list(as_json: bool = JsonFlag, database: str | None = DatabaseOpt) -> None:
    """The registered receivers."""

    async def go(db: Database) -> list[dict[str, Any]]:
        async with db.engine.connect() as conn:
            return await settle_rules.list_receivers(conn)

    clikit.out(clikit.run(database, go), as_json,
               lambda rows: "\n".join(f"{r['merchant_uid']}  {r['name']}" for r in rows) or "no receivers")
