"""`paybutton app …`: the secret is masked unless --show-secret (create and --rotate-secret print the new one once);
`--origin` replaces the allowed origins, `--add-origin` adds one, `--remove-origin` removes one."""

from __future__ import annotations

import json
import re
from typing import Any

from typer.testing import CliRunner

from paybutton.cli import cli

runner = CliRunner()


def app_cmd(db_url: str, *args: str) -> Any:
    return runner.invoke(cli, ["app", *args, "--database", db_url], env={"COLUMNS": "200"})


def ok(db_url: str, *args: str) -> str:
    r = app_cmd(db_url, *args)
    assert r.exit_code == 0, r.output
    return str(r.stdout)


def test_secret_masked_unless_asked(db_url: str) -> None:
    created = json.loads(ok(db_url, "create", "--name", "Secret shop", "--json"))
    app_id, secret = created["app_id"], created["secret"]
    assert len(secret) >= 32  # app create prints the new secret once, in clear
    second = ok(db_url, "create", "--name", "Second shop")
    assert "Second shop" in second and re.search(r"secret: [0-9a-f]{32,}\n", second) and "masked" not in second

    for args in (("show", app_id), ("show", app_id, "--json"), ("list", "--json"), ("update", app_id, "--name", "S"),
                 ("update", app_id, "--name", "S", "--json")):
        out = ok(db_url, *args)
        assert secret not in out, args
        assert f"{secret[:4]}… (masked: --show-secret)" in out, args
    shown = json.loads(ok(db_url, "show", app_id, "--json"))
    assert shown["secret"] == f"{secret[:4]}… (masked: --show-secret)" and shown["name"] == "S"

    assert json.loads(ok(db_url, "show", app_id, "--json", "--show-secret"))["secret"] == secret
    assert f"secret: {secret}" in ok(db_url, "show", app_id, "--show-secret")
    listed = json.loads(ok(db_url, "list", "--json", "--show-secret"))
    assert secret in {a["secret"] for a in listed}
    assert app_id in ok(db_url, "list") and secret not in ok(db_url, "list")

    rotated = json.loads(ok(db_url, "update", app_id, "--rotate-secret", "--json"))["secret"]
    assert rotated != secret and len(rotated) == len(secret)  # the new one, once, in clear
    assert json.loads(ok(db_url, "show", app_id, "--json", "--show-secret"))["secret"] == rotated
    assert rotated not in ok(db_url, "show", app_id)


def test_help_says_what_is_shown_and_what_origin_replaces() -> None:
    create = runner.invoke(cli, ["app", "create", "--help"], env={"COLUMNS": "200"}).stdout
    assert "one time the new secret is printed in clear" in create
    update = runner.invoke(cli, ["app", "update", "--help"], env={"COLUMNS": "200"}).stdout
    assert "REPLACES the whole list" in update and "--add-origin" in update and "--remove-origin" in update
    assert "--show-secret" in runner.invoke(cli, ["app", "show", "--help"]).stdout


def origins(db_url: str, app_id: str, *args: str) -> list[str]:
    out: list[str] = json.loads(ok(db_url, "update", app_id, *args, "--json"))["allowed_origins"]
    assert json.loads(ok(db_url, "show", app_id, "--json"))["allowed_origins"] == out  # stored, not only printed
    return out


def test_add_remove_and_replace_origins(db_url: str) -> None:
    app_id = json.loads(ok(db_url, "create", "--name", "Origin shop", "--origin", "https://a.example", "--json"))[
        "app_id"]
    assert origins(db_url, app_id, "--add-origin", "https://b.example/") == ["https://a.example", "https://b.example"]
    assert origins(db_url, app_id, "--add-origin", "https://b.example") == ["https://a.example", "https://b.example"]
    assert origins(db_url, app_id, "--add-origin", "http://127.0.0.1:9000", "--add-origin", "https://c.example") == [
        "https://a.example", "https://b.example", "http://127.0.0.1:9000", "https://c.example"]
    assert origins(db_url, app_id, "--remove-origin", "https://a.example", "--remove-origin",
                   "https://c.example/") == ["https://b.example", "http://127.0.0.1:9000"]
    assert origins(db_url, app_id, "--name", "renamed") == ["https://b.example", "http://127.0.0.1:9000"]
    assert origins(db_url, app_id, "--origin", "https://d.example") == ["https://d.example"]  # replaces the list
    assert origins(db_url, app_id, "--origin", "https://e.example", "--add-origin", "https://f.example") == [
        "https://e.example", "https://f.example"]

    missing = app_cmd(db_url, "update", app_id, "--remove-origin", "https://zzz.example", "--name", "not saved")
    assert missing.exit_code == 2 and "--remove-origin https://zzz.example: not among" in missing.stderr
    bad = app_cmd(db_url, "update", app_id, "--add-origin", "shop.example", "--name", "not saved")
    assert bad.exit_code == 2 and "must look like https://shop.example" in bad.stderr
    after = json.loads(ok(db_url, "show", app_id, "--json"))
    assert after["name"] == "renamed" and after["allowed_origins"] == ["https://e.example", "https://f.example"]
    assert origins(db_url, app_id, "--remove-origin", "https://e.example", "--remove-origin",
                   "https://f.example") == []
