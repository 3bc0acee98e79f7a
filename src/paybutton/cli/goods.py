"""`paybutton goods ...`: add, update, list and show library goods from the command line."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from paybutton import clikit, money
from paybutton.clock import BEIJING, SystemClock
from paybutton.db import Database
from paybutton.errors import TradeError
from paybutton.goods import rules, service

goods_cli = clikit.group("Library goods (商品库): add, update, list, show.")

T = TypeVar("T")
CLEAR = ("", "none", "null")

AppOpt = Annotated[str, typer.Option("--app", help="the merchant app id (tt…)")]
IdOpt = Annotated[str, typer.Option("--id", help="goods id (spu): 1-64 chars of A-Z a-z 0-9 _ - .")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON")]
LabelOpt = Annotated[
    list[str] | None,
    typer.Option("--label", help="TYPE[:VALUE], repeatable, --label BOOK_IN_ADVANCE:2"),
]
TimeOpt = Annotated[str | None, typer.Option(
    help="ISO-8601 (without an offset: Beijing time, +08:00) or epoch ms; 'none' clears")]
PhotoOpt = Annotated[str | None, typer.Option("--photo", help="an http(s) URL or a /path")]
LimitsOpt = Annotated[int | None, typer.Option(help="1..99999")]
DateRuleOpt = Annotated[str | None, typer.Option(help="使用规则, default 周一至周日可用")]
BizOpt = Annotated[int | None, typer.Option(help="1 group buying, 2 general knowledge")]
DaysOpt = Annotated[int | None, typer.Option(help="voucher validity in days, 1..3650")]
PhoneOpt = Annotated[
    bool | None, typer.Option("--phone-required/--phone-optional", help="ask for a phone number")
]
DeltaOpt = Annotated[int | None, typer.Option(help="add to the stock (negative removes; never below 0)")]
ShelfFilter = Annotated[bool | None, typer.Option("--on-shelf/--off-shelf", help="only on / off the shelf")]
PriceOpt = Annotated[str | None, typer.Option(
    "--price", help="integer fen: 16800 = ¥168.00 (168.00 is refused: use --price-yuan)")]
PriceYuanOpt = Annotated[str | None, typer.Option(
    "--price-yuan", help="yuan, at most 2 decimals: 168.00, 168 or 0.01 (exact, converted to fen)")]
ShelfOpt = Annotated[bool | None, typer.Option("--on-shelf/--off-shelf", help="on or off the shelf")]


def _lang() -> str:
    env = os.environ.get("LC_ALL") or os.environ.get("LANG") or ""
    return "zh-CN" if env.lower().startswith("zh") else "en"


def _fail(err: TradeError) -> NoReturn:
    clikit.fail_trade(err, _lang())


def _run(work: Callable[[Database], Awaitable[T]], database: str | None, app_id: str) -> T:
    return clikit.run(database, work, _lang(), app_id=app_id)


def parse_time(value: str, field: str) -> int | None:
    """ISO-8601 (without an offset: Beijing time) or epoch milliseconds -> epoch ms; '', 'none', 'null' -> None."""
    text = value.strip()
    if text.lower() in CLEAR:
        return None
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        msg = f"{field} must be ISO-8601 or epoch ms, got {value!r}"
        raise TradeError("INVALID_PARAMETER", msg) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BEIJING)
    return int(moment.timestamp() * 1000)


def parse_label(spec: str) -> dict[str, Any]:
    """TYPE or TYPE:VALUE -> {type, value?}; the rules decide whether it is valid."""
    kind, sep, raw = spec.partition(":")
    label: dict[str, Any] = {"type": kind.strip().upper()}
    if sep:
        raw = raw.strip()
        label["value"] = int(raw) if raw.lstrip("-").isdigit() else raw
    return label


def _sale_window(sale_start: str | None, sale_end: str | None) -> dict[str, int | None]:
    """The sale window options given, as epoch ms (None clears one); a bad time is one line and exit 2."""
    given = {"sale_start": sale_start, "sale_end": sale_end}
    try:
        return {field: parse_time(text, field) for field, text in given.items() if text is not None}
    except TradeError as err:
        _fail(err)


def _yuan(fen: int) -> str:
    return f"¥{money.yuan(fen)}"


def _text(good: dict[str, Any]) -> str:
    lang = _lang()
    rows = [
        ("goods_id", good["goods_id"]),
        ("name", good["name"]),
        ("price", f"{_yuan(good['price'])} ({good['price']} fen)"),
        ("stock", f"{good['stock']} (sold {good['sold']})"),
        ("state", good["state"]),
        ("on_shelf", "yes" if good["on_shelf"] else "no"),
        ("sale window", f"{clikit.beijing_time(good['sale_start'])} .. {clikit.beijing_time(good['sale_end'])}"),
        ("labels", ", ".join(rules.label_texts(good["labels"], lang)) or "-"),
        ("limits", f"{good['min_limits']}..{good['max_limits']}"),
        ("date_rule", good["date_rule"]),
        ("phone", "required" if good["phone_required"] else "optional"),
        ("biz_line", good["biz_line"]),
        ("valid_days", good["valid_days"] if good["valid_days"] is not None else "-"),
        ("photo_url", good["photo_url"] or "-"),
    ]
    return "\n".join(f"{key:<12} {value}" for key, value in rows)


def _emit(good: dict[str, Any], as_json: bool) -> None:
    clikit.out(good, as_json, _text)


@goods_cli.command("add")
def add(
    app: AppOpt,
    goods_id: IdOpt,
    name: Annotated[str, typer.Option(help="1-256 characters")],
    stock: Annotated[int, typer.Option(help="units on sale")],
    price: PriceOpt = None,
    price_yuan: PriceYuanOpt = None,
    photo: PhotoOpt = None,
    sale_start: TimeOpt = None,
    sale_end: TimeOpt = None,
    label: LabelOpt = None,
    min_limits: LimitsOpt = None,
    max_limits: LimitsOpt = None,
    date_rule: DateRuleOpt = None,
    phone_required: PhoneOpt = None,
    biz_line: BizOpt = None,
    valid_days: DaysOpt = None,
    on_shelf: ShelfOpt = None,
    as_json: JsonOpt = False,
    database: clikit.DatabaseArg = None,
) -> None:
    """Add a library good (its price with --price in fen or --price-yuan)."""
    fen = clikit.required_money_fen(price, price_yuan)
    window = _sale_window(sale_start, sale_end)
    fields: dict[str, Any] = {
        "photo_url": photo or "", "sale_start": window.get("sale_start"), "sale_end": window.get("sale_end"),
        "labels": [parse_label(s) for s in label or []], "min_limits": min_limits, "max_limits": max_limits,
        "date_rule": date_rule, "phone_required": bool(phone_required), "biz_line": biz_line or 1,
        "on_shelf": True if on_shelf is None else on_shelf, "valid_days": valid_days,
    }

    async def work(db: Database) -> dict[str, Any]:
        async with db.tx() as conn:
            return await service.create_goods(
                conn, SystemClock(), app_id=app, goods_id=goods_id, name=name, price=fen, stock=stock,
                **fields,
            )

    _emit(_run(work, database, app), as_json)


@goods_cli.command("update")
def update(
    app: AppOpt,
    goods_id: IdOpt,
    name: Annotated[str | None, typer.Option(help="1-256 characters")] = None,
    price: PriceOpt = None,
    price_yuan: PriceYuanOpt = None,
    stock: Annotated[int | None, typer.Option(help="set the stock")] = None,
    stock_delta: DeltaOpt = None,
    photo: PhotoOpt = None,
    sale_start: TimeOpt = None,
    sale_end: TimeOpt = None,
    label: LabelOpt = None,
    clear_labels: Annotated[bool, typer.Option("--clear-labels", help="remove every label")] = False,
    min_limits: LimitsOpt = None,
    max_limits: LimitsOpt = None,
    date_rule: DateRuleOpt = None,
    phone_required: PhoneOpt = None,
    biz_line: BizOpt = None,
    valid_days: DaysOpt = None,
    on_shelf: ShelfOpt = None,
    as_json: JsonOpt = False,
    database: clikit.DatabaseArg = None,
) -> None:
    """Change some fields of a library good (the others stay)."""
    fen = clikit.money_fen(price, price_yuan)
    changes: dict[str, Any] = dict(_sale_window(sale_start, sale_end))
    if clear_labels and label:
        _fail(TradeError("INVALID_PARAMETER", "give --label or --clear-labels, not both"))
    if clear_labels or label:
        changes["labels"] = [parse_label(s) for s in label or []]
    given = {
        "name": name, "price": fen, "stock": stock, "photo_url": photo, "min_limits": min_limits,
        "max_limits": max_limits, "date_rule": date_rule, "phone_required": phone_required,
        "biz_line": biz_line, "valid_days": valid_days, "on_shelf": on_shelf,
    }
    changes.update({k: v for k, v in given.items() if v is not None})

    async def work(db: Database) -> dict[str, Any]:
        async with db.tx() as conn:
            return await service.update_goods(
                conn, SystemClock(), app_id=app, goods_id=goods_id, stock_delta=stock_delta, **changes
            )

    _emit(_run(work, database, app), as_json)


@goods_cli.command("show")
def show(app: AppOpt, goods_id: IdOpt, as_json: JsonOpt = False, database: clikit.DatabaseArg = None) -> None:
    """Show one library good."""

    async def work(db: Database) -> dict[str, Any]:
        async with db.engine.connect() as conn:
            return await service.get_goods(conn, SystemClock(), app_id=app, goods_id=goods_id)

    _emit(_run(work, database, app), as_json)


@goods_cli.command("list")
def list_(
    app: AppOpt,
    limit: Annotated[int, typer.Option(help="page size, 1..100")] = 20,
    offset: Annotated[int, typer.Option(help="skip this many")] = 0,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the previous page")] = None,
    on_shelf: ShelfFilter = None,
    search: Annotated[str | None, typer.Option(help="part of the name")] = None,
    as_json: JsonOpt = False,
    database: clikit.DatabaseArg = None,
) -> None:
    """List an app's library goods, one page at a time."""

    async def work(db: Database) -> dict[str, Any]:
        async with db.engine.connect() as conn:
            return await service.list_goods(
                conn, SystemClock(), app_id=app, limit=limit, offset=offset, cursor=cursor,
                on_shelf=on_shelf, search=search,
            )

    clikit.out(_run(work, database, app), as_json, _page_text)


def _page_text(page: dict[str, Any]) -> str:
    lines = [] if page["goods_list"] else ["no goods"]
    for good in page["goods_list"]:
        lines.append(f"{good['goods_id']:<24} {_yuan(good['price']):>12} stock {good['stock']:<8} "
                     f"{good['state']:<9} {good['name']}")
    more = f"; next: --cursor {page['next_cursor']}" if page["has_more"] else ""
    lines.append(f"{len(page['goods_list'])} of {page['total']}{more}")
    return "\n".join(lines)
