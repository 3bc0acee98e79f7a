"""The `paybutton` command: demo | serve | db | app | goods | keys | buyer-token | callbacks."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import typer

from paybutton import buyer_token, clikit
from paybutton.apps import service as app_service
from paybutton.callbacks import ops as callback_ops
from paybutton.callbacks import outbox
from paybutton.clikit import DatabaseOpt, ShowSecretOpt
from paybutton.clock import SystemClock
from paybutton.config import Settings
from paybutton.db import Database, current_revision, upgrade
from paybutton.errors import TradeError
from paybutton.fulfillment.service import verify_code
from paybutton.goods.cli import goods_cli
from paybutton.refund.check import scan

T = TypeVar("T")

cli = typer.Typer(help="paybutton: a self-hosted Douyin-style trade system.", no_args_is_help=True)
db_cli = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
app_cli = typer.Typer(help="Merchant apps.", no_args_is_help=True)
keys_cli = typer.Typer(help="The platform key pair that signs callbacks.", no_args_is_help=True)
callbacks_cli = typer.Typer(help="The callback log: list, show, attempts, replay, test.", no_args_is_help=True)
docs_cli = typer.Typer(help="Generated docs: the error table and the callback catalogue.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(app_cli, name="app")
cli.add_typer(goods_cli, name="goods")
cli.add_typer(keys_cli, name="keys")
cli.add_typer(callbacks_cli, name="callbacks")
cli.add_typer(docs_cli, name="docs")


def _settings(database: str | None) -> Settings:
    return clikit.settings_for(database)


def _run(database: str | None, fn: Callable[[Database], Awaitable[T]]) -> T:
    """Run `fn` on a database that is set up (a missing or unmigrated one: one line, exit 2, no file created)."""
    return clikit.run(database, fn)


def _out(data: Any, as_json: bool, human: Callable[[Any], str]) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2) if as_json else human(data))


# ------------------------------------------------------------------ db


@db_cli.command("upgrade")
def db_upgrade(database: str | None = DatabaseOpt) -> None:
    """Apply every migration."""
    url = _settings(database).database_url
    upgrade(url)
    typer.echo(f"database at revision {current_revision(url)}")


@db_cli.command("current")
def db_current(database: str | None = DatabaseOpt) -> None:
    """Print the schema revision ("empty" for a database never migrated)."""
    url = _settings(database).database_url
    missing = clikit.missing_file_message(url)
    if missing:
        clikit.fail(missing)  # connecting would create the file
    typer.echo(current_revision(url) or "empty")


# ------------------------------------------------------------------ apps


def _app_text(a: dict[str, Any]) -> str:
    lines = [f"{a['app_id']}  {a['name']}"]
    for k in ("secret", "pre_order_url", "payment_notify_url", "refund_url", "marketing_url", "login_url",
              "allowed_origins", "pay_expire_seconds", "need_refund_audit", "delivery_type", "channels", "suspended"):
        lines.append(f"  {k}: {a.get(k)}")
    for channel, cfg in (a.get("pay_config") or {}).items():  # masked: secrets show as "set (…last 4)"
        lines.append(f"  {channel}: " + ", ".join(f"{k}={v}" for k, v in cfg.items()))
    return "\n".join(lines)


DELIVERY_TYPE_HELP = "1 抖音码 (platform codes, delivery_verify) or 0 三方码 (merchant codes, push_delivery)"


def _app_out(a: dict[str, Any], as_json: bool, show_secret: bool) -> None:
    """Print an app, its secret masked unless `show_secret`."""
    _out(clikit.masked_app(app_service.public_view(a), show_secret), as_json, _app_text)


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
    as_json: bool = typer.Option(False, "--json"),
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

    _app_out(_run(database, go), as_json, show_secret=True)


@app_cli.command("show")
def app_show(app_id: str, as_json: bool = typer.Option(False, "--json"), show_secret: bool = ShowSecretOpt,
             database: str | None = DatabaseOpt) -> None:
    """Show one app (its secret masked unless --show-secret)."""

    async def go(db: Database) -> dict[str, Any]:
        async with db.engine.connect() as conn:
            return app_service.public_view(await app_service.get_app(conn, app_id))

    _app_out(_run(database, go), as_json, show_secret)


@app_cli.command("list")
def app_list(as_json: bool = typer.Option(False, "--json"), show_secret: bool = ShowSecretOpt,
             database: str | None = DatabaseOpt) -> None:
    """List apps (with --json: every setting, secrets masked unless --show-secret)."""

    async def go(db: Database) -> list[dict[str, Any]]:
        async with db.engine.connect() as conn:
            apps_ = await app_service.list_apps(conn)
            return [clikit.masked_app(app_service.public_view(a), show_secret) for a in apps_]

    _out(_run(database, go), as_json, lambda rows: "\n".join(f"{a['app_id']}  {a['name']}" for a in rows) or "no apps")


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
    as_json: bool = typer.Option(False, "--json"),
    show_secret: bool = ShowSecretOpt,
    database: str | None = DatabaseOpt,
) -> None:
    """Change an app's settings; prints the app (its secret masked unless --show-secret or --rotate-secret)."""

    async def go(db: Database) -> dict[str, Any]:
        clock = SystemClock()
        async with db.tx() as conn:
            origins = None
            if origin or add_origin or remove_origin:
                current = (await app_service.get_app(conn, app_id))["allowed_origins"]
                origins = clikit.edit_origins(current, origin, add_origin, remove_origin)
            a = await app_service.update_app(
                conn, clock, app_id, name=name, pre_order_url=pre_order_url,
                payment_notify_url=payment_notify_url, refund_url=refund_url, marketing_url=marketing_url,
                login_url=login_url, allowed_origins=origins, pay_expire_seconds=pay_expire_seconds,
                need_refund_audit=refund_audit, suspended=suspended, console_password=console_password,
                delivery_type=delivery_type)
            for channel, path, clear in (("wechat", wechat_config, clear_wechat),
                                         ("alipay", alipay_config, clear_alipay)):
                if path is not None or clear:
                    a = await app_service.set_pay_channel(conn, clock, app_id, channel, _pay_settings(path))
            if rotate_secret:
                a = {**a, "secret": await app_service.rotate_secret(conn, clock, app_id)}
            return app_service.public_view(a)

    _app_out(_run(database, go), as_json, show_secret or rotate_secret)
    if rotate_secret and not as_json:
        typer.echo("secret rotated (the new one is above): the old secret, its access tokens, buyer tokens and console "
                   "sessions no longer work (running servers notice within a few seconds)")


# ------------------------------------------------------------------ keys and tokens


@keys_cli.command("show")
def keys_show(database: str | None = DatabaseOpt) -> None:
    """Print the active platform public key (PEM), the one running servers sign with: merchants verify with it."""

    async def go(db: Database) -> str:
        async with db.tx() as conn:
            return (await app_service.ensure_platform_key(conn, SystemClock()))[1]

    typer.echo(_run(database, go).strip())


@keys_cli.command("rotate")
def keys_rotate(database: str | None = DatabaseOpt) -> None:
    """Generate a new platform key pair; running servers sign with it (and serve it) within a second."""

    async def go(db: Database) -> str:
        async with db.tx() as conn:
            return await app_service.rotate_platform_key(conn, SystemClock())

    typer.echo(_run(database, go).strip())


@cli.command("buyer-token")
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

    app = _run(database, go)
    typer.echo(buyer_token.mint(app_id, app["secret"], open_id, ttl))


# ------------------------------------------------------------------ callbacks


def _when(ms: int | None) -> str:
    return "-" if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone().isoformat(timespec="seconds")


def _callback_line(r: dict[str, Any]) -> str:
    about = r.get("order_id") or "-"
    if r.get("refund_id"):
        about = f"{about}/{r['refund_id']}"
    head = (r.get("last_answer_head") or r.get("last_error") or "-").replace("\n", " ")[:60]
    tries = f"{r['attempts']}/{r['max_attempts'] or '-'}"
    nxt = _when(r["next_attempt_at"])
    return f"{r['id']:>6}  {r['type']:<19} {about:<42} {r['status']:<7} {tries:<5}  {nxt:<25}  {head}"


CALLBACK_HEADER = (f"{'id':>6}  {'type':<19} {'order/refund':<42} {'status':<7} {'tries':<5}  {'next try':<25}  "
                   "last answer")


@callbacks_cli.command("list")
def callbacks_list(
    app_id: str = typer.Option(..., "--app"),
    status: str | None = typer.Option(None, help="PENDING, DONE, DEAD, NO_URL"),
    kind: str | None = typer.Option(None, "--type", help="payment, refund, pre_create_refund, test…"),
    order_id: str | None = typer.Option(None, "--order"),
    refund_id: str | None = typer.Option(None, "--refund"),
    limit: int = typer.Option(50, help=f"rows per page, 1..{outbox.MAX_PAGE}"),
    cursor: int | None = typer.Option(None, help="the next_cursor of the previous page"),
    as_json: bool = typer.Option(False, "--json"),
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
        more = [f"more: --cursor {page['next_cursor']}"] if page["has_more"] else []
        return "\n".join([CALLBACK_HEADER, *(_callback_line(r) for r in rows), *more])

    _out(_run(database, go), as_json, human)


def _attempt_line(a: dict[str, Any]) -> str:
    outcome = "ok" if a["ok"] else (a["error"] or "failed")
    where = f"#{a['callback_id']}" if a["callback_id"] is not None else "sync"
    return (f"{a['id']:>6}  {where:<7} {a['type']:<19} {a.get('order_id') or '-':<26} {a['attempt']:>3}  "
            f"{_when(a['started_at']):<25}  {a['duration_ms']:>5} ms  HTTP {a['http_status'] or '-':<3}  {outcome}")


@callbacks_cli.command("attempts")
def callbacks_attempts(
    app_id: str = typer.Option(..., "--app"),
    kind: str | None = typer.Option(None, "--type", help="pre_create_order, payment, query_marketing_info…"),
    order_id: str | None = typer.Option(None, "--order"),
    failed: bool = typer.Option(False, "--failed", help="only the failed attempts"),
    synchronous: bool | None = typer.Option(None, "--sync/--outbox", help="only synchronous calls / only outbox"),
    limit: int = typer.Option(50, help=f"rows per page, 1..{outbox.MAX_PAGE}"),
    cursor: int | None = typer.Option(None, help="the next_cursor of the previous page"),
    as_json: bool = typer.Option(False, "--json"),
    database: str | None = DatabaseOpt,
) -> None:
    """Every callback attempt, newest first, including the synchronous pre_create_order and marketing calls."""

    async def go(db: Database) -> dict[str, Any]:
        async with db.engine.connect() as conn:
            return await callback_ops.list_attempts(conn, app_id, kind=kind, order_id=order_id,
                                                    ok=False if failed else None, synchronous=synchronous,
                                                    limit=limit, cursor=cursor)

    def human(page: dict[str, Any]) -> str:
        more = [f"more: --cursor {page['next_cursor']}"] if page["has_more"] else []
        return "\n".join([_attempt_line(a) for a in page["attempt_list"]] + more) or "no attempts"

    _out(_run(database, go), as_json, human)


def _callback_text(c: dict[str, Any]) -> str:
    lines = [CALLBACK_HEADER, _callback_line(c), f"  url: {c['url'] or '-'}  ({c['identify_name']}, "
             f"schedule {c['schedule']})", f"  body: {c['body']}"]
    if c["answer_data"] is not None:
        lines.append(f"  answer data: {json.dumps(c['answer_data'], ensure_ascii=False)}")
    for a in c["attempt_log"]:
        outcome = "ok" if a["ok"] else (a["error"] or "failed")
        lines.append(f"  attempt {a['attempt']}: {_when(a['started_at'])}  {a['duration_ms']} ms  "
                     f"HTTP {a['http_status'] or '-'}  {outcome}  logid {a['logid']}")
        if a["answer_head"]:
            lines.append(f"    answer: {a['answer_head'][:200]}")
    return "\n".join(lines)


@callbacks_cli.command("show")
def callbacks_show(callback_id: int, app_id: str = typer.Option(..., "--app"),
                   as_json: bool = typer.Option(False, "--json"), database: str | None = DatabaseOpt) -> None:
    """Show one callback with its exact body and every attempt."""

    async def go(db: Database) -> dict[str, Any]:
        async with db.engine.connect() as conn:
            return await callback_ops.get_callback(conn, app_id, callback_id)

    _out(_run(database, go), as_json, _callback_text)


@callbacks_cli.command("replay")
def callbacks_replay(callback_id: int, app_id: str = typer.Option(..., "--app"),
                     as_json: bool = typer.Option(False, "--json"), database: str | None = DatabaseOpt) -> None:
    """Send a dead letter (status DEAD) again, now, with a fresh retry schedule (the running server sends it)."""

    async def go(db: Database) -> dict[str, Any]:
        async with db.tx() as conn:
            return await callback_ops.replay(conn, SystemClock(), app_id, callback_id)

    _out(_run(database, go), as_json, lambda c: f"callback {c['id']} queued again to {c['url']}")


@callbacks_cli.command("test")
def callbacks_test(
    app_id: str = typer.Option(..., "--app"),
    kind: str = typer.Option("payment", "--kind", help=f"which URL: {', '.join(callback_ops.TEST_TARGETS)}"),
    wait: float = typer.Option(10.0, help="seconds to wait for the running server to deliver it (0: queue only)"),
    as_json: bool = typer.Option(False, "--json"),
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

    found = _run(database, go)
    _out(found, as_json, human)
    if found["status"] == "DEAD":
        raise typer.Exit(1)


# ------------------------------------------------------------------ generated docs


def _docs(name: str, out: Path | None, check: bool) -> None:
    from paybutton.docsgen import DOCS, GENERATORS

    path = out or Path(DOCS[name])
    text = GENERATORS[name]()
    if check:
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            typer.echo(f"{path} is out of date: run `paybutton docs {name}`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{path} is up to date")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {path}")


@docs_cli.command("errors")
def docs_errors(out: Path | None = typer.Option(None, help="default docs/errors.md"),
                check: bool = typer.Option(False, "--check", help="exit 1 if the file differs")) -> None:
    """Write docs/errors.md from the error registry."""
    _docs("errors", out, check)


@docs_cli.command("callbacks")
def docs_callbacks(out: Path | None = typer.Option(None, help="default docs/callbacks.md"),
                   check: bool = typer.Option(False, "--check", help="exit 1 if the file differs")) -> None:
    """Write docs/callbacks.md (every callback type, built by the server's own code)."""
    _docs("callbacks", out, check)


# ------------------------------------------------------------------ running


@cli.command("check")
def check(database: str | None = DatabaseOpt) -> None:
    """Scan the database for broken money invariants (orders, item orders, refunds); exit 1 if any."""
    async def go(db: Database) -> list[str]:
        async with db.engine.connect() as conn:
            return await scan(conn)

    problems = _run(database, go)
    for p in problems:
        typer.echo(p)
    if problems:
        typer.echo(f"{len(problems)} broken invariant(s)", err=True)
        raise typer.Exit(1)
    typer.echo("ok: no broken invariant")


@cli.command("verify")
def verify(code: str, as_json: bool = typer.Option(False, "--json"), database: str | None = DatabaseOpt) -> None:
    """Redeem (核销) one voucher by its code or the QR data on the voucher card (pbv1:CODE)."""
    async def go(db: Database) -> dict[str, Any]:
        async with db.tx() as conn:
            return await verify_code(conn, SystemClock(), code)

    _out(_run(database, go), as_json,
         lambda r: f"verified {r['certificate_code']}: item order {r['item_order_id']} of order {r['order_id']} "
                   f"(verify_id {r['verify_id']})")


@cli.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000, envvar="PAYBUTTON_PORT"),
    workers: int = typer.Option(1, help="server processes (PostgreSQL: several may share one database)"),
    migrate: bool = typer.Option(True, "--migrate/--no-migrate", help="apply migrations first"),
    database: str | None = DatabaseOpt,
) -> None:
    """Run the trade server (with the expiry sweeper and the callback dispatcher)."""
    import uvicorn

    settings = _settings(database)
    if migrate:
        upgrade(settings.database_url)

    async def key(db: Database) -> str:
        async with db.tx() as conn:
            return (await app_service.ensure_platform_key(conn, SystemClock()))[1]

    _run(settings.database_url, key)  # before the workers fork, so they all sign with one key
    os.environ["PAYBUTTON_DATABASE_URL"] = settings.database_url  # what the workers' create_app reads
    typer.echo(f"paybutton serving on http://{host}:{port}  database: {settings.database_url.split('@')[-1]}")
    uvicorn.run("paybutton.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level=settings.log_level, access_log=False,
                loop="uvloop" if sys.platform != "win32" else "auto", http="httptools")


DEMO_DATABASE = "sqlite+aiosqlite:///paybutton-demo.db"


@cli.command("demo")
def demo(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000, envvar="PAYBUTTON_PORT", help="trade server port"),
    shop_port: int | None = typer.Option(None, help="demo shop and merchant server port (default port+1)"),
    database: str | None = typer.Option(
        None, "--database", envvar="PAYBUTTON_DATABASE_URL", help=(
            f"database URL (default: PAYBUTTON_DATABASE_URL, then {DEMO_DATABASE}); it gets the demo app, whose "
            "secret is published: never point the demo at a production database")),
) -> None:
    """Run the demo: trade server, demo shop and demo merchant server, on a SQLite file. Nothing else needed.

    It migrates and seeds the database, and prints the `export PAYBUTTON_DATABASE_URL=…` line that points the other
    commands (app, goods, callbacks, …) at it."""
    from paybutton.demo.run import run_demo

    url = clikit.absolute_url(database or DEMO_DATABASE)
    run_demo(host=host, port=port, shop_port=shop_port or port + 1, database_url=url)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
