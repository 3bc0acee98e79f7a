"""`paybutton orders list|show` (cli/orders.py) on both databases: the console list's filters (status, the search,
out_order_no, buyer, goods, creation time), pages, plain and --json; the order page with its timeline; bad input
is one line and exit 2."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from paybutton import buyer_token
from paybutton.app import create_app
from paybutton.apps import service as app_service
from paybutton.cli import cli
from paybutton.clock import SystemClock
from paybutton.config import Settings
from paybutton.db import Database
from paybutton.goods import service as goods_service

runner = CliRunner()


def run(db_url: str, *args: str) -> Any:
    return runner.invoke(cli, ["orders", *args, "--database", db_url])


def run_json(db_url: str, *args: str) -> Any:
    result = run(db_url, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def shop(db_url: str, live_factory: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, list[str]]:
    """(database URL, app id, order ids oldest first): buyer a's order is paid, buyer b has two unpaid ones."""
    monkeypatch.setenv("COLUMNS", "200")
    url = live_factory(create_app(Settings(database_url=db_url, run_workers=False))).url

    async def make() -> dict[str, Any]:
        db = Database(Settings(database_url=db_url))
        try:
            async with db.tx() as conn:
                a = await app_service.create_app(conn, SystemClock(), name="CLI orders")
                for gid in ("hotpot", "bbq"):
                    await goods_service.create_goods(conn, SystemClock(), app_id=a["app_id"], goods_id=gid, name=gid,
                                                     price=1680, stock=10, max_limits=5)
            return a
        finally:
            await db.dispose()

    app = asyncio.run(make())
    placed = []
    with httpx.Client(base_url=url, trust_env=False, timeout=10) as http:
        for buyer, gid, qty in (("a", "hotpot", 2), ("b", "bbq", 1), ("b", "hotpot", 1)):
            h = {"Authorization": "Bearer " + buyer_token.mint(app["app_id"], app["secret"], buyer, now=time.time())}
            r = http.post("/api/buyer/v1/orders", headers=h, json={"goods_id": gid, "goods_type": 1, "quantity": qty})
            assert r.status_code == 200, r.text
            placed.append(r.json()["order_id"])
            if buyer == "a":
                assert http.post(f"/api/buyer/v1/orders/{placed[0]}/cashier", headers=h).status_code == 200
                paid = http.post(f"/api/buyer/v1/orders/{placed[0]}/pay", headers=h, json={"channel": "douyin"})
                assert paid.json()["result"]["code"] == 0, paid.text
            time.sleep(0.002)  # distinct created_at (ms): the list is newest first
    return db_url, str(app["app_id"]), placed


def test_orders_list_filters_as_the_console(shop: tuple[str, str, list[str]]) -> None:
    db_url, app_id, (paid, b1, b2) = shop

    def ids(*args: str) -> list[str]:
        return [o["order_id"] for o in run_json(db_url, "list", "--app", app_id, *args)["orders"]]

    assert ids() == [b2, b1, paid]
    assert ids("--status", "SUCCESS") == [paid] and ids("--status", "init") == [b2, b1]
    assert ids("--buyer", "b") == [b2, b1] and ids("--q", "a") == [paid] and ids("--q", b1) == [b1]
    assert ids("--out-order-no", b1) == [b1]  # no pre_create_order: the out_order_no is the order id
    assert ids("--goods", "hotpot") == [b2, paid]
    assert ids("--since", "2000-01-01", "--until", "2999-01-01T00:00:00+08:00") == [b2, b1, paid]
    assert ids("--since", "2999-01-01") == [] and ids("--until", "2000-01-01") == []
    first = run_json(db_url, "list", "--app", app_id, "--limit", "2")
    assert [o["order_id"] for o in first["orders"]] == [b2, b1] and first["has_more"] is True
    assert ids("--limit", "2", "--page", "2") == [paid]
    row = run_json(db_url, "list", "--app", app_id, "--status", "SUCCESS")["orders"][0]
    assert (row["payable"], row["quantity"], row["last_pay"], row["open_id"]) == (3360, 2, "SUCCESS", "a")

    plain = run(db_url, "list", "--app", app_id, "--limit", "2")
    assert plain.exit_code == 0, plain.output
    header, *lines, more = plain.stdout.splitlines()
    assert header.split()[:3] == ["order", "created", "(+08:00)"] and more == "more: --page 2"
    assert lines[1].split()[0] == b1 and "+08:00" in lines[1] and "¥16.80" in lines[1] and "bbq × 1" in lines[1]
    nothing = run(db_url, "list", "--app", app_id, "--since", "2999-01-01")
    assert nothing.exit_code == 0 and nothing.stdout.strip() == "no orders"


def test_orders_show_is_the_order_page(shop: tuple[str, str, list[str]]) -> None:
    db_url, app_id, (paid, _, _) = shop
    d = run_json(db_url, "show", paid, "--app", app_id)
    assert d["order"]["order_id"] == paid and d["order"]["status"] == "SUCCESS" and d["order"]["payable"] == 3360
    assert len(d["items"]) == 2 and all(i["voucher_code"] for i in d["items"])
    assert [p["state"] for p in d["payments"]] == ["SUCCESS"]
    assert [e["kind"] for e in d["timeline"]][:1] == ["ev_created"] and "ev_paid" in [e["kind"] for e in d["timeline"]]
    shown = run(db_url, "show", paid, "--app", app_id)
    assert shown.exit_code == 0, shown.output
    assert f"order {paid}  (SUCCESS" in shown.stdout and "payable ¥33.60" in shown.stdout
    assert "timeline:" in shown.stdout and "paid" in shown.stdout


def test_orders_bad_input_is_one_line_and_exit_2(shop: tuple[str, str, list[str]]) -> None:
    db_url, app_id, _ = shop
    for args, words in ((["list", "--app", app_id, "--status", "PAID"], "--status is one of"),
                        (["list", "--app", app_id, "--since", "yesterday"], "--since takes a date"),
                        (["list", "--app", app_id, "--limit", "0"], "--limit is 1..500"),
                        (["list", "--app", "tt_nosuchapp"], "no such app"),
                        (["show", "ot_missing", "--app", app_id], "no order ot_missing")):
        result = run(db_url, *args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1 and words in result.stderr
