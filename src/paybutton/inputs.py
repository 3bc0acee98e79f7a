"""What input the server accepts at all, before any route looks at it: the one guard at the edge.

Pure and standard library only (the buyer-token code, which merchants run without the server, uses it too).
Every string that enters -- JSON bodies, query strings, path parameters, form fields, token claims, stored
headers -- is checked here once for NUL and lone surrogates (PostgreSQL cannot store NUL; no database can
encode a lone surrogate as UTF-8). Every integer must fit the database's BIGINT. Ids have the maximum length
of their column (tables.py); display text (names, notes) holds no control characters. A breach raises
Refused, which the edge (kernel/guard.py) answers as INVALID_PARAMETER in the route's own envelope.

docs/integration-guide.md lists these limits ("Input limits")."""

from __future__ import annotations

import json
import math
import re
from typing import Any

BIGINT_MIN = -(2**63)
BIGINT_MAX = 2**63 - 1
MAX_OFFSET = 1_000_000  # offset paging deeper than this is refused: page with the cursor instead
MAX_DEPTH = 32  # JSON nesting

# The maximum length of every id the API takes, from its column in tables.py.
ID_LIMITS: dict[str, int] = {
    "app_id": 32,
    "client_key": 32,
    "order_id": 32,
    "item_order_id": 32,
    "refund_id": 32,
    "certificate_id": 32,
    "verify_id": 32,
    "payment_id": 32,
    "goods_id": 64,
    "out_order_no": 64,
    "out_refund_no": 64,
    "open_id": 128,
    "client_secret": 128,
}
# What an id in a URL path looks like (order_id, out_order_no, refund_id, goods_id, app_id): documented in
# /openapi.json as the path parameters' pattern.
PATH_ID_PATTERN = r"^[A-Za-z0-9_.|*@-]{1,64}$"
# Single-line display text: no control character at all (tab and newline included).
NAME_KEYS = frozenset({"name", "contact_name", "goods_name", "merchant_name", "title", "date_rule", "reason",
                       "phone_num", "search"})
# Multi-line display text: tab, newline and carriage return are allowed, other controls are not.
TEXT_KEYS = frozenset({"note", "description", "refund_description", "deny_message", "message"})

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL_CLASS = "\x00-\x1f\x7f-\x9f\u2028\u2029"
_CONTROL_MULTILINE_CLASS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_CONTROL = re.compile(f"[{_CONTROL_CLASS}]")
_CONTROL_MULTILINE = re.compile(f"[{_CONTROL_MULTILINE_CLASS}]")
# The same two rules as JSON Schema patterns: /openapi.json puts them on every property and query parameter named
# in NAME_KEYS / TEXT_KEYS (api/schema.py), so the schema says what the edge refuses.
NAME_PATTERN = f"^[^{_CONTROL_CLASS}]*$"
TEXT_PATTERN = f"^[^{_CONTROL_MULTILINE_CLASS}]*$"


class Refused(ValueError):
    """Input the server refuses; the message names where and why."""


def bad_text(s: str) -> str | None:
    """Why a string cannot enter (NUL, lone surrogate), or None."""
    if "\x00" in s:
        return "contains a NUL character"
    if _LONE_SURROGATE.search(s):
        return "contains a lone surrogate (not valid Unicode)"
    return None


def check_text(s: str, where: str) -> str:
    why = bad_text(s)
    if why:
        raise Refused(f"{where}: {why}")
    return s


def check_int(n: int, where: str) -> int:
    if not BIGINT_MIN <= n <= BIGINT_MAX:
        raise Refused(f"{where}: integer out of range (-2^63..2^63-1)")
    if where.rsplit(".", 1)[-1] == "offset" and not 0 <= n <= MAX_OFFSET:
        raise Refused(f"{where}: offset must be 0..{MAX_OFFSET}")
    return n


def check_field(key: str, s: str, where: str, ids: bool = True) -> None:
    """The rules that depend on what a string is: id lengths (unless `ids` is false) and display text."""
    limit = ID_LIMITS.get(key) if ids else None
    if limit is not None and len(s) > limit:
        raise Refused(f"{where}: longer than {limit} characters")
    if key in NAME_KEYS and _CONTROL.search(s):
        raise Refused(f"{where}: control characters are not allowed")
    if key in TEXT_KEYS and _CONTROL_MULTILINE.search(s):
        raise Refused(f"{where}: control characters are not allowed")


def check_tree(value: Any, where: str = "body", key: str = "", depth: int = 0) -> None:
    """Walk a parsed JSON value once; raise Refused at the first breach."""
    if isinstance(value, str):
        check_text(value, where)
        if key:
            check_field(key, value, where)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        check_int(value, where)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise Refused(f"{where}: number out of range")
    elif isinstance(value, dict):
        if depth >= MAX_DEPTH:
            raise Refused(f"{where}: nested deeper than {MAX_DEPTH}")
        for k, v in value.items():
            check_text(k, where)
            check_tree(v, f"{where}.{k}" if where != "body" else k, k, depth + 1)
    elif isinstance(value, list):
        if depth >= MAX_DEPTH:
            raise Refused(f"{where}: nested deeper than {MAX_DEPTH}")
        for i, v in enumerate(value):
            check_tree(v, f"{where}[{i}]", key, depth + 1)


def _no_constant(name: str) -> Any:
    raise Refused(f"body: {name} is not JSON")


def loads(raw: bytes | str) -> Any:
    """Parse a JSON body and check everything in it (one parse, one walk). ValueError when it is not JSON."""
    return loads_normalised(raw)[0]


def loads_normalised(raw: bytes | str) -> tuple[Any, bool]:
    """loads, plus whether a number was normalised: JSON (and JSON Schema) do not tell 2.0 from 2, so an
    integral number written with a fraction or exponent is read as the integer (2.0 -> 2, 1e3 -> 1000)."""
    changed = False

    def number(text: str) -> float | int:
        nonlocal changed
        f = float(text)
        if f.is_integer() and BIGINT_MIN <= int(f) <= BIGINT_MAX:
            changed = True
            return int(f)
        return f

    try:
        value = json.loads(raw, parse_constant=_no_constant, parse_float=number)
    except RecursionError:
        raise Refused(f"body: nested deeper than {MAX_DEPTH}") from None
    check_tree(value)
    return value, changed


def check_pairs(pairs: list[tuple[str, str]], where: str, ids: bool = True) -> None:
    """Query strings and form fields: each name and value, with the same field rules as JSON (the console's
    forms answer an unknown id themselves, so they pass ids=False)."""
    for k, v in pairs:
        check_text(k, where)
        check_text(v, f"{where} {k}")
        check_field(k, v, f"{where} {k}", ids)
