"""`paybutton app update APP --rotate-secret` against a live server on the same database: the new secret is
printed; the old one, its access tokens, buyer tokens and console sessions stop working."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import httpx
from typer.testing import CliRunner

from paybutton import buyer_token
from paybutton.app import create_app
from paybutton.cli import cli
from paybutton.config import Settings

runner = CliRunner()
PASSWORD = "from the cli"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def cli_ok(*args: str) -> str:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return str(result.output)


def client_token(http: httpx.Client, app_id: str, secret: str) -> dict[str, Any]:
    r = http.post("/oauth/client_token/", json={"grant_type": "client_credential", "client_key": app_id,
                                                "client_secret": secret})
    return dict(r.json())


def openapi_ok(http: httpx.Client, token: str) -> bool:
    env = http.post("/api/apps/trade/v2/callbacks/list", json={}, headers={"access-token": token}).json()
    return bool(env["extra"]["error_code"] == 0)


def buyer_ok(http: httpx.Client, token: str) -> bool:
    r = http.post("/api/buyer/v1/orders", headers={"Authorization": f"Bearer {token}"},
                  json={"goods_id": "g", "goods_type": 1, "quantity": 1})
    return r.status_code == 200


def sign_in(http: httpx.Client, app_id: str, password: str) -> int:
    page = http.get("/console/login")
    m = CSRF.search(page.text)
    assert m
    r = http.post("/console/login", data={"app_id": app_id, "password": password, "csrf": m.group(1)})
    return r.status_code


def test_rotate_secret_prints_the_new_one_and_ends_the_old(db_url: str, live_factory: Any) -> None:
    app_id = json.loads(cli_ok("app", "create", "--name", "CLI shop", "--console-password", PASSWORD, "--json",
                               "--database", db_url))["app_id"]
    old = json.loads(cli_ok("app", "show", app_id, "--json", "--show-secret", "--database", db_url))["secret"]
    added = runner.invoke(cli, ["goods", "add", "--app", app_id, "--id", "g", "--name", "套餐", "--price", "1000",
                                "--stock", "10"], env={"PAYBUTTON_DATABASE_URL": db_url})
    assert added.exit_code == 0, added.output
    server = live_factory(create_app(Settings(database_url=db_url, run_workers=False)))
    with httpx.Client(base_url=server.url, trust_env=False, timeout=10) as http, \
            httpx.Client(base_url=server.url, trust_env=False, timeout=10) as console:
        token = client_token(http, app_id, old)["data"]["access_token"]
        old_buyer = buyer_token.mint(app_id, old, "u1")
        assert openapi_ok(http, token) and buyer_ok(http, old_buyer)
        assert sign_in(console, app_id, PASSWORD) == 303
        assert console.get("/console").status_code == 200

        out = cli_ok("app", "update", app_id, "--rotate-secret", "--database", db_url)
        new = re.search(r"secret: ([0-9a-f]+)", out)
        assert new and new.group(1) != old and "secret rotated" in out
        assert json.loads(cli_ok("app", "show", app_id, "--json", "--show-secret", "--database", db_url))["secret"] == \
            new.group(1)

        assert client_token(http, app_id, old)["extra"]["error_code"] != 0
        assert not openapi_ok(http, token)
        assert console.get("/console").status_code == 303  # the console session ended
        assert sign_in(console, app_id, old) == 401
        deadline = time.time() + 6  # the server's app cache refreshes within a few seconds
        while buyer_ok(http, old_buyer):
            assert time.time() < deadline, "the old buyer token is still accepted"
            time.sleep(0.3)
        assert buyer_ok(http, buyer_token.mint(app_id, new.group(1), "u1"))
        assert openapi_ok(http, client_token(http, app_id, new.group(1))["data"]["access_token"])
        assert sign_in(console, app_id, new.group(1)) == 303
        as_json = json.loads(cli_ok("app", "update", app_id, "--rotate-secret", "--json", "--database", db_url))
        assert as_json["secret"] not in (old, new.group(1))
