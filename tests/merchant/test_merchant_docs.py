"""docs/merchant-library.md's code is real: the plain recipe is the one examples/verify_callback.py runs, and
both the script and the paybutton.merchant snippet verify a callback captured from `paybutton demo`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from merchant_stub import MerchantStub
from merchant_world import ROOT, Platform

from paybutton.merchant import OpenAPIClient, mint_buyer_token

DOC = (ROOT / "docs" / "merchant-library.md").read_text(encoding="utf-8")
SCRIPT = ROOT / "examples" / "verify_callback.py"


def block_after(marker: str) -> str:
    m = re.search(re.escape(marker) + r".*?\n```python\n(.*?)```", DOC, re.S)
    assert m, f"no python block after {marker!r} in docs/merchant-library.md"
    return m.group(1)


@pytest.fixture
def captured(platform: Platform, live_factory: Any) -> tuple[bytes, dict[str, str]]:
    """A real pre_create_order callback from the demo server: raw body and headers as the merchant got them."""
    stub = MerchantStub()
    srv = live_factory(stub.asgi())
    app = platform.cli("app", "create", "--name", "docs shop", "--pre-order-url", f"{srv.url}/pre_create_order")
    stub.public_pem = app["platform_public_key"]
    with OpenAPIClient(platform.url, app["app_id"], app["secret"]) as client:
        client.goods_create({"goods_id": "tea", "name": "Tea", "price": 500, "stock": 3})
    token = mint_buyer_token(app["app_id"], app["secret"], "docs-buyer")
    r = httpx.post(f"{platform.url}/api/buyer/v1/orders", headers={"Authorization": f"Bearer {token}"},
                   json={"goods_id": "tea", "goods_type": 1, "quantity": 1}, timeout=30)
    assert r.status_code == 200, r.text
    [rec] = stub.of_type("pre_create_order")
    assert rec.signature_ok  # the stub's own, independent check
    return rec.raw, rec.headers


def test_the_recipe_in_the_doc_is_the_tested_script() -> None:
    block = block_after("<!-- recipe:")
    script = SCRIPT.read_text(encoding="utf-8")
    imports, _, functions = block.partition("\n\n\ndef ")
    assert ("def " + functions) in script
    script_lines = set(script.splitlines())
    for line in imports.splitlines():
        assert not line or line in script_lines, line


def test_verify_script_on_a_live_callback(platform: Platform, captured: tuple[bytes, dict[str, str]],
                                          tmp_path: Path) -> None:
    raw, headers = captured

    def run(body: bytes, hdrs: dict[str, str]) -> subprocess.CompletedProcess[str]:
        (tmp_path / "body.bin").write_bytes(body)
        (tmp_path / "headers.json").write_text(json.dumps(hdrs))
        return subprocess.run([sys.executable, str(SCRIPT), "--platform-url", platform.url,
                               str(tmp_path / "body.bin"), str(tmp_path / "headers.json")],
                              capture_output=True, text=True, timeout=60)

    ok = run(raw, headers)
    assert (ok.returncode, ok.stdout.strip()) == (0, "genuine"), ok.stderr
    tampered = raw.replace(b"docs-buyer", b"docs-buyes")
    assert tampered != raw
    changed = run(tampered, headers)
    assert changed.returncode == 1 and "Byte-Signature does not match" in changed.stdout
    old = run(raw, {**headers, "byte-timestamp": str(int(headers["byte-timestamp"]) - 3600)})
    assert old.returncode == 1 and "is not within 300 s" in old.stdout
    missing = run(raw, {k: v for k, v in headers.items() if k != "byte-nonce-str"})
    assert missing.returncode == 1 and "missing" in missing.stdout


def test_library_snippet_on_a_live_callback(platform: Platform, captured: tuple[bytes, dict[str, str]],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    raw, headers = captured
    namespace: dict[str, Any] = {"PLATFORM_URL": platform.url, "raw_body": raw, "headers": headers}
    exec(block_after("<!-- snippet:"), namespace)
    cb = namespace["cb"]
    assert cb.type == "pre_create_order" and cb.msg["goods"][0]["goods_id"] == "tea"
    assert capsys.readouterr().out.startswith(f"pre_create_order {headers['byte-logid']} ot")
