"""Reservations (book/*) over real HTTP on SQLite and PostgreSQL, on the SDK's paths: a BOOK_IN_ADVANCE unit booked
for an allowed day, confirmed by book_result_callback, redeemable only on that day; refused days, a refused
booking, cancels by both sides under the cancel policy; every refusal changes nothing. The fake clock starts on
2026-01-01 08:00 Beijing time (a Thursday)."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
from sqlalchemy import select
from trade_world import TradeWorld
from typer.testing import CliRunner

from paybutton.cli import cli
from paybutton.tables import bookings

BJ = timezone(timedelta(hours=8))
LABELS = json.dumps([{"type": "BOOK_IN_ADVANCE", "value": 2}])


def at(day: str, hour: int = 10) -> int:
    """Epoch ms of `day` at `hour`:00 Beijing time."""
    return int(datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=BJ).timestamp() * 1000)


def item(goods_id: str, day: str, iid: str | None = None) -> dict[str, Any]:
    one: dict[str, Any] = {"poi_id": "7000000001", "shop_name": "国贸店", "ext_shop_id": "s1", "goods_id": goods_id,
                           "book_start_time": at(day, 10), "book_end_time": at(day, 12),
                           "user_info_list": [{"name": "张三", "phone": "13800000000"}]}
    if iid:
        one["item_order_id"] = iid
    return one


async def book(trade: TradeWorld, order: dict[str, Any], no: str, day: str, iid: str | None = None,
               open_id: str = "buyer") -> dict[str, Any]:
    return await trade.api("book/create_book", {"order_id": order["order_id"], "out_book_no": no, "open_id": open_id,
                                                "item_book_info_list": [item("g", day, iid)]})


async def state(trade: TradeWorld, order_id: str) -> tuple[list[Any], list[tuple[int, int, str | None]]]:
    """The order's bookings and its units' (locked, book_status, book_date): what a refusal must leave alone."""
    async with trade.db.engine.connect() as conn:
        books = (await conn.execute(select(bookings.c.book_id, bookings.c.status).where(
            bookings.c.order_id == order_id).order_by(bookings.c.book_id))).all()
    return list(books), [(i.locked, i.book_status, i.book_date) for i in await trade.items(order_id)]


def sub(env: dict[str, Any]) -> int:
    return int(env["extra"]["sub_error_code"])


async def verify_local(trade: TradeWorld, cert: str) -> dict[str, Any]:
    env = await trade.api("toolkit/verify_local_certificates", {"certificates": [{"certificate_id": cert}]})
    assert env["extra"]["error_code"] == 0, env
    res: dict[str, Any] = env["data"]["verify_results"][0]
    return res


async def test_book_confirm_and_redeem_on_its_day(trade: TradeWorld) -> None:
    await trade.add_goods("g", labels=LABELS, date_rule="周一至周五可用")
    order = await trade.paid_order(quantity=2)
    before = await state(trade, order["order_id"])
    too_soon = await book(trade, order, "B1", "2026-01-02")  # Friday, but only 1 day ahead (label: 2)
    saturday = await book(trade, order, "B1", "2026-01-03")  # 2 days ahead, but the date rule is Mon-Fri
    past = await trade.api("book/create_book", {"order_id": order["order_id"], "out_book_no": "B1", "open_id": "buyer",
                                                "item_book_info_list": [{**item("g", "2026-01-05"),
                                                                         "book_end_time": at("2026-01-05", 9)}]})
    assert [sub(too_soon), sub(saturday), sub(past)] == [22002, 22002, 22002], (too_soon, saturday)
    assert "2026-01-03" in too_soon["extra"]["description"] and "周一至周五" in saturday["extra"]["description"]
    stranger = await book(trade, order, "B1", "2026-01-05", open_id="someone-else")
    assert sub(stranger) == 20000
    assert await state(trade, order["order_id"]) == before  # nothing changed
    made = await book(trade, order, "B1", "2026-01-05")  # Monday
    assert made["extra"]["error_code"] == 0 and made["data"]["status"] == "BOOKING", made
    book_id = made["data"]["book_id"]
    assert (await book(trade, order, "B1", "2026-01-05"))["data"]["book_id"] == book_id  # the same out_book_no
    (booked,) = [i for i in await trade.items(order["order_id"]) if i.book_status == 1]
    pending = await verify_local(trade, booked.certificate_id)
    assert pending["result_code"] == 21001 and "确认" in pending["result_msg"]
    ok = await trade.api("book/book_result_callback", {"book_id": book_id, "result": 1, "msg": "", "accept_type": 2})
    assert ok["data"] == {"book_id": book_id, "status": "SUCCESS", "error_code": 0, "description": ""}
    assert sub(await trade.api("book/book_result_callback", {"book_id": book_id, "result": 2})) == 22005
    q = await trade.api("book/query_book", {"order_id": order["order_id"]})
    (info,) = q["data"]["book_info_list"]
    assert info["status"] == "SUCCESS" and info["book_date"] == "2026-01-05" and info["out_book_no"] == "B1"
    (child,) = info["book_child_info_list"]
    assert child["item_order_id"] == booked.item_order_id and child["book_start_time"] == at("2026-01-05")
    assert (await trade.api("book/query_book", {"book_id": book_id}))["data"]["book_info_list"][0] == info
    can = (await trade.api_at("/api/trade/v2/fulfillment/order_can_use", {"order_id": order["order_id"]}))["data"]
    uses = {c["item_order_id"]: c["can_use"] for c in can["certificates"]}
    assert can["can_use"] and uses[booked.item_order_id] is False and list(uses.values()).count(True) == 1
    early = await verify_local(trade, booked.certificate_id)
    assert early["result_code"] == 21001 and "2026-01-05" in early["result_msg"]
    trade.clock.set(at("2026-01-05", 9))
    done = await verify_local(trade, booked.certificate_id)
    assert done["result_code"] == 0 and done["verify_id"]
    late = await trade.api("book/merchant_cancel_book", {"book_id": book_id, "cancel_reason": "x"})
    assert sub(late) == 22005  # a unit of it was redeemed


async def test_refused_booking_cancels_and_the_policy(trade: TradeWorld) -> None:
    await trade.add_goods("g", labels=LABELS)
    order = await trade.paid_order(quantity=1)
    iid = order["item_orders"][0]["item_order_id"]
    first = (await book(trade, order, "B1", "2026-01-05", iid))["data"]["book_id"]
    busy = await book(trade, order, "B2", "2026-01-06", iid)
    assert sub(busy) == 22003  # the unit is already booked
    refused = await trade.api("book/book_result_callback", {"book_id": first, "result": 2, "msg": "满了"})
    assert refused["data"]["status"] == "FAIL"
    assert (await state(trade, order["order_id"]))[1] == [(0, 0, None)]  # the unit is free again
    second = (await book(trade, order, "B2", "2026-01-06", iid))["data"]["book_id"]
    mine = await trade.api("book/user_cancel_book", {"book_id": second, "open_id": "buyer", "cancel_reason": ["改期"]})
    assert mine["data"]["status"] == "CANCEL"
    third = (await book(trade, order, "B3", "2026-01-07", iid))["data"]["book_id"]
    await trade.api("book/book_result_callback", {"book_id": third, "result": 1})
    trade.clock.set(at("2026-01-06", 12))  # 22 hours before it starts: the default policy wants 24
    before = await state(trade, order["order_id"])
    other = await trade.api("book/user_cancel_book", {"book_id": third, "open_id": "x", "cancel_reason": []})
    policy = await trade.api("book/user_cancel_book", {"book_id": third, "open_id": "buyer", "cancel_reason": []})
    assert [sub(other), sub(policy)] == [22000, 22006]
    assert await state(trade, order["order_id"]) == before
    assert before[1] == [(0, 2, "2026-01-07")]
    merchant = await trade.api("book/merchant_cancel_book", {"book_id": third, "cancel_reason": "门店歇业"})
    assert merchant["data"]["status"] == "CANCEL"
    books = (await trade.api("book/query_book", {"order_id": order["order_id"]}))["data"]["book_info_list"]
    assert sorted((b["status"], b["cancelled_by"], b["reason"]) for b in books) == [  # one clock ms: any order
        ("CANCEL", "merchant", "门店歇业"), ("CANCEL", "user", "改期"), ("FAIL", "", "满了")]
    assert (await state(trade, order["order_id"]))[1] == [(0, 0, None)]
    unknown = [await trade.api("book/book_result_callback", {"book_id": "bk-nope", "result": 1}),
               await trade.api("book/query_book", {"book_id": "bk-nope"}),
               await trade.api("book/merchant_cancel_book", {"book_id": "bk-nope", "cancel_reason": "x"})]
    assert [sub(u) for u in unknown] == [22000, 22000, 22000]
    await trade.add_goods("plain")
    plain = await trade.paid_order(goods_id="plain")
    nope = await trade.api("book/create_book", {"order_id": plain["order_id"], "out_book_no": "P1", "open_id": "buyer",
                                                "item_book_info_list": [item("plain", "2026-01-09")]})
    assert sub(nope) == 22001
    dup = await trade.api("book/create_book", {"order_id": plain["order_id"], "out_book_no": "B1", "open_id": "buyer",
                                               "item_book_info_list": [item("plain", "2026-01-09")]})
    assert sub(dup) == 22004


async def test_trailing_slash_paths(trade: TradeWorld) -> None:
    r = await trade.http.post(f"{trade.url}/api/apps/trade/v2/book/query_book/", json={"book_id": "bk-none"},
                              headers={"access-token": await trade.token()})
    assert r.status_code == 200 and r.json()["extra"]["sub_error_code"] == 22000


async def test_console_cli_and_buyer_show_bookings_and_locks(trade: TradeWorld, db_url: str) -> None:
    await trade.add_goods("g", labels=LABELS)
    order = await trade.paid_order(quantity=2)
    oid = order["order_id"]
    a, b = await trade.items(oid)
    book_id = (await book(trade, order, "B9", "2026-01-05", a.item_order_id))["data"]["book_id"]
    await trade.api("book/book_result_callback", {"book_id": book_id, "result": 1})
    await trade.api("toolkit/change_lock_status", {"certificate_id": b.certificate_id, "lock_status": 1})
    mine = await trade.http.get(f"{trade.url}/api/buyer/v1/orders/{oid}/bookings", headers=trade.auth("buyer"))
    assert mine.status_code == 200 and mine.json()["bookings"][0]["status"] == "SUCCESS"
    other = await trade.http.get(f"{trade.url}/api/buyer/v1/orders/{oid}/bookings", headers=trade.auth("x"))
    assert other.status_code == 404
    async with httpx.AsyncClient(base_url=trade.url, trust_env=False) as http:
        page = await http.get("/console/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        signed = await http.post("/console/login", data={"app_id": trade.app_id, "password": trade.app["secret"],
                                                         "csrf": csrf.group(1), "next": "/console"})
        assert signed.status_code == 303, signed.text
        detail = (await http.get(f"/console/orders/{oid}")).text
    assert f'data-book="{book_id}" data-status="SUCCESS"' in detail and "2026-01-05" in detail
    assert detail.count('data-testid="locked"') == 1 and 'data-testid="booked"' in detail
    runner = CliRunner()
    listed = await asyncio.to_thread(runner.invoke, cli, ["bookings", "list", "--app", trade.app_id,
                                                          "--database", db_url])
    assert listed.exit_code == 0 and book_id in listed.output and "SUCCESS" in listed.output, listed.output
    certs = await asyncio.to_thread(runner.invoke, cli, ["bookings", "certificates", "--app", trade.app_id,
                                                         "--order", oid, "--database", db_url])
    assert certs.exit_code == 0, certs.output
    lines = {ln.split()[0]: ln for ln in certs.output.splitlines()[1:]}
    assert "booked 2026-01-05" in lines[a.certificate_id] and "LOCKED" in lines[b.certificate_id]
