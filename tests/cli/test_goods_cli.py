"""`paybutton goods ...` against a migrated SQLite file: add, update, list, show, and its errors."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from paybutton.apps import service as app_service
from paybutton.cli.goods import goods_cli, parse_label, parse_time
from paybutton.clock import SystemClock
from paybutton.config import Settings
from paybutton.db import Database, upgrade

runner = CliRunner()


@pytest.fixture
def app_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = tmp_path / "cli.db"
    upgrade(f"sqlite:///{path}")
    monkeypatch.setenv("PAYBUTTON_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("PAYBUTTON_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)

    async def make() -> str:
        db = Database(Settings())
        try:
            async with db.tx() as conn:
                app = await app_service.create_app(conn, SystemClock(), name="CLI shop")
            return str(app["app_id"])
        finally:
            await db.dispose()

    return asyncio.run(make())


def run(*args: str) -> Any:
    return runner.invoke(goods_cli, list(args))


def run_json(*args: str) -> Any:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def add(app_id: str, goods_id: str = "spu_1", *extra: str) -> Any:
    return run_json("add", "--app", app_id, "--id", goods_id, "--name", "烤肉套餐", "--price", "9900",
                    "--stock", "10", *extra)


def test_add_show_update_list(app_id: str) -> None:
    g = add(app_id, "spu_1", "--label", "EXPIRED_RETURNS", "--label", "BOOK_IN_ADVANCE:2",
            "--min-limits", "1", "--max-limits", "4", "--phone-required", "--photo", "https://x.test/p.png",
            "--sale-start", "2020-01-01T00:00:00+08:00", "--sale-end", "4102444800000", "--biz-line", "2",
            "--valid-days", "30", "--date-rule", "周一至周五可用")
    assert g["labels"] == [{"type": "EXPIRED_RETURNS"}, {"type": "BOOK_IN_ADVANCE", "value": 2}]
    assert g["sale_start"] == 1_577_808_000_000 and g["sale_end"] == 4_102_444_800_000
    assert (g["max_limits"], g["phone_required"], g["biz_line"], g["valid_days"]) == (4, True, 2, 30)
    assert g["date_rule"] == "周一至周五可用" and g["state"] == "on_sale"

    shown = run("show", "--app", app_id, "--id", "spu_1")
    assert shown.exit_code == 0
    assert "¥99.00" in shown.stdout and "Book 2 days in advance" in shown.stdout and "on_sale" in shown.stdout

    u = run_json("update", "--app", app_id, "--id", "spu_1", "--price", "8800", "--stock-delta", "-4",
                 "--off-shelf", "--sale-start", "none", "--clear-labels")
    assert (u["price"], u["stock"], u["on_shelf"], u["sale_start"], u["labels"]) == (8800, 6, False, None, [])
    assert u["name"] == "烤肉套餐" and u["max_limits"] == 4 and u["state"] == "off_shelf"

    add(app_id, "spu_2")
    add(app_id, "spu_3")
    page = run_json("list", "--app", app_id, "--limit", "2")
    assert [x["goods_id"] for x in page["goods_list"]] == ["spu_1", "spu_2"]
    assert page["total"] == 3 and page["has_more"] is True
    nxt = run_json("list", "--app", app_id, "--cursor", page["next_cursor"])
    assert [x["goods_id"] for x in nxt["goods_list"]] == ["spu_3"]
    assert run_json("list", "--app", app_id, "--off-shelf")["total"] == 1
    human = run("list", "--app", app_id)
    assert human.exit_code == 0 and "spu_2" in human.stdout and "3 of 3" in human.stdout


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (("--label", "REFUND_ANYTIME", "--label", "REFUNDABLE_DAYS:3"), 21511, "mutually exclusive"),
        (("--label", "REFUNDABLE_DAYS"), 21511, "requires value"),
        (("--label", "BOOK_IN_ADVANCE:two"), 21511, "integer"),
        (("--label", "NOPE"), 21511, "is not one of"),
        (("--label", "EXPIRED_RETURNS", "--label", "REFUND_ANYTIME", "--label", "RESERVATION_FREE",
          "--label", "NON_REFUNDABLE"), 21511, "at most 3"),
        (("--min-limits", "5", "--max-limits", "2"), 21512, "must not exceed"),
        (("--max-limits", "100000"), 21512, "1..99999"),
        (("--sale-start", "yesterday"), 2100005, "sale_start"),
        (("--sale-start", "4102444800000", "--sale-end", "4102444700000"), 2100005, "sale_start"),
        (("--photo", "ftp://x"), 2100005, "photo_url"),
        (("--biz-line", "3"), 2100005, "biz_line"),
    ],
)
def test_add_rules(app_id: str, args: tuple[str, ...], code: int, text: str) -> None:
    result = run("add", "--app", app_id, "--id", "g", "--name", "n", "--price", "1", "--stock", "1", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error {code}: ")
    assert text in result.stderr
    assert run_json("list", "--app", app_id)["total"] == 0


def test_errors(app_id: str) -> None:
    add(app_id, "spu_1")
    dup = run("add", "--app", app_id, "--id", "spu_1", "--name", "n", "--price", "1", "--stock", "1")
    assert dup.exit_code == 2 and dup.stderr.startswith("error 2100005: goods with this id already exist")
    missing = run("show", "--app", app_id, "--id", "nope")
    assert missing.exit_code == 2 and missing.stderr.startswith("error 21506: ")
    below = run("update", "--app", app_id, "--id", "spu_1", "--stock-delta", "-11")
    assert below.exit_code == 2 and "below 0" in below.stderr
    assert run_json("show", "--app", app_id, "--id", "spu_1")["stock"] == 10
    other = run("show", "--app", "tt0000000000000000", "--id", "spu_1")
    assert other.exit_code == 2 and "no such app: tt0000000000000000" in other.stderr
    no_app = run("add", "--app", "tt00", "--id", "x", "--name", "n", "--price", "1", "--stock", "1")
    assert no_app.exit_code == 2 and "no such app" in no_app.stderr
    limits = run("update", "--app", app_id, "--id", "spu_1", "--min-limits", "0")
    assert limits.exit_code == 2 and limits.stderr.startswith("error 21512: ")


def test_chinese_messages(app_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    result = run("add", "--app", app_id, "--id", "g", "--name", "n", "--price", "1", "--stock", "1",
                 "--label", "RESERVATION_FREE", "--label", "BOOK_IN_ADVANCE:1")
    assert result.exit_code == 2 and result.stderr.startswith("error 21511: 非商品库商品,商品标签校验不通过")
    add(app_id, "zh", "--label", "REFUNDABLE_DAYS:7")
    assert "7日内可退" in run("show", "--app", app_id, "--id", "zh").stdout


def test_parsers() -> None:
    assert parse_label("refund_anytime") == {"type": "REFUND_ANYTIME"}
    assert parse_label("BOOK_IN_ADVANCE: 3") == {"type": "BOOK_IN_ADVANCE", "value": 3}
    assert parse_label("BOOK_IN_ADVANCE:x") == {"type": "BOOK_IN_ADVANCE", "value": "x"}
    assert parse_time("1700000000000", "t") == 1_700_000_000_000
    assert parse_time("2024-01-01T00:00:00Z", "t") == 1_704_067_200_000
    assert parse_time("none", "t") is None


@pytest.mark.parametrize("price", [("--price", "0"), ("--price-yuan", "0"), ("--price-yuan", "0.00")])
def test_a_price_below_one_fen_is_refused(app_id: str, price: tuple[str, str]) -> None:
    """Issue 18 item 7: `goods add --price 0` and `--price-yuan 0` made a good sold as a paid ¥0.00 order."""
    result = run("add", "--app", app_id, "--id", "free", "--name", "n", "--stock", "1", *price)
    assert result.exit_code == 2
    assert result.stderr.startswith("error 2100005: invalid parameter: price must be at least ¥0.01 (1 fen)")
    assert run_json("list", "--app", app_id)["total"] == 0
    add(app_id, "spu_1")
    changed = run("update", "--app", app_id, "--id", "spu_1", *price)
    assert changed.exit_code == 2 and "price must be at least ¥0.01 (1 fen)" in changed.stderr
    assert run_json("show", "--app", app_id, "--id", "spu_1")["price"] == 9900
