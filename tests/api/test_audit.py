"""The audit trail (issue 23) on SQLite and PostgreSQL: changes made in the console, through the OpenAPI and with
the CLI are rows with their actor, before and after (secrets masked); the console shows one app's, filtered by
action and date; `paybutton audit` prints them; the database refuses to change or delete one."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from paybutton import audit, buyer_token
from paybutton.app import create_app
from paybutton.apps import service as app_service
from paybutton.audit import reading
from paybutton.cli import cli
from paybutton.clock import FakeClock
from paybutton.config import Settings
from paybutton.goods import service as goods_service
from paybutton.tables import audit_log

PASSWORD = "audit me please"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
SETTINGS = {"pre_order_url": "https://shop.example/cb/pre", "payment_notify_url": "", "refund_url": "",
            "marketing_url": "", "login_url": "", "origins": "https://shop.example", "need_refund_audit": "on",
            "audit_hours": "48", "pay_expire": "600", "radius": "8", "bg_color": "#FE2C55", "font_color": "#ffffff"}
runner = CliRunner()


class World:
    def __init__(self, app: Any, clock: FakeClock) -> None:
        self.app, self.ctx, self.clock = app, app.state.ctx, clock

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://t")

    async def new_app(self, name: str, **kw: Any) -> dict[str, Any]:
        async with self.ctx.db.tx() as conn:
            return dict(await app_service.create_app(conn, self.clock, name=name, console_password=PASSWORD, **kw))

    async def trail(self, app_id: str, action: str | None = None) -> list[dict[str, Any]]:
        async with self.ctx.db.engine.connect() as conn:
            return await reading.entries(conn, reading.Filter(app_id=app_id, action=action), limit=200)


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[World]:
    clock = FakeClock()
    app = create_app(Settings(database_url=db_url, run_workers=False), clock=clock)
    async with app.router.lifespan_context(app):
        yield World(app, clock)


async def form(http: httpx.AsyncClient, page: str, action: str, data: dict[str, Any]) -> httpx.Response:
    got = await http.get(page)
    m = CSRF.search(got.text)
    assert m, got.text[-500:]
    return await http.post(action, data={"csrf": m.group(1), **data})


async def sign_in(http: httpx.AsyncClient, app_id: str) -> None:
    r = await form(http, "/console/login", "/console/login", {"app_id": app_id, "password": PASSWORD,
                                                               "next": "/console"})
    assert r.status_code == 303, r.text[-500:]


async def test_console_changes_are_recorded_and_shown_per_app(world: World) -> None:
    a, b = await world.new_app("A"), await world.new_app("B")
    async with world.ctx.db.tx() as conn:
        await goods_service.create_goods(conn, world.clock, app_id=a["app_id"], goods_id="g", name="套餐",
                                         price=1000, stock=5)
    async with world.client() as http:
        await sign_in(http, a["app_id"])
        saved = await form(http, "/console/settings", "/console/settings", SETTINGS)
        assert saved.status_code == 303, saved.text[-800:]
        edit = "/console/goods/g/edit"
        changed = await form(http, edit, edit, {"goods_id": "g", "name": "套餐", "price": "12.00", "stock": "9",
                                                "min_limits": "1", "max_limits": "", "date_rule": "",
                                                "valid_days": "", "sale_start": "", "sale_end": "", "on_shelf": "on"})
        assert changed.status_code == 303, changed.text[-800:]
        rotated = await form(http, "/console/settings", "/console/settings/rotate-secret", {"confirm": "on"})
        assert rotated.status_code in (200, 303), rotated.text[-800:]
        rows = {r["action"]: r for r in await world.trail(a["app_id"])}
        assert {"app.update", "goods.update", "app.rotate_secret"} <= set(rows), rows
        assert {rows[k]["actor"] for k in ("app.update", "goods.update", "app.rotate_secret")} == {
            f"console:{a['app_id']}"}
        assert rows["goods.create"]["actor"] == audit.SYSTEM  # made by the test itself, no surface
        s = rows["app.update"]
        assert s["after"]["pre_order_url"] == "https://shop.example/cb/pre" and s["before"]["pre_order_url"] is None
        assert s["before"]["pay_expire_seconds"] == 300 and s["after"]["pay_expire_seconds"] == 600
        g = rows["goods.update"]
        assert (g["target"], g["before"]["price"], g["after"]["price"]) == ("g", 1000, 1200)
        assert (g["before"]["stock"], g["after"]["stock"]) == (5, 9)
        async with world.ctx.db.engine.connect() as conn:
            secret = (await app_service.get_app(conn, a["app_id"]))["secret"]
            dump = json.dumps([dict(r._mapping) for r in (await conn.execute(select(audit_log))).all()],
                              ensure_ascii=False)
        assert secret not in dump and a["secret"] not in dump and audit.MASKED in dump  # app.create's secret

        page = await http.get("/console/audit")
        assert page.status_code == 200 and page.text.count("data-audit-id=") == len(rows)
        assert f"console:{a['app_id']}" in page.text and "pre_order_url" in page.text
        only = await http.get("/console/audit", params={"action": "goods.update"})
        assert re.findall(r'data-action="([^"]+)"', only.text) == ["goods.update"]
        assert 'value="goods.update" selected' in only.text
        day = "2026-01-01"  # FakeClock's start, 2026-01-01T08:00+08:00
        assert (await http.get("/console/audit", params={"from": day, "to": day})).text.count("data-audit-id=") \
            == len(rows)
        assert 'data-testid="empty"' in (await http.get("/console/audit", params={"from": "2026-01-02"})).text
        assert 'data-testid="empty"' in (await http.get("/console/audit", params={"to": "2025-12-31"})).text
        assert (await http.get("/console/audit", params={"from": "soon", "action": "nope"})).status_code == 200
    async with world.client() as other:  # another app's console sees only its own trail
        await sign_in(other, b["app_id"])
        theirs = (await other.get("/console/audit")).text
        assert a["app_id"] not in theirs and theirs.count("data-audit-id=") == 1  # B's app.create


async def test_openapi_changes_name_the_client_key(world: World) -> None:
    a = await world.new_app("A")
    async with world.client() as http:
        tok = (await http.post("/oauth/client_token/", json={
            "grant_type": "client_credential", "client_key": a["app_id"], "client_secret": a["secret"]})).json()
        h = {"access-token": tok["data"]["access_token"]}
        base = "/api/apps/trade/v2/goods"
        made = await http.post(f"{base}/create", headers=h, json={"goods_id": "og", "name": "OpenAPI 套餐",
                                                                   "price": 500, "stock": 3})
        assert made.json()["extra"]["error_code"] == 0, made.text
        upd = await http.post(f"{base}/update", headers=h, json={"goods_id": "og", "stock": 7, "on_shelf": False})
        assert upd.json()["extra"]["error_code"] == 0, upd.text
        bad = await http.post(f"{base}/update", headers=h, json={"goods_id": "og", "price": 0})
        assert bad.json()["extra"]["error_code"] != 0  # refused: nothing changed, nothing recorded
    rows = await world.trail(a["app_id"], "goods.")
    assert [(r["action"], r["actor"]) for r in rows] == [("goods.update", f"openapi:{a['app_id']}"),
                                                          ("goods.create", f"openapi:{a['app_id']}")]
    assert rows[0]["before"] == {"stock": 3, "on_shelf": True} and rows[0]["after"] == {"stock": 7, "on_shelf": False}


async def test_refund_audit_and_verification_are_recorded(world: World) -> None:
    a = await world.new_app("A", need_refund_audit=True)
    async with world.ctx.db.tx() as conn:
        await goods_service.create_goods(conn, world.clock, app_id=a["app_id"], goods_id="g", name="套餐",
                                         price=1000, stock=5)
    hb = {"Authorization": "Bearer " + buyer_token.mint(a["app_id"], a["secret"], "u1",
                                                        now=world.clock.now_ms() / 1000)}
    async with world.client() as http:
        o = (await http.post("/api/buyer/v1/orders", headers=hb,
                             json={"goods_id": "g", "goods_type": 1, "quantity": 2})).json()
        paid = await http.post(f"/api/buyer/v1/orders/{o['order_id']}/pay", headers=hb, json={"channel": "douyin"})
        assert paid.json()["outcome"] == "SUCCESS", paid.text
        vouchers = (await http.get(f"/api/buyer/v1/orders/{o['order_id']}/vouchers", headers=hb)).json()
        units = vouchers["vouchers"] if "vouchers" in vouchers else vouchers["items"]
        rid = (await http.post(f"/api/buyer/v1/orders/{o['order_id']}/refunds", headers=hb, json={
            "item_order_list": [{"item_order_id": units[0]["item_order_id"]}], "reason": "不想要了"})).json()
        await sign_in(http, a["app_id"])
        denied = await form(http, "/console/refunds", f"/console/refunds/{rid['refund_id']}/audit",
                            {"decision": "deny", "deny_message": "已使用"})
        assert denied.status_code == 303, denied.text[-500:]
        verified = await form(http, "/console/verify", "/console/verify", {"code": units[1]["code"]})
        assert verified.status_code == 303, verified.text[-500:]
    rows = {r["action"]: r for r in await world.trail(a["app_id"])}
    assert rows["refund.audit"]["after"] == {"audit": "DENY", "deny_message": "已使用"}
    assert rows["refund.audit"]["target"] == rid["refund_id"]
    assert rows["voucher.verify"]["target"] == units[1]["item_order_id"]
    assert {rows[k]["actor"] for k in ("refund.audit", "voucher.verify")} == {f"console:{a['app_id']}"}


def cli_ok(*args: str) -> str:
    r = runner.invoke(cli, list(args))
    assert r.exit_code == 0, r.output
    return str(r.output)


def test_cli_changes_and_paybutton_audit(db_url: str) -> None:
    app_id = json.loads(cli_ok("app", "create", "--name", "CLI", "--json", "--database", db_url))["app_id"]
    cli_ok("goods", "add", "--app", app_id, "--id", "g", "--name", "G", "--price", "100", "--stock", "1",
           "--database", db_url)
    cli_ok("goods", "update", "--app", app_id, "--id", "g", "--stock", "4", "--database", db_url)
    new_secret = cli_ok("app", "update", app_id, "--rotate-secret", "--console-password", "a new password",
                        "--json", "--database", db_url)
    rows = json.loads(cli_ok("audit", "--app", app_id, "--json", "--database", db_url))
    assert [r["action"] for r in rows] == ["app.rotate_secret", "app.update", "goods.update", "goods.create",
                                           "app.create"]
    assert {r["actor"] for r in rows} == {audit.cli_actor()} and audit.cli_actor().startswith("cli:")
    assert rows[1]["after"] == {"changed": ["console_password"]} and rows[0]["after"] == {"changed": ["secret"]}
    assert (rows[2]["before"], rows[2]["after"]) == ({"stock": 1}, {"stock": 4})
    secret = json.loads(new_secret)["secret"]
    everything = cli_ok("audit", "--json", "--database", db_url)
    assert secret not in everything and "a new password" not in everything
    human = cli_ok("audit", "--app", app_id, "--action", "goods.", "--database", db_url).splitlines()
    assert len(human) == 2 and "goods.update  g  {\"stock\": 1} -> {\"stock\": 4}" in human[0]
    assert cli_ok("audit", "--app", app_id, "--since", "2999-01-01", "--database", db_url).strip() \
        == "no audit entries"
    bad = runner.invoke(cli, ["audit", "--app", app_id, "--since", "soon", "--database", db_url])
    assert bad.exit_code == 2 and "--since must be ISO-8601" in bad.output
    nobody = runner.invoke(cli, ["audit", "--app", "tt00ff", "--database", db_url])
    assert nobody.exit_code == 2 and "no such app" in nobody.output
    cli_ok("keys", "rotate", "--database", db_url)  # installation-wide: the platform's trail, app "*"
    (key,) = json.loads(cli_ok("audit", "--app", "*", "--json", "--database", db_url))
    assert (key["action"], key["actor"], len(key["after"]["public_key_sha256"])) == (
        "platform_key.rotate", audit.cli_actor(), 16)


async def test_the_database_refuses_to_change_or_delete_a_row(world: World) -> None:
    a = await world.new_app("A")
    for stmt in (update(audit_log).values(actor="someone else"), delete(audit_log),
                 text("UPDATE audit_log SET after = NULL"), text("DELETE FROM audit_log WHERE 1 = 1")):
        with pytest.raises(DBAPIError, match="append-only"):
            async with world.ctx.db.tx() as conn:
                await conn.execute(stmt)
    rows = await world.trail(a["app_id"])
    assert [(r["action"], r["actor"]) for r in rows] == [("app.create", audit.SYSTEM)]
