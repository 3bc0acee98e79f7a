"""`paybutton callbacks test|list|show|replay` against a live server (dispatcher running) on the same database,
with a real HTTP merchant that checks every signature."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from merchant_stub import MerchantStub, ok, refuse
from typer.testing import CliRunner

from paybutton.app import create_app
from paybutton.apps import service as app_service
from paybutton.cli import cli
from paybutton.clock import SystemClock
from paybutton.config import Settings
from paybutton.db import Database

runner = CliRunner()


def run(db_url: str, *args: str) -> Any:
    return runner.invoke(cli, ["callbacks", *args, "--database", db_url])


def run_json(db_url: str, *args: str) -> Any:
    result = run(db_url, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def shop(db_url: str, live_factory: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, MerchantStub]:
    """(database URL, app id, merchant stub): the app's payment and refund URLs point at the stub, and a
    paybutton server with its dispatcher runs on the same database."""
    monkeypatch.setenv("COLUMNS", "200")
    server = create_app(Settings(database_url=db_url, dispatch_interval_seconds=0.05, callback_timeout_seconds=3))
    live_factory(server)
    stub = MerchantStub(public_pem=server.state.ctx.signer.public_pem)
    base = live_factory(stub.asgi()).url

    async def make() -> str:
        db = Database(Settings(database_url=db_url))
        try:
            async with db.tx() as conn:
                a = await app_service.create_app(conn, SystemClock(), name="CLI shop", payment_notify_url=f"{base}/pay",
                                                 refund_url=f"{base}/refund")
            return str(a["app_id"])
        finally:
            await db.dispose()

    return db_url, asyncio.run(make()), stub


def test_test_callback_delivered_listed_shown_and_not_replayed(shop: tuple[str, str, MerchantStub]) -> None:
    db_url, app_id, stub = shop
    c = run_json(db_url, "test", "--app", app_id, "--kind", "payment", "--wait", "10")
    assert (c["type"], c["status"], c["attempts"]) == ("test", "DONE", 1) and c["url"].endswith("/pay")
    [rec] = stub.of_type("test")
    assert rec.signature_ok and rec.path == "/pay"
    assert rec.msg["app_id"] == app_id and rec.msg["target"] == "payment"
    assert c["attempt_log"][0]["logid"] == rec.headers["byte-logid"]

    listed = run(db_url, "list", "--app", app_id)
    assert listed.exit_code == 0, listed.output
    header, line = listed.stdout.splitlines()
    for column in ("id", "type", "order/refund", "status", "tries", "next try", "last answer"):
        assert column in header
    assert line.split()[:5] == [str(c["id"]), "test", "-", "DONE", "1/1"]
    assert '{"err_no":0' in line.replace(" ", "")
    page = run_json(db_url, "list", "--app", app_id, "--type", "test", "--status", "DONE")
    assert [r["id"] for r in page["callback_list"]] == [c["id"]] and page["has_more"] is False
    assert run_json(db_url, "list", "--app", app_id, "--status", "DEAD")["callback_list"] == []

    shown = run(db_url, "show", str(c["id"]), "--app", app_id)
    assert shown.exit_code == 0, shown.output
    assert "attempt 1:" in shown.stdout and "HTTP 200" in shown.stdout and '"type":"test"' in shown.stdout
    assert run_json(db_url, "show", str(c["id"]), "--app", app_id)["body"] == rec.raw.decode()

    tries = run_json(db_url, "attempts", "--app", app_id, "--outbox")
    assert [(t["callback_id"], t["type"], t["ok"], t["http_status"]) for t in tries["attempt_list"]] == [
        (c["id"], "test", True, 200)]
    assert run_json(db_url, "attempts", "--app", app_id, "--sync")["attempt_list"] == []
    assert run_json(db_url, "attempts", "--app", app_id, "--failed")["attempt_list"] == []
    human = run(db_url, "attempts", "--app", app_id)
    assert human.exit_code == 0 and f"#{c['id']}" in human.stdout and "HTTP 200" in human.stdout

    refused = run(db_url, "replay", str(c["id"]), "--app", app_id)
    assert refused.exit_code == 2
    assert "only a dead callback" in refused.stderr and "DONE" in refused.stderr
    assert len(stub.of_type("test")) == 1

    for cid, app in ((str(2**64), app_id), ("0", app_id)):
        other = run(db_url, "show", cid, "--app", app)
        assert other.exit_code == 2 and "no such callback" in other.stderr, other.output
    no_app = run(db_url, "show", str(c["id"]), "--app", "tt0000000000000000")  # an app that does not exist
    assert no_app.exit_code == 2 and "no such app: tt0000000000000000" in no_app.stderr, no_app.output
    bad_cursor = run(db_url, "list", "--app", app_id, "--cursor", str(2**64))
    assert bad_cursor.exit_code == 2 and "cursor" in bad_cursor.stderr


def test_failed_test_callback_exits_1_and_replays_when_fixed(shop: tuple[str, str, MerchantStub]) -> None:
    db_url, app_id, stub = shop
    stub.answers["test"] = lambda rec: refuse(40001, "signature check failed")
    failed = run(db_url, "test", "--app", app_id, "--kind", "refund", "--wait", "10")
    assert failed.exit_code == 1, failed.output
    assert "failed: err_no 40001" in failed.stdout and "/refund" in failed.stdout
    cid = run_json(db_url, "list", "--app", app_id, "--status", "DEAD")["callback_list"][0]["id"]

    stub.answers["test"] = lambda rec: ok({"checked": True})
    replayed = run(db_url, "replay", str(cid), "--app", app_id)
    assert replayed.exit_code == 0, replayed.output
    assert f"callback {cid} queued again" in replayed.stdout
    for _ in range(100):
        shown = run_json(db_url, "show", str(cid), "--app", app_id)
        if shown["status"] == "DONE":
            break
        time.sleep(0.05)
    assert (shown["status"], shown["attempts"], shown["answer_data"]) == ("DONE", 1, {"checked": True})
    assert [a["ok"] for a in shown["attempt_log"]] == [False, True]
    assert [r.signature_ok for r in stub.of_type("test")] == [True, True]

    missing = run(db_url, "test", "--app", app_id, "--kind", "marketing", "--wait", "0")
    assert missing.exit_code == 2 and "marketing_url" in missing.stderr
    no_settle_url = run(db_url, "test", "--app", app_id, "--kind", "settle", "--wait", "0")  # a kind since issue 21
    assert no_settle_url.exit_code == 2 and "settle_url" in no_settle_url.stderr
    unknown = run(db_url, "test", "--app", app_id, "--kind", "shipping", "--wait", "0")
    assert unknown.exit_code == 2 and "kind must be one of" in unknown.stderr
