"""Issue 23, Citus readiness (src/paybutton/distribution.py): every statement the order, payment, refund, settle and
callback paths send filters by app_id, so that on Citus each one is routed to the one node of its app.

On SQLite and PostgreSQL, against a live server and a real merchant HTTP server (trade_world.py), these tests run
the paths end to end and capture every statement the paybutton code sends (the server's engine and the workers'
alike; app_id_sql.py): a button order (the goods' page info, placing a library good and a merchant good), the
sandbox payment and its `payment` callback, an OpenAPI create_order, a channel's payment and refund notifies, the
payment reconciler, refunds (whole, per item, per amount; the merchant's audit), voucher verification, settles
(manual and automatic), callback delivery and order expiry. Each statement is parsed (sqlglot, in its database's
dialect) and any SELECT/UPDATE/DELETE of a distributed table that does not pin its app_id, any join of two
distributed tables not on app_id, and any INSERT into one without app_id fails the test, unless the function that
sent it is one of SWEEPS below: the background workers' cross-app sweeps, multi-shard by nature. The per-row
statements that follow a sweep are checked as any other."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
from app_id_sql import Sent, capture, distributed, judge, parse, problems
from channel_doubles import HmacChannel
from settle_world import redeem, rules
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from trade_world import TradeWorld

from paybutton.order import ending, reconcile
from paybutton.settle.auto import settle_due
from paybutton.tables import item_orders, metadata, orders, refund_items, refunds

BUYER = "/api/buyer/v1"


@dataclasses.dataclass(frozen=True)
class Sweep:
    """A statement that reads every app's rows on purpose: which worker sends it, and why it must."""

    sender: str  # the paybutton function that sends it
    worker: str
    why: str


SWEEPS = [
    Sweep("paybutton.order.ending.expire_due", "expiry sweeper (workers.run_sweeper)",
          "which unpaid orders, of any app, are past their deadline (order/store.DUE_FOR_EXPIRY)"),
    Sweep("paybutton.order.store.due_attempts", "payment reconciler (order/reconcile.reconcile_due)",
          "which live payment attempts, of any app, are due to be asked about at their channel"),
    Sweep("paybutton.callbacks.dispatcher._claim", "callback dispatcher (callbacks/dispatcher.dispatch_due)",
          "which callbacks, of any app, are due: looked for, then leased in one guarded UPDATE (SKIP LOCKED)"),
    Sweep("paybutton.callbacks.dispatcher.release_claims", "callback dispatcher, at shutdown (workers.Workers.stop)",
          "hands back this worker's leases, whatever their app"),
    Sweep("paybutton.refund.worker.advance_due", "refund worker (refund/worker.run_refund_worker)",
          "which refunds, of any app, can move (answered, audit overdue, ready for the cashier), which orders have "
          "a late payment to give back, which EXPIRED_RETURNS orders are past their validity"),
    Sweep("paybutton.settle.auto.settle_due", "automatic settler (settle/auto.run_auto_settler)",
          "which paid orders, of any app that settles automatically, may be due (settle/store.auto_candidates)"),
    Sweep("paybutton.settle.sharing.advance_due", "channel shares (settle/sharing.run_share_worker)",
          "which profit shares, of any app, are still PROCESSING at their channel"),
]
SWEPT = {s.sender: s for s in SWEEPS}
# Distributed tables without an app_id column yet (their statements cannot name it): the schema's change adds it.
AWAITING_COLUMN = {name for name, t in metadata.tables.items() if distributed(name) and "app_id" not in t.c}


@pytest.fixture
def sent() -> Iterator[list[Sent]]:
    """The statements the paybutton code sends during the test's body (each test ends with assert_pinned)."""
    with capture() as got:
        yield got


def assert_pinned(sent: list[Sent], capsys: pytest.CaptureFixture[str]) -> None:
    """Print how many statements were checked, and fail on every one without app_id (each named once)."""
    v = judge(sent, set(SWEPT), AWAITING_COLUMN)
    awaiting = (f"{len(v.awaiting)} on tables awaiting their app_id column ({', '.join(sorted(AWAITING_COLUMN))}: "
                f"{', '.join(sorted({a.split(':')[0] for a in v.awaiting}))}), " if AWAITING_COLUMN else "")
    with capsys.disabled():
        print(f"\napp_id check: {v.checked} statements checked, {v.distributed} on distributed tables, "
              f"{sum(v.swept.values())} cross-app sweeps allowed ({', '.join(sorted(v.swept))}), {awaiting}"
              f"{len(v.bad)} without app_id")
    distinct = sorted(set(v.bad))
    assert not distinct, f"{len(v.bad)} statements ({len(distinct)} distinct) without app_id:\n" + "\n".join(distinct)
    assert v.distributed > 50


async def buyer_post(w: TradeWorld, path: str, open_id: str = "buyer", **body: Any) -> Any:
    r = await w.http.post(f"{w.url}{BUYER}{path}", headers=w.auth(open_id), json=body)
    assert r.status_code == 200, r.text
    return r.json()


async def buyer_get(w: TradeWorld, path: str, open_id: str = "buyer") -> Any:
    r = await w.http.get(f"{w.url}{BUYER}{path}", headers=w.auth(open_id))
    assert r.status_code == 200, r.text
    return r.json()


async def pay(w: TradeWorld, oid: str, open_id: str = "buyer", channel: str = "douyin") -> Any:
    await buyer_post(w, f"/orders/{oid}/cashier", open_id)
    r = await w.http.post(f"{w.url}{BUYER}/orders/{oid}/pay", headers=w.auth(open_id), json={"channel": channel})
    return r


async def button_orders(w: TradeWorld) -> dict[str, Any]:
    """The pay-button's library good (its page info, placed, paid) and a merchant good (getgoodsinfo's object)."""
    await w.add_goods("g", stock=20, price=1000)
    got = await w.http.get(f"{w.url}{BUYER}/goods/g", params={"app_id": w.app_id})
    assert got.status_code == 200, got.text
    order = await buyer_post(w, "/orders", goods_id="g", goods_type=1, quantity=3)
    assert (await pay(w, order["order_id"])).json()["result"]["code"] == 0
    info = {"currentPrice": 900, "goodsName": "BBQ", "goodsPhoto": "https://x/y.jpg", "minLimits": 1,
            "maxLimits": 5}
    merchant_goods = await buyer_post(w, "/orders", goods_id="bbq", goods_type=2, goods_info=info, quantity=2)
    assert (await pay(w, merchant_goods["order_id"])).json()["result"]["code"] == 0
    await buyer_get(w, f"/orders/{order['order_id']}")
    await buyer_get(w, "/unpaid-order?goods_id=g")
    await w.drive()
    assert len(w.merchant.of_type("payment")) == 2 and all(p.signature_ok for p in w.merchant.of_type("payment"))
    q = await w.api("order/query_order", {"order_id": order["order_id"]})
    assert q["data"]["order_status"] == "SUCCESS", q
    return order


async def refunds_all_ways(w: TradeWorld, order: dict[str, Any]) -> None:
    """Per item (the buyer; the merchant's audit agrees), per amount and whole (the merchant, OpenAPI)."""
    oid, its = order["order_id"], [i["item_order_id"] for i in order["item_orders"]]
    await buyer_get(w, f"/orders/{oid}/refundable")
    rid = (await buyer_post(w, f"/orders/{oid}/refunds", reason="不想要了",
                            item_order_list=[{"item_order_id": its[0]}]))["refund_id"]
    await w.drive()
    row = await w.refund(rid)
    assert row.audit_status == "TOAUDIT", row
    env = await w.api("refund/merchant_audit_callback", {"out_refund_no": row.out_refund_no, "refund_audit_status": 1})
    assert env["extra"]["error_code"] == 0, env
    by_amount = await w.api("refund/create_refund", {"out_order_no": order["out_order_no"], "out_refund_no": "RA",
                                                     "item_order_detail": [{"item_order_id": its[1],
                                                                            "refund_amount": 300}]})
    assert by_amount["extra"]["error_code"] == 0, by_amount
    await w.drive()
    whole_order = await w.paid_order("whole")
    whole = await w.api("refund/create_refund", {"out_order_no": whole_order["out_order_no"], "out_refund_no": "RW"})
    assert whole["extra"]["error_code"] == 0, whole
    await w.drive()
    for key in ({"refund_id": rid}, {"out_refund_no": "RA"}, {"order_id": oid}):
        assert (await w.api("refund/query_refund", key))["extra"]["error_code"] == 0
    await buyer_get(w, f"/refunds/{rid}")
    await buyer_get(w, f"/orders/{oid}/refunds")
    assert [r.status for r in [await w.refund(rid)]] == ["SUCCESS"]
    assert len(w.merchant.of_type("refund")) == 3


async def vouchers_and_settle(w: TradeWorld) -> None:
    """Verify a unit over the OpenAPI (prepare, verify, cancel, verify), redeem the rest, settle the order."""
    order = await w.paid_order("v", quantity=2)
    card = await buyer_get(w, f"/orders/{order['order_id']}/vouchers", "v")
    prep = (await w.api("fulfillment/delivery_prepare", {"code": card["vouchers"][0]["code"]}))["data"]
    cert = prep["certificates"][0]
    body = {"verify_token": prep["verify_token"], "order_id": order["order_id"],
            "certificates": [{"encrypted_code": cert["encrypted_code"], "certificate_id": cert["certificate_id"]}]}
    (res,) = (await w.api("fulfillment/delivery_verify", body))["data"]["verify_results"]
    assert res["result_code"] == 0, res
    cancel = await w.api("fulfillment/verify_cancel", {"order_id": order["order_id"],
                                                      "certificate_id": cert["certificate_id"],
                                                      "verify_id": res["verify_id"]})
    assert cancel["extra"]["error_code"] == 0, cancel
    await redeem(w, order["order_id"])
    env = await w.api("settle/create_settle", {"out_order_no": order["out_order_no"], "out_settle_no": "S1",
                                               "settle_desc": "结算"})
    assert env["extra"]["error_code"] == 0, env
    (got,) = (await w.api("settle/query_settle", {"out_settle_no": "S1"}))["data"]["settle_list"]
    assert got["settle_status"] == "SUCCESS"
    await w.drive()
    assert len(w.merchant.of_type("settle")) == 1


@pytest.mark.parametrize("audit", [True])
async def test_the_button_order_paths_pin_app_id(trade: TradeWorld, sent: list[Sent],
        capsys: pytest.CaptureFixture[str]) -> None:
    await rules(trade, settle_url=f"{trade.merchant_url()}/settle")
    order = await button_orders(trade)
    await refunds_all_ways(trade, order)
    await vouchers_and_settle(trade)
    unpaid = await buyer_post(trade, "/orders", "late", goods_id="g", goods_type=1)
    await buyer_post(trade, "/orders", "closer", goods_id="g", goods_type=1)
    open_one = (await buyer_get(trade, "/unpaid-order?goods_id=g", "closer"))["order"]
    await buyer_post(trade, f"/orders/{open_one['order_id']}/close", "closer")  # the buyer closes it
    trade.clock.advance(301)
    assert await ending.expire_due(trade.tctx) == 1
    assert (await buyer_get(trade, f"/orders/{unpaid['order_id']}", "late"))["status"] == "TIMEOUT"
    await trade.drive()
    assert_pinned(sent, capsys)


def use(w: TradeWorld, cashier: Any) -> None:
    w.server.app.state.ctx.cashier = cashier
    w.tctx.cashier = cashier


async def channel_paths(w: TradeWorld) -> None:
    """A lost charge settled by the reconciler; a pending one settled by the channel's notify, refunded through the
    channel and ended by its refund notify; a waiting attempt of an expired order closed at the channel."""
    ch = HmacChannel()
    use(w, ch)
    lost = await buyer_post(w, "/orders", "lost", goods_id="g", goods_type=1)
    ch.lost_answer = True
    assert (await pay(w, lost["order_id"], "lost")).status_code == 409
    ch.lost_answer = False
    w.clock.advance(5)
    assert await reconcile.reconcile_due(w.tctx) == 1
    qr = await buyer_post(w, "/orders", "qr", goods_id="g", goods_type=1)
    pid = (await pay(w, qr["order_id"], "qr", "wechat")).json()["result"]["paymentId"]
    ch.buyer_pays(pid)
    url = f"{w.url}/pay/notify/hmacpay/{w.app_id}"
    body, h = ch.notify_body(out_trade_no=pid, amount=1000, pay_id="hp-1", paid=True)
    assert (await w.http.post(url, content=body, headers=h)).status_code == 200
    rid = (await buyer_post(w, f"/orders/{qr['order_id']}/refunds", "qr", reason="不想要了"))["refund_id"]
    await w.drive()
    body, h = ch.notify_body(out_trade_no=pid, out_refund_no=rid, refund_id="hr-1", ok=True)
    assert (await w.http.post(url + "/refund", content=body, headers=h)).status_code == 200
    assert (await w.refund(rid)).status == "SUCCESS"
    waiting = await buyer_post(w, "/orders", "wait", goods_id="g", goods_type=1)
    assert (await pay(w, waiting["order_id"], "wait")).json()["result"]["pending"] is True
    w.clock.advance(301)
    assert await ending.expire_due(w.tctx) == 1
    assert await reconcile.reconcile_due(w.tctx) == 1
    use(w, w.cashier)


async def developer_order(w: TradeWorld) -> None:
    """OpenAPI create_order (the same body twice), query_order and query_item_order_info, paid by the buyer."""
    body = {"out_order_no": "DEV-1", "open_id": "dev", "total_amount": 2000,
            "goods_list": [{"goods_id": "g", "goods_id_type": 1, "price": 1000, "quantity": 2}]}
    for _ in range(2):
        env = await w.api_at("/api/apps/trade/v2/order/create_order", body)
        assert env["extra"]["error_code"] == 0, env
    oid = env["data"]["order_id"]
    assert (await w.api("order/query_order", {"out_order_no": "DEV-1"}))["data"]["order_id"] == oid
    assert (await pay(w, oid, "dev")).json()["result"]["code"] == 0
    items = await w.api_at("/api/apps/trade/v2/order/query_item_order_info", {"order_id": oid})
    assert items["extra"]["error_code"] == 0, items
    cps = await w.api_at("/api/apps/trade/v2/order/query_cps", {"order_id": oid})
    assert cps["extra"]["error_code"] == 0, cps


async def test_the_openapi_and_channel_paths_pin_app_id(trade: TradeWorld, sent: list[Sent],
        capsys: pytest.CaptureFixture[str]) -> None:
    await rules(trade, settle_mode="pay", settle_days=0)
    await trade.add_goods("g", stock=20, price=1000)
    await developer_order(trade)
    await channel_paths(trade)
    assert await settle_due(trade.tctx) >= 1
    await trade.drive()
    assert trade.merchant.of_type("payment") and trade.merchant.of_type("refund")
    assert_pinned(sent, capsys)


async def batched_orders(w: TradeWorld) -> list[dict[str, Any]]:
    """Orders of two goods at once: the order writers take them in batches (on PostgreSQL, one statement for
    several goods of one app: READ_MANY, TAKE_MANY, ACCEPT_BATCH)."""
    await w.add_goods("g2", stock=20, price=500)
    placed = await asyncio.gather(*(buyer_post(w, "/orders", f"b{n}", goods_id=("g", "g2")[n % 2], goods_type=1)
                                    for n in range(12)))
    assert len({o["order_id"] for o in placed}) == 12
    return list(placed)


async def bookings_tools_and_callbacks(w: TradeWorld) -> None:
    """A booking made, confirmed, cancelled; a certificate locked, unlocked, redeemed where it is; the callback log."""
    order = await w.paid_order("booker", goods_id="bk", quantity=2)
    made = await w.api("book/create_book", {"order_id": order["order_id"], "out_book_no": "B1", "open_id": "booker",
                                            "item_book_info_list": [BOOK_ITEM]})
    assert made["extra"]["error_code"] == 0, made
    book_id = made["data"]["book_id"]
    for path, body in (("book/book_result_callback", {"book_id": book_id, "result": 1}),
                       ("book/merchant_cancel_book", {"book_id": book_id, "cancel_reason": "店休"}),
                       ("book/query_book", {"order_id": order["order_id"]})):
        env = await w.api(path, body)
        assert env["extra"]["error_code"] == 0, (path, env)
    (unit, _) = await w.items(order["order_id"])
    for lock in (1, 0):
        env = await w.api("toolkit/change_lock_status", {"certificate_id": unit.certificate_id, "lock_status": lock})
        assert env["extra"]["error_code"] == 0, env
    for path, body in (("/api/trade/v2/fulfillment/query_user_certificates",
                        {"open_id": "booker", "page": 1, "page_size": 10}),
                       ("/api/trade/v2/fulfillment/order_can_use", {"order_id": order["order_id"]})):
        env = await w.api_at(path, body)
        assert env["extra"]["error_code"] == 0, (path, env)
    for path, body in (("toolkit/verify_local_certificates", {"certificates": [{"certificate_id":
                                                                                unit.certificate_id}]}),
                       ("callbacks/list", {}), ("callbacks/attempts", {})):
        env = await w.api(path, body)
        assert env["extra"]["error_code"] == 0, (path, env)
    first = (await w.api("callbacks/list", {}))["data"]["callback_list"][-1]
    assert (await w.api("callbacks/query", {"callback_id": first["id"]}))["extra"]["error_code"] == 0


BOOK_ITEM = {"poi_id": "7000000001", "shop_name": "国贸店", "ext_shop_id": "s1", "goods_id": "bk",
             "book_start_time": 1_767_578_400_000, "book_end_time": 1_767_585_600_000,  # Monday 2026-01-05, 10-12
             "user_info_list": [{"name": "张三", "phone": "13800000000"}]}


async def test_the_batched_fulfilment_and_callback_paths_pin_app_id(trade: TradeWorld, sent: list[Sent],
        capsys: pytest.CaptureFixture[str]) -> None:
    await trade.add_goods("g", stock=20, price=1000)
    await trade.add_goods("bk", labels='[{"type":"BOOK_IN_ADVANCE","value":2}]')
    placed = await batched_orders(trade)
    closed = await trade.api("order/close_order", {"order_id": placed[0]["order_id"]})
    assert closed["extra"]["error_code"] == 0, closed
    await bookings_tools_and_callbacks(trade)
    await trade.drive()
    assert_pinned(sent, capsys)


# ---------------------------------------------------------------- the check itself, on statements as emitted


def emitted(stmt: Any, dialect: str) -> Sent:
    """A statement as SQLAlchemy renders it for the database's driver (or as written, for raw SQL)."""
    if isinstance(stmt, str):
        return Sent(stmt, dialect, "paybutton.order.store.example")
    d = postgresql.asyncpg.dialect() if dialect == "postgresql" else sqlite.aiosqlite.dialect()  # type: ignore[attr-defined]
    return Sent(str(stmt.compile(dialect=d, compile_kwargs={"render_postcompile": True})), dialect,
                "paybutton.order.store.example")


def found(stmt: Any, dialect: str) -> list[str]:
    s = emitted(stmt, dialect)
    tree = parse(s)
    assert tree is not None
    return problems(s, tree)


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_the_check_fails_an_order_path_statement_without_app_id(dialect: str) -> None:
    by_id = select(orders).where(orders.c.order_id == "ot1")
    assert found(by_id, dialect) == ["SELECT of orders without app_id in its WHERE"]
    assert found(by_id.where(orders.c.app_id == "tt1"), dialect) == []
    assert found(by_id.where((orders.c.app_id == "tt1") | (orders.c.status == "INIT")), dialect) != []
    assert found(select(orders).where(orders.c.app_id.in_(["a", "b"])), dialect) == []
    moved = update(orders).where(orders.c.order_id == "ot1").values(status="TIMEOUT")
    assert found(moved, dialect) == ["UPDATE of orders without app_id in its WHERE"]
    assert found(moved.where(orders.c.app_id == "tt1"), dialect) == []
    p = "?" if dialect == "sqlite" else "$1::VARCHAR"  # as each driver's statements carry their values
    assert found(f"INSERT INTO outbox (type) VALUES ({p})", dialect) == ["INSERT INTO outbox without app_id"]
    assert found(f"INSERT INTO outbox (app_id, type) VALUES ({p}, {p})", dialect) == []
    units = select(item_orders.c.item_order_id).join_from(item_orders, orders,
                                                          item_orders.c.order_id == orders.c.order_id)
    pinned_one = units.where(orders.c.app_id == "tt1")
    assert found(pinned_one, dialect) == ["SELECT of item_orders without app_id in its WHERE",
                                          "join of item_orders, orders not on app_id"]
    co_located = select(item_orders.c.item_order_id).join_from(
        item_orders, orders, (item_orders.c.order_id == orders.c.order_id) & (item_orders.c.app_id == orders.c.app_id))
    assert found(co_located.where(orders.c.app_id == "tt1"), dialect) == []
    correlated = select(refunds.c.refund_id).where(refunds.c.app_id == "tt1", select(refund_items.c.item_order_id)
                                                   .where(refund_items.c.refund_id == refunds.c.refund_id).exists())
    assert found(correlated, dialect) == ["SELECT of refund_items without app_id in its WHERE"]


def test_every_sweep_is_a_function_that_exists() -> None:
    import importlib

    for s in SWEEPS:
        module, _, name = s.sender.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name, None)), s
        assert s.worker and s.why
    assert json.dumps(sorted(AWAITING_COLUMN)) in ('["refund_items"]', "[]")
