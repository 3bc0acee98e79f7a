"""`paybutton app update --wechat-config/--alipay-config/--clear-*`: settings checked field by field, saved, shown
again only without their secrets, and what the cashier registry builds from them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from fakes.alipay_gateway import FakeAlipay
from fakes.wechat_gateway import FakeWechat
from typer.testing import CliRunner

from paybutton.apps import service as app_service
from paybutton.cashier import registry
from paybutton.cashier.alipay import AlipayCashier
from paybutton.cashier.payconfig import PaySecrets
from paybutton.cashier.sandbox import SandboxCashier
from paybutton.cashier.wechatpay import WechatPayCashier
from paybutton.cli import cli
from paybutton.config import Settings
from paybutton.db import Database

runner = CliRunner()


def cli_run(*args: str) -> tuple[int, str]:
    r = runner.invoke(cli, list(args))
    return r.exit_code, str(r.output)


def write(tmp_path: Path, name: str, data: dict[str, Any]) -> str:
    p = tmp_path / name
    p.write_text(json.dumps(data))
    return str(p)


def app_row(db_url: str, app_id: str) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        db = Database(Settings(database_url=db_url))
        try:
            async with db.engine.connect() as conn:
                return await app_service.get_app(conn, app_id)
        finally:
            await db.dispose()

    return asyncio.run(go())


def test_configure_show_masked_select_and_clear(db_url: str, tmp_path: Path) -> None:
    code, out = cli_run("app", "create", "--name", "Pay shop", "--json", "--database", db_url)
    assert code == 0, out
    app_id = json.loads(out)["app_id"]
    wx, ali = FakeWechat(base_url="http://127.0.0.1:9"), FakeAlipay(base_url="http://127.0.0.1:9")
    wcfg, acfg = wx.merchant_config(), ali.merchant_config()

    # bad input: a clear error naming the field, nothing saved
    for bad, field in (({**wcfg, "apiv3_key": "short"}, "wechat.apiv3_key"),
                       ({**wcfg, "private_key": "not a key"}, "wechat.private_key"),
                       ({k: v for k, v in wcfg.items() if k != "mchid"}, "wechat.mchid"),
                       ({**wcfg, "gateway": "ftp://x"}, "wechat.gateway"),
                       ({**wcfg, "colour": "red"}, "wechat.colour")):
        code, out = cli_run("app", "update", app_id, "--wechat-config", write(tmp_path, "bad.json", bad),
                            "--database", db_url)
        assert code == 2 and field in out, out
    code, out = cli_run("app", "update", app_id, "--alipay-config", str(tmp_path / "missing.json"),
                        "--database", db_url)
    assert code == 2 and "not a readable JSON file" in out
    assert app_row(db_url, app_id)["pay_config"] == {}

    code, out = cli_run("app", "update", app_id, "--wechat-config", write(tmp_path, "wx.json", wcfg),
                        "--alipay-config", write(tmp_path, "ali.json", acfg), "--database", db_url)
    assert code == 0, out
    code, shown = cli_run("app", "show", app_id, "--json", "--database", db_url)
    assert code == 0, shown
    for secret in (wcfg["apiv3_key"], wcfg["private_key"].splitlines()[1], acfg["app_private_key"].splitlines()[1]):
        assert secret not in shown and secret not in out
    pay = json.loads(shown)["pay_config"]
    assert pay["wechat"]["mchid"] == wx.mchid and pay["wechat"]["apiv3_key"] == f"set (…{wcfg['apiv3_key'][-4:]})"
    assert pay["alipay"]["app_private_key"].startswith("set") and pay["alipay"]["gateway"] == ali.gateway
    code, text = cli_run("app", "show", app_id, "--database", db_url)
    assert "mchid=1900000109" in text and "  wechat: " in text and wcfg["apiv3_key"] not in text

    app = app_row(db_url, app_id)
    assert isinstance(app["pay_secrets"], PaySecrets) and wcfg["apiv3_key"] not in repr(app)
    sandbox = SandboxCashier()
    w = registry.cashier_for_app(app, "wechat", sandbox, notify_base="https://pay.example")
    assert isinstance(w, WechatPayCashier) and w is registry.cashier_for_app(app, "wechat", sandbox,
                                                                            notify_base="https://pay.example")
    assert isinstance(registry.cashier_by_provider(app, "alipay", sandbox), AlipayCashier)
    assert registry.cashier_for_app(app, "douyin", sandbox) is sandbox

    # an edit that leaves a secret empty keeps the saved one
    code, out = cli_run("app", "update", app_id, "--wechat-config",
                        write(tmp_path, "wx2.json", {**wcfg, "apiv3_key": "", "mchid": "1900000110"}),
                        "--database", db_url)
    assert code == 0, out
    app2 = app_row(db_url, app_id)
    saved = app2["pay_secrets"].channel("wechat")
    assert saved["apiv3_key"] == wcfg["apiv3_key"] and saved["mchid"] == "1900000110"
    assert registry.cashier_for_app(app2, "wechat", sandbox) is not w  # changed settings, a new client

    code, out = cli_run("app", "update", app_id, "--clear-wechat", "--clear-alipay", "--database", db_url)
    assert code == 0, out
    app3 = app_row(db_url, app_id)
    assert app3["pay_config"] == {} and registry.cashier_for_app(app3, "wechat", sandbox) is sandbox
