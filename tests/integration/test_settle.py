"""Settlement (issue 21) over real HTTP, on SQLite and PostgreSQL: a manual settle with a receiver (query_settle,
query_order's true figures, the signed `settle` callback, the ledger, a settled unit no longer refunds,
`paybutton check`), every refusal with nothing written, and 8 create_settle calls at once settling the money once."""

from __future__ import annotations

import asyncio
from typing import Any

from settle_world import counts, receiver, redeem, rules, settle
from sqlalchemy import select
from trade_world import TradeWorld
from typer.testing import CliRunner

from paybutton.cli import cli
from paybutton.fulfillment.service import verify_code
from paybutton.ledger import balances
from paybutton.merchant import OpenAPIClient
from paybutton.tables import outbox

RECEIVER = "7000000000000000001"


def code(env: dict[str, Any]) -> int:
    return int(env["extra"]["sub_error_code"])


async def test_manual_settle_with_a_receiver(trade: TradeWorld, db_url: str) -> None:
    app = await rules(trade, rake_bps=500)
    await receiver(trade, RECEIVER)
    order = await trade.paid_order(quantity=2)  # 2 x 1000 fen
    await redeem(trade, order["order_id"])
    params = f'[{{"merchant_uid":"{RECEIVER}","amount":300}}]'
    env = await settle(trade, order, "S1", settle_params=params, cp_extra="x",
                       notify_url=f"{trade.merchant_url()}/settle")
    sid = env["data"]["settle_id"]
    assert env["extra"]["error_code"] == 0 and sid.startswith("st")
    again = await settle(trade, order, "S1", settle_params=params)
    assert again["data"]["settle_id"] == sid  # the same out_settle_no answers the first settle
    for key in ({"settle_id": sid}, {"order_id": order["order_id"]}, {"out_settle_no": "S1"},
                {"out_order_no": order["out_order_no"]}):
        (got,) = (await trade.api("settle/query_settle", key))["data"]["settle_list"]
        assert got["settle_id"] == sid and got["settle_status"] == "SUCCESS"
        assert (got["settle_amount"], got["rake"], got["commission"]) == (2000 - 100 - 300, 100, 0)
        assert got["settle_detail"] == f"商户号{app['merchant_uid']}-分成金额(分)1600,商户号{RECEIVER}-分成金额(分)300"
    first = await trade.api("settle/query_settle", {"settle_id": sid, "order_id": "nope", "out_settle_no": "nope"})
    assert [r["settle_id"] for r in first["data"]["settle_list"]] == [sid]  # settle_id comes first
    none = await trade.api("settle/query_settle", {"out_settle_no": "nope", "out_order_no": order["out_order_no"]})
    assert none["data"]["settle_list"] == [] and none["extra"]["error_code"] == 0  # unknown: an empty list
    q = (await trade.api("order/query_order", {"order_id": order["order_id"]}))["data"]
    assert q["settle_amount"] == 1600 and q["seller_uid"] == app["merchant_uid"]
    await trade.drive()
    (note,) = trade.merchant.of_type("settle")
    assert note.signature_ok and note.path == "/settle"
    assert note.msg["settle_id"] == sid and note.msg["is_auto_settle"] is False and note.msg["cp_extra"] == "x"
    assert note.msg["settle_amount"] == 1600 and note.msg["status"] == "SUCCESS"
    async with trade.db.engine.connect() as conn:
        money = await balances.order_money(conn, trade.app_id, order["order_id"])
        assert (money.paid, money.settled, money.held) == (2000, 2000, 0)
        assert await balances.balance(conn, f"merchant:{app['merchant_uid']}") == 1600
        assert await balances.balance(conn, f"receiver:{RECEIVER}") == 300
        assert await balances.balance(conn, "platform:fees") == 100
    unit = (await trade.items(order["order_id"]))[0]
    refused = await trade.api("refund/create_refund", {
        "out_order_no": order["out_order_no"], "out_refund_no": "R1",
        "item_order_detail": [{"item_order_id": unit.item_order_id}]})
    assert "已结算" in refused["extra"]["description"]
    buyer = f"{trade.url}/api/buyer/v1/orders/{order['order_id']}"
    rf = (await trade.http.get(f"{buyer}/refundable", headers=trade.auth("buyer"))).json()
    assert rf["refundable_amount"] == 0 and rf["settled_units"] == 2 and all(i["settled"] for i in rf["items"])
    applied = await trade.http.post(f"{buyer}/refunds", headers=trade.auth("buyer"), json={"reason": "不想要了"})
    assert applied.status_code == 409 and applied.json()["error"] == "ITEM_SETTLED", applied.text
    uncancelled = await trade.api("fulfillment/verify_cancel", {
        "order_id": order["order_id"], "certificate_id": unit.certificate_id, "verify_id": unit.verify_id})
    assert "已结算" in uncancelled["extra"]["description"]
    assert await trade.problems() == []
    got = await asyncio.to_thread(CliRunner().invoke, cli, ["check", "--database", db_url])
    assert got.exit_code == 0, got.output


async def test_refusals_write_nothing(trade: TradeWorld) -> None:
    await receiver(trade, RECEIVER)
    order = await trade.paid_order(quantity=2)
    other = await trade.paid_order(quantity=1)
    units = [i.item_order_id for i in await trade.items(order["order_id"])]

    async def refused(out_no: str, **body: Any) -> int:
        env = await settle(trade, body.pop("order", order), out_no, **body)
        assert env["extra"]["error_code"] == 2191009, env
        return code(env)

    assert await refused("A", order={"out_order_no": "nope"}) == 23101
    assert await refused("A") == 23107  # manual settles after redemption: nothing is redeemed yet
    await redeem(trade, order["order_id"])
    for bad in ("not json", "{}", '[{"merchant_uid":"x"}]', f'[{{"merchant_uid":"{RECEIVER}","amount":"5"}}]',
                f'[{{"merchant_uid":"{RECEIVER}","amount":1.5}}]', f'[{{"merchant_uid":"{RECEIVER}","amount":0}}]'):
        assert await refused("A", settle_params=bad) == 23003, bad
    assert await refused("A", settle_params='[{"merchant_uid":"nobody","amount":1}]') == 23003
    assert await refused("A", settle_params=f'[{{"merchant_uid":"{RECEIVER}","amount":2001}}]') == 23112
    other_unit = (await trade.items(other["order_id"]))[0].item_order_id
    assert await refused("A", item_order_id=other_unit) == 23025
    assert await counts(trade) == (0, 0)
    ok = await settle(trade, order, "U1", item_order_id=units[0])
    assert ok["extra"]["error_code"] == 0
    assert await refused("A") == 23118  # a unit was settled alone: no whole-order settle any more
    assert await refused("U2", item_order_id=units[0]) == 23112  # that unit has nothing left
    assert await refused("U1", order=other) == 23111  # the number is the first settle's, of another order
    await redeem(trade, other["order_id"])
    await rules(trade, settle_mode="verify")
    trade.server.app.state.ctx.apps.forget(trade.app_id)
    assert await refused("B", order=other) == 23117
    assert await counts(trade) == (1, 1)


async def test_the_merchant_library_settles(trade: TradeWorld) -> None:
    await receiver(trade, RECEIVER)
    order = await trade.paid_order(quantity=1)
    await redeem(trade, order["order_id"])

    def go() -> tuple[dict[str, Any], dict[str, Any]]:
        with OpenAPIClient(trade.url, trade.app_id, trade.app["secret"]) as client:
            made = client.create_settle(order["out_order_no"], "LIB-1", settle_desc="结算",
                                        receivers=[{"merchant_uid": RECEIVER, "amount": 100}])
            return made, client.query_settle(out_settle_no="LIB-1")

    made, found = await asyncio.to_thread(go)
    (row,) = found["settle_list"]
    assert row["settle_id"] == made["settle_id"] and row["settle_amount"] == 900


async def test_eight_settles_at_once_settle_once(trade: TradeWorld) -> None:
    order = await trade.paid_order(quantity=2)
    await redeem(trade, order["order_id"])
    got = await asyncio.gather(*(settle(trade, order, f"P{i}") for i in range(8)))
    ok = [g for g in got if g["extra"]["error_code"] == 0]
    assert len(ok) == 1, got
    assert all(code(g) == 23112 for g in got if g not in ok)
    assert await counts(trade) == (1, 1)
    async with trade.db.engine.connect() as conn:
        money = await balances.order_money(conn, trade.app_id, order["order_id"])
    assert (money.paid, money.settled, money.held) == (2000, 2000, 0)
    assert await trade.problems() == []


async def test_refund_notify_says_is_all_settled(trade: TradeWorld) -> None:
    order = await trade.paid_order(quantity=2)
    units = await trade.items(order["order_id"])
    first, second = (i.item_order_id for i in units)
    async with trade.db.tx() as conn:
        await verify_code(conn, trade.clock, units[0].voucher_code)
    assert (await settle(trade, order, "U1", item_order_id=first))["extra"]["error_code"] == 0
    async with trade.db.engine.connect() as conn:
        assert await balances.unit_settled(conn, trade.app_id, order["order_id"]) == {first: 1000}
    refund = await trade.api("refund/create_refund", {"out_order_no": order["out_order_no"], "out_refund_no": "R2",
                                                      "item_order_detail": [{"item_order_id": second}]})
    assert refund["extra"]["error_code"] == 0, refund
    await trade.drive()
    (note,) = trade.merchant.of_type("refund")
    assert note.msg["status"] == "SUCCESS" and note.msg["is_all_settled"] is True


async def test_a_dead_notify_url_does_not_block_the_settle(trade: TradeWorld) -> None:
    order = await trade.paid_order(quantity=1)
    await redeem(trade, order["order_id"])
    env = await settle(trade, order, "D1", notify_url="http://127.0.0.1:9/settle")  # port 9: nothing listens
    assert env["extra"]["error_code"] == 0
    await trade.drive()
    async with trade.db.engine.connect() as conn:
        (row,) = (await conn.execute(select(outbox).where(outbox.c.type == "settle"))).all()
    assert row.status == "PENDING" and row.attempts == 1 and row.schedule == "settle"  # retried on its schedule
    (got,) = (await trade.api("settle/query_settle", {"out_settle_no": "D1"}))["data"]["settle_list"]
    assert got["settle_status"] == "SUCCESS"
