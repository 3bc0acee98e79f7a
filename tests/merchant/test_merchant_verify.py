"""paybutton.merchant without a server: callback verification against the server's own signer, the answers
(checked by the server's own parser), buyer tokens (checked by the server's verifier), import isolation."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import pytest

from paybutton import buyer_token
from paybutton.callbacks.body import build_body, identify_name
from paybutton.kernel.signing import Signer, generate_key_pair
from paybutton.merchant import (
    CallbackVerificationError,
    ack,
    answer,
    answer_json,
    entry_schema,
    load_public_key,
    mint_buyer_token,
    pre_create_order_answer,
    pre_create_refund_answer,
    refuse,
    verify_callback,
)
from paybutton.order.rules import parse_pre_order_answer

PRIVATE, PUBLIC = generate_key_pair()
SIGNER = Signer(PRIVATE)
NOW = 1_795_000_000
MSG = {"app_id": "tt01", "order_id": "ot1", "out_order_no": "M1", "status": "SUCCESS", "total_amount": 16800,
       "remark": "双人火锅"}


def signed(kind: str = "payment", msg: dict[str, Any] | None = None, ts: int = NOW) -> tuple[bytes, dict[str, str]]:
    """A callback exactly as the server's dispatcher builds and signs it."""
    body = build_body(kind, MSG if msg is None else msg)
    return body, SIGNER.sign(body, ts).as_headers(identify_name(kind), "20261125000000ABCDEF012345")


def reason(body: bytes, headers: dict[str, str], key: Any = PUBLIC, **kw: Any) -> str:
    with pytest.raises(CallbackVerificationError) as e:
        verify_callback(body, headers, key, now=NOW, **kw)
    return e.value.reason


def test_accepts_a_callback_signed_by_the_server() -> None:
    body, headers = signed()
    cb = verify_callback(body, headers, PUBLIC, now=NOW)
    assert (cb.type, cb.version, cb.msg) == ("payment", "2.0", MSG)
    assert cb.logid == "20261125000000ABCDEF012345"
    assert cb.identify_name == "/order/payment_notify_url"
    assert cb.timestamp == NOW and cb.raw_body == body
    # header names in any case; the key as PEM str, PEM bytes or loaded once
    for h in ({k.lower(): v for k, v in headers.items()}, {k.upper(): v for k, v in headers.items()}):
        for key in (PUBLIC, PUBLIC.encode(), load_public_key(PUBLIC)):
            assert verify_callback(body, h, key, now=NOW).msg == MSG


def test_rejects_a_changed_body() -> None:
    body, headers = signed()
    assert reason(body.replace(b"16800", b"16801"), headers) == "bad_signature"
    assert reason(body + b" ", headers) == "bad_signature"
    # a re-serialisation of the same JSON is not the signed bytes either
    assert reason(json.dumps(json.loads(body)).encode(), headers) == "bad_signature"


def test_rejects_a_wrong_key_and_changed_headers() -> None:
    body, headers = signed()
    _, other_public = generate_key_pair()
    assert reason(body, headers, other_public) == "bad_signature"
    assert reason(body, {**headers, "Byte-Nonce-Str": "0" * 32}) == "bad_signature"
    assert reason(body, {**headers, "Byte-Signature": "not base64!"}) == "bad_signature"
    assert reason(body, {**headers, "Byte-Signature": headers["Byte-Signature"][:-8] + "AAAAAAA="}) == "bad_signature"


def test_rejects_a_timestamp_outside_the_tolerance() -> None:
    for ts, why in ((NOW - 301, "stale_timestamp"), (NOW + 301, "future_timestamp"),
                    (NOW - 86400, "stale_timestamp"), (NOW + 3600, "future_timestamp")):
        body, headers = signed(ts=ts)
        assert reason(body, headers) == why, ts
    for ts in (NOW - 300, NOW + 300, NOW):  # the edges are inside
        body, headers = signed(ts=ts)
        assert verify_callback(body, headers, PUBLIC, now=NOW).type == "payment"
    body, headers = signed(ts=NOW - 60)
    assert reason(body, headers, tolerance_seconds=30) == "stale_timestamp"
    # a timestamp changed to look fresh breaks the signature
    body, headers = signed(ts=NOW - 1000)
    assert reason(body, {**headers, "Byte-Timestamp": str(NOW)}) == "bad_signature"
    # the default `now` is the current time
    body, headers = signed(ts=int(time.time()))
    assert verify_callback(body, headers, PUBLIC).type == "payment"
    with pytest.raises(CallbackVerificationError, match="stale_timestamp"):
        verify_callback(*signed(ts=int(time.time()) - 400), PUBLIC)


def test_rejects_missing_or_malformed_headers() -> None:
    body, headers = signed()
    for name in ("Byte-Timestamp", "Byte-Nonce-Str", "Byte-Signature"):
        without = {k: v for k, v in headers.items() if k != name}
        assert reason(body, without) == "missing_header", name
        assert reason(body, {**headers, name: ""}) == "missing_header", name
    assert reason(body, {**headers, "Byte-Timestamp": "17950000OO"}) == "bad_timestamp"
    assert reason(body, {**headers, "Byte-Timestamp": "-1795000000"}) == "bad_timestamp"
    # Byte-Logid and Byte-Identifyname are not signed and not required
    bare = {k: v for k, v in headers.items() if k not in ("Byte-Logid", "Byte-Identifyname")}
    assert verify_callback(body, bare, PUBLIC, now=NOW).logid == ""


def test_rejects_a_genuinely_signed_but_malformed_body() -> None:
    for raw in (b"not json", b"[1,2]", b'{"type":"payment","msg":{"a":1}}', b'{"type":"payment","msg":"[1]"}',
                b'{"msg":"{}"}', b'{"type":"payment","msg":"{"}', b"\xff\xfe"):
        headers = SIGNER.sign(raw, NOW).as_headers("/x", "L")
        assert reason(raw, headers) == "malformed_body", raw


def test_the_error_names_its_reason() -> None:
    body, headers = signed()
    with pytest.raises(CallbackVerificationError) as e:
        verify_callback(body + b"x", headers, PUBLIC, now=NOW)
    assert str(e.value).startswith("bad_signature: ")
    assert isinstance(e.value, ValueError)


def test_answers() -> None:
    assert answer() == {"err_no": 0, "err_tips": "success", "data": {}}
    assert ack() == answer()
    assert json.loads(answer_json({"x": "好"})) == {"err_no": 0, "err_tips": "success", "data": {"x": "好"}}
    assert refuse(21518, "sold out") == {"err_no": 21518, "err_tips": "sold out", "data": {}}
    with pytest.raises(ValueError):
        refuse(0)
    schema = entry_schema("pages/orderDetail/orderDetail", {"orderId": "ot1"})
    assert schema == {"path": "pages/orderDetail/orderDetail", "params": '{"orderId":"ot1"}'}
    for bad_path in ("", "/pages/x", "pages/x?a=1"):
        with pytest.raises(ValueError):
            entry_schema(bad_path)
    with pytest.raises(ValueError):
        entry_schema("pages/x", {"a": "x" * 600})
    a = pre_create_order_answer("M-1", order_entry_schema=schema, pay_expire_seconds=600)
    assert a["err_no"] == 0
    # what the server's own parser of pre_create_order answers makes of it
    assert parse_pre_order_answer(a["data"]) == {"out_order_no": "M-1", "pay_expire_seconds": 600,
                                                 "order_entry_schema": schema}
    for bad in ("", "号" * 22):  # 66 bytes
        with pytest.raises(ValueError):
            pre_create_order_answer(bad)
    with pytest.raises(ValueError):
        pre_create_order_answer("M-2", pay_expire_seconds=48 * 3600 + 1)
    r = pre_create_refund_answer("R-1", notify_url="https://shop.example/refund")
    assert r["data"] == {"out_refund_no": "R-1", "notify_url": "https://shop.example/refund"}
    with pytest.raises(ValueError):
        pre_create_refund_answer("R" * 65)


def test_buyer_tokens_are_accepted_by_the_server_verifier() -> None:
    token = mint_buyer_token("tt0a1b", "s3cret", "user-1", ttl_seconds=60, now=NOW)
    assert buyer_token.verify(token, "s3cret", now=NOW + 59) == ("tt0a1b", "user-1")
    assert buyer_token.verify(token, "s3cret", now=NOW + 61) is None
    assert buyer_token.verify(token, "other", now=NOW) is None
    assert buyer_token.peek_app(token) == "tt0a1b"
    for bad in ("", "x" * 129):
        with pytest.raises(ValueError):
            mint_buyer_token("tt0a1b", "s3cret", bad)
    with pytest.raises(ValueError):
        mint_buyer_token("tt0a1b", "s3cret", "user-1", ttl_seconds=0)


def test_importable_without_the_server_dependencies() -> None:
    code = (
        "import sys, paybutton.merchant as m\n"
        "assert m.verify_callback and m.OpenAPIClient\n"
        "server = {'fastapi', 'sqlalchemy', 'aiohttp', 'starlette', 'asyncpg', 'aiosqlite', 'uvicorn', 'pydantic',"
        " 'httpx', 'paybutton.callbacks', 'paybutton.app'}\n"
        "loaded = sorted(server & set(sys.modules))\n"
        "assert not loaded, loaded\n"
        "print('isolated')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "isolated"


def test_no_marketing_answer_passes_the_servers_strict_checks() -> None:
    """The library's "nothing on offer" answers are accepted by paybutton's own marketing validation, with no
    offer and a zero discount, for all three marketing extension points."""
    import pytest

    from paybutton.marketing import rules
    from paybutton.marketing.service import _parse_combined
    from paybutton.merchant import no_marketing_answer

    line = rules.Line(goods_id="g-1", goods_id_type=1, quantity=3, price=1999)
    q = no_marketing_answer("query_marketing_info", rules.query_msg("tt1", "u", line))
    assert q["err_no"] == 0 and rules.parse_offers(q["data"], line) == []
    c = no_marketing_answer("calculate_price", rules.calculate_msg("tt1", "u", line, []))
    assert rules.parse_calculation(c["data"], line, set()).discount == 0
    both = no_marketing_answer("query_and_calculate", rules.query_and_calculate_msg("tt1", "u", line, None))
    parsed = _parse_combined(both["data"], line, None)
    assert parsed["offers"] == [] and parsed["pricing"].discount == 0
    with pytest.raises(ValueError):
        no_marketing_answer("payment", {})


def test_a_huge_timestamp_is_a_bad_timestamp_not_a_crash() -> None:
    """int() of a several-thousand-digit header raises a plain ValueError in Python; the library must answer with
    its own error so a merchant's except clause catches it (it crashed the examples with a 500)."""
    body, headers = signed()
    for ts in ("9" * 5000, "1" * 13):
        assert reason(body, {**headers, "Byte-Timestamp": ts}) == "bad_timestamp"


def test_several_keys_during_a_rotation() -> None:
    """During a platform key rotation the merchant passes the old and the new key: either one verifies, a third
    key does not, and a malformed body is still reported as such."""
    body, headers = signed()
    _, new_public = generate_key_pair()
    _, stranger = generate_key_pair()
    assert verify_callback(body, headers, [new_public, PUBLIC], now=NOW).type == "payment"
    assert verify_callback(body, headers, (PUBLIC, load_public_key(new_public)), now=NOW).type == "payment"
    assert reason(body, headers, [new_public, stranger]) == "bad_signature"
    raw = b"not json"
    bad_headers = SIGNER.sign(raw, NOW).as_headers("/x", "L")
    assert reason(raw, bad_headers, [stranger, PUBLIC]) == "malformed_body"
    with pytest.raises(ValueError):
        verify_callback(body, headers, [], now=NOW)
