"""`poi_info` of delivery_verify and push_delivery (reference §16): Douyin documents it as a JSON **string**
("此字段为 json string", at most 1024 bytes) serialising `{shop_name, ext_valid_shop_id, valid_poi_id_str}`.
We take that string, and an object too (what paybutton took before). Rules, each failure INVALID_PARAMETER:

- absent, null or "" -> no poi_info;
- a string: at most 1024 UTF-8 bytes, valid JSON, and that JSON an object;
- an object: its compact JSON (UTF-8, no ASCII escapes) at most 1024 bytes;
- inside: `shop_name`, `ext_valid_shop_id`, `valid_poi_id_str` are optional strings (or null). Other keys are
  accepted and dropped, as every OpenAPI body here ignores unknown fields (Douyin adds fields over time); they
  still count towards the 1024 bytes."""

from __future__ import annotations

import json
from typing import Any

from paybutton.errors import TradeError

MAX_POI_INFO_BYTES = 1024
POI_FIELDS = ("shop_name", "ext_valid_shop_id", "valid_poi_id_str")


def _bad(why: str) -> TradeError:
    return TradeError("INVALID_PARAMETER", f"poi_info: {why}")


def parse_poi_info(value: str | dict[str, Any] | None) -> dict[str, str] | None:
    """The known fields of a valid poi_info (string or object), None when absent; TradeError otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > MAX_POI_INFO_BYTES:
            raise _bad(f"{size} bytes, at most {MAX_POI_INFO_BYTES}")
        try:
            obj = json.loads(value)
        except ValueError:
            raise _bad("not valid JSON (a JSON string serialising an object is expected)") from None
        if not isinstance(obj, dict):
            raise _bad("the JSON must be an object {shop_name, ext_valid_shop_id, valid_poi_id_str}")
    else:
        obj = value
        size = len(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))
        if size > MAX_POI_INFO_BYTES:
            raise _bad(f"{size} bytes as compact JSON, at most {MAX_POI_INFO_BYTES}")
    out: dict[str, str] = {}
    for k in POI_FIELDS:
        v = obj.get(k)
        if v is None:
            continue
        if not isinstance(v, str):
            raise _bad(f"{k} must be a string")
        out[k] = v
    return out
