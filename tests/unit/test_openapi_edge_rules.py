"""/openapi.json states the edge's rules by name (api/schema.py): the control-character patterns of
inputs.NAME_KEYS / TEXT_KEYS on request properties and query parameters, ids on the notify routes' path."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from paybutton import inputs
from paybutton.app import create_app
from paybutton.config import Settings


def _spec(tmp_path: Path) -> dict[str, Any]:
    spec: dict[str, Any] = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db",
                                               run_workers=False)).openapi()
    return spec


def test_the_refund_note_carries_the_edges_multiline_rule(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    body = spec["paths"]["/api/buyer/v1/orders/{order_ref}/refunds"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    note = spec["components"]["schemas"][ref]["properties"]["note"]
    assert note["pattern"] == inputs.TEXT_PATTERN
    assert re.match(note["pattern"], "line 1\r\n\tline 2") and not re.match(note["pattern"], "bell \x07")
    name = re.compile(inputs.NAME_PATTERN)
    assert not name.match("a\tb") and not name.match("a\u2028b") and name.match("烤肉 套餐")


def test_every_named_request_string_has_a_pattern(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    keys = inputs.NAME_KEYS | inputs.TEXT_KEYS
    seen: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, sub in (node.get("properties") or {}).items():
                for s in [sub, *sub.get("anyOf", [])]:
                    if key in keys and s.get("type") == "string":
                        seen.append(key)
                        assert "pattern" in s, key
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    schemas = spec["components"]["schemas"]
    for ops in spec["paths"].values():
        for op in ops.values():
            refs = re.findall(r"#/components/schemas/(\w+)", str(op.get("requestBody")))
            for name in refs:
                walk(schemas[name])
            for p in op.get("parameters", []):
                if p["in"] == "query" and p["name"] in keys and p["schema"].get("type") == "string":
                    assert "pattern" in p["schema"], p["name"]
    assert "note" in seen and "reason" in seen


def test_the_notify_routes_path_segments_are_ids(tmp_path: Path) -> None:
    params = _spec(tmp_path)["paths"]["/pay/notify/{provider}/{app_id}"]["post"]["parameters"]
    assert {p["name"]: p["schema"]["pattern"] for p in params} == {
        "provider": inputs.PATH_ID_PATTERN, "app_id": inputs.PATH_ID_PATTERN}
