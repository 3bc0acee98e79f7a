"""Every trade call the third-party Douyin SDK knows reaches paybutton (issue 22's first done-when line, with issue
21's settle calls: 30 of 30), on SQLite and PostgreSQL.

The list is not ours: it is read from the installed SDK (PyPI `bytedance` 1.0.0, pinned in pyproject's test extras),
its contract table `bytedance.generated.CONTRACTS` (the same as its `contracts.json`: name -> method, path, auth,
error_paths). Its two trade families are `locallife.general_ability.agency_trade_system` (代运营) and
`locallife.general_ability.self_operated_trading` (自营): 47 methods. One of them, the agency
`reservation.service_confirm`, is `POST /api/life/v1/fulfill/service_confirm/`, a life-services call outside the trade
system (not under `/trade/v2/`), so it is not counted; the other 46 name 30 distinct paths once a trailing slash is
ignored (the SDK spells several paths both ways, and the families share most of them): 30, as the issue counts.

Each of the 46 methods is called through the SDK, unchanged (`ByteDance.call(name, body=...)`, what its generated
methods call; its `api_domains` points https://open.douyin.com at the live test server, which is the app factory
`paybutton demo` serves, on a listening socket), with a small valid-looking body about one paid order. A call passes
when it reaches its handler: an answer, or a business refusal in the envelope (order not found, not allowed now…).
It fails on a route miss ("接口不存在", the NOT_FOUND error, HTTP 404), a 5xx or a transport failure."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import bytedance  # type: ignore[import-untyped]
from bytedance.generated import CONTRACTS  # type: ignore[import-untyped]
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from test_bookings import LABELS, item
from trade_world import TradeWorld

FAMILIES = ("locallife.general_ability.agency_trade_system.", "locallife.general_ability.self_operated_trading.")


def family_methods() -> dict[str, str]:
    """Every method of the two families: its name -> its path as the SDK sends it."""
    return {name: spec["path"] for name, spec in CONTRACTS.items() if name.startswith(FAMILIES)}


def trade_calls() -> dict[str, list[str]]:
    """The trade-system calls: path without its trailing slash -> the SDK methods that send it."""
    calls: dict[str, list[str]] = {}
    for name, path in sorted(family_methods().items()):
        if "/trade/v2/" in path:
            calls.setdefault(path.rstrip("/"), []).append(name)
    return calls


def bodies(order: dict[str, Any], iid: str, cert: str) -> dict[str, dict[str, Any]]:
    """A small valid-looking body per call (keyed by the path's last two segments), about one paid order."""
    oid, out = order["order_id"], order["out_order_no"]
    return {
        "order/query_order": {"order_id": oid},
        "order/query_item_order_info": {"order_id": oid},
        "order/query_cps": {"order_id": oid},
        "order/close_order": {"order_id": oid},
        "order/create_order": {"out_order_no": "COV-1", "open_id": "buyer", "total_amount": 1000,
                               "goods_list": [{"goods_id": "g", "goods_id_type": 1, "price": 1000, "quantity": 1}]},
        "refund/query_refund": {"refund_id": "no-such-refund"},
        "refund/create_refund": {"out_order_no": out, "out_refund_no": "COV-R1", "order_entry_schema": {
            "path": "pages/order"}, "item_order_detail": [{"item_order_id": iid, "refund_amount": 1}]},
        "refund/merchant_audit_callback": {"out_refund_no": "no-such-refund", "refund_audit_status": 1},
        "settle/create_settle": {"out_order_no": out, "out_settle_no": "COV-S1", "settle_desc": "结算"},
        "settle/query_settle": {"order_id": oid},
        "book/create_book": {"order_id": oid, "out_book_no": "COV-B1", "open_id": "buyer",
                             "item_book_info_list": [item("g", "2026-01-05", iid)]},
        "book/query_book": {"order_id": oid},
        "book/book_result_callback": {"book_id": "no-such-book", "result": 1, "msg": ""},
        "book/merchant_cancel_book": {"book_id": "no-such-book", "cancel_reason": "歇业"},
        "book/user_cancel_book": {"book_id": "no-such-book", "open_id": "buyer", "cancel_reason": ["x"]},
        "fulfillment/delivery_prepare": {"code": "0000000000"},
        "fulfillment/delivery_verify": {"verify_token": "no-such-token", "order_id": oid, "certificates": [
            {"encrypted_code": "x", "certificate_id": cert}]},
        "fulfillment/push_delivery": {"out_order_no": out, "item_order_list": [{"item_order_id": iid}],
                                      "poi_info": {"shop_name": "国贸店", "ext_valid_shop_id": "s1"}},
        "fulfillment/verify_cancel": {"order_id": oid, "certificate_id": cert, "verify_id": "no-such-verify"},
        "fulfillment/query_user_certificates": {"open_id": "buyer", "account_id": "x", "page": 1, "page_size": 10},
        "fulfillment/order_can_use": {"order_id": oid},
        "marketing/query_and_calculate": {"open_id": "buyer", "goods_marketing_info": [{"goods_id": "g",
                                                                                         "quantity": 1}]},
        "toolkit/query_text": {"text_type": 2},
        "toolkit/update_merchant_conf": {"bind_biz_type": 0, "account_id": "1", "delivery_app_info": {}},
        "toolkit/update_merchant_path": {"bind_biz_type": 0, "account_id": "1",
                                         "path_data_list": [{"path": "pages/a", "path_type": 1}]},
        "toolkit/button_white_setting": {"button_type": 1, "open_all": True},
        "toolkit/query_certificate_info": {"certificate_id": cert},
        "toolkit/change_lock_status": {"certificate_id": cert, "lock_status": 1},
        "toolkit/verify_local_certificates": {"certificates": [{"certificate_id": "no-such-certificate"}]},
        "toolkit/push_service_done": {"order_id": oid},
    }


def route_missed(status: int | None, payload: Any) -> bool:
    """A route miss: HTTP 404 or 5xx, no answer, or paybutton's NOT_FOUND ("接口不存在", answered in the envelope
    with HTTP 200 on the OpenAPI paths) anywhere in the answer."""
    text = json.dumps(payload, ensure_ascii=False)
    return status is None or status == 404 or status >= 500 or "接口不存在" in text or "no such route" in text


def answered(sdk: Any, name: str, body: dict[str, Any]) -> tuple[bool, str]:
    """(reached its handler, what it answered) for one SDK method."""
    try:
        got = sdk.call(name, body=body)
    except bytedance.ByteDanceError as e:
        payload = e.payload if isinstance(e.payload, dict) else {}
        return not route_missed(e.status_code, payload), f"refused: HTTP {e.status_code} code {e.code} {e}"
    # The SDK reads some calls' errors from `err_no` only (the toolkit ones): an envelope error it does not see
    # comes back as an answer, so the answer is checked too.
    data = got.get("data") or {}
    code = data.get("error_code") or got.get("extra", {}).get("error_code") or got.get("err_no") or 0
    what = f"refused: HTTP 200 code {code} {data.get('description', '')}" if code else "ok: " + ",".join(
        sorted(k for k in data if k not in ("error_code", "description")))[:60]
    return not route_missed(200, got), what


def private_pem() -> str:
    """book_result_callback is signed by the SDK (Byte-Authorization), so it needs a key; paybutton ignores it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def test_the_sdk_lists_30_trade_calls() -> None:
    calls = trade_calls()
    assert len(family_methods()) == 47 and sum(map(len, calls.values())) == 46
    assert len(calls) == 30, "\n".join(calls)
    assert [p for p in family_methods().values() if "/trade/v2/" not in p] == ["/api/life/v1/fulfill/service_confirm/"]


async def test_every_trade_call_of_the_sdk_reaches_its_handler(trade: TradeWorld, tmp_path: Path) -> None:
    await trade.add_goods("g", labels=LABELS)
    order = await trade.paid_order(quantity=2)
    first = (await trade.items(order["order_id"]))[0]
    body = bodies(order, first.item_order_id, first.certificate_id)
    sdk = bytedance.ByteDance(app_id=trade.app_id, app_secret=trade.app["secret"], access_token_type="file",
                              ac_path=str(tmp_path / "token"), api_domains={"https://open.douyin.com": trade.url},
                              private_key=private_pem(), timeout=20)

    def run() -> list[tuple[str, str, bool, str]]:
        rows = []
        for path, names in trade_calls().items():
            key = "/".join(path.split("/")[-2:])
            assert key in body, f"the SDK has a call this test has no body for: {path}"
            rows += [(path, name.removeprefix("locallife.general_ability."), *answered(sdk, name, body[key]))
                     for name in names]
        return rows

    rows = await asyncio.to_thread(run)
    sdk.close()
    table = "\n".join(f"{'ok  ' if ok else 'MISS'} {path:55} {name:75} {what}" for path, name, ok, what in rows)
    print(table)
    assert len({r[0] for r in rows}) == 30 and len(rows) == 46, table
    assert all(ok for _, _, ok, _ in rows), table


def test_docs_openapi_has_a_table_for_every_call() -> None:
    """docs/openapi.md: a section per call, headed by the call (`family/call`), that names its whole path."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "openapi.md").read_text(encoding="utf-8")
    found = re.findall(r"^### ([^\n]+)\n(.*?)(?=^##|\Z)", text, flags=re.M | re.S)
    sections = {heading.strip("` "): body for heading, body in found}
    missing = []
    for path in trade_calls():
        key = "/".join(path.split("/")[-2:])
        body = sections.get(key, sections.get(path, ""))
        if path not in body or "|" not in body:
            missing.append(path)
    assert not missing, "docs/openapi.md has no table for: " + ", ".join(missing)
