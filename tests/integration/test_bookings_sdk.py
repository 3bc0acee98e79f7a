"""The third-party PyPI `bytedance` SDK (pinned in pyproject's test extras), unchanged, pointed at paybutton by its
own `api_domains` setting, drives the reservation and fulfilment-tool calls of its self-operated family on SQLite and
PostgreSQL: its client token from /oauth/client_token/, its paths (trailing slashes), its error reading. The SDK
signs book_result_callback (RSA, `Byte-Authorization`); paybutton takes the access-token and ignores the signature."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from bytedance import ByteDance, ByteDanceError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from test_bookings import LABELS, at, item
from trade_world import TradeWorld


def sdk_for(trade: TradeWorld, tmp_path: Path) -> ByteDance:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return ByteDance(app_id=trade.app_id, app_secret=trade.app["secret"],
                     api_domains={"https://open.douyin.com": trade.url}, access_token_type="file",
                     ac_path=str(tmp_path / "token"), private_key=pem, timeout=20)


async def test_the_sdk_reaches_every_call(trade: TradeWorld, tmp_path: Path) -> None:
    await trade.add_goods("g", labels=LABELS)
    order = await trade.paid_order(quantity=2)
    a, b = await trade.items(order["order_id"])
    sdk = sdk_for(trade, tmp_path)
    ga = sdk.locallife.general_ability.self_operated_trading
    book, tool = ga.book, ga.write_off.fulfill_tool

    def run() -> dict[str, Any]:
        made = book.create_book_order(body={"order_id": order["order_id"], "out_book_no": "S1", "open_id": "buyer",
                                            "item_book_info_list": [item("g", "2026-01-05", a.item_order_id)]})
        bid = made.data.book_id
        out: dict[str, Any] = {"made": made.data.status}
        out["result"] = book.book_result_callback(body={"book_id": bid, "result": 1, "msg": ""}).data.status
        out["query"] = book.query_book(body={"order_id": order["order_id"]}).data.book_info_list[0].status
        with pytest.raises(ByteDanceError) as refused:
            book.user_cancel_book(body={"book_id": bid, "open_id": "nobody", "cancel_reason": ["x"]})
        out["refused"] = refused.value.code
        mine = book.user_cancel_book(body={"book_id": bid, "open_id": "buyer", "cancel_reason": ["x"]})
        out["user"] = mine.data.status
        again = book.create_book_order(body={"order_id": order["order_id"], "out_book_no": "S2", "open_id": "buyer",
                                             "item_book_info_list": [item("g", "2026-01-06", a.item_order_id)]})
        out["merchant"] = book.merchant_cancel_book(body={"book_id": again.data.book_id,
                                                          "cancel_reason": "歇业"}).data.status
        certs = tool.query_user_certificates(body={"open_id": "buyer", "account_id": "x", "page": 1, "page_size": 10})
        out["mine"] = certs.data.total
        out["can_use"] = tool.order_can_use(body={"order_id": order["order_id"]}).data.can_use
        out["info"] = tool.native_coupon_query(body={"certificate_id": b.certificate_id}).data.certificate.status
        out["lock"] = tool.lock_unlock_simplified(body={"certificate_id": b.certificate_id,
                                                        "lock_status": 1}).data.lock_status
        locked = tool.coupon_redemption(body={"certificates": [{"certificate_id": b.certificate_id}]})
        out["locked_verify"] = locked.data.verify_results[0].result_code
        tool.lock_unlock_simplified(body={"certificate_id": b.certificate_id, "lock_status": 0})
        done = tool.coupon_redemption(body={"certificates": [{"certificate_id": b.certificate_id}]})
        out["verify"] = done.data.verify_results[0].result_code
        out["done"] = list(tool.toolkit_push_service_done(body={"order_id": order["order_id"]}).data.item_order_id_list)
        # the toolkit calls' errors: the SDK reads a top-level err_no there, which every toolkit/ refusal carries
        with pytest.raises(ByteDanceError) as toolkit_refused:
            tool.lock_unlock_simplified(body={"certificate_id": b.certificate_id, "lock_status": 1})
        out["toolkit_refusal"] = toolkit_refused.value.code
        return out

    got = await asyncio.to_thread(run)
    sdk.close()
    assert got == {"made": "BOOKING", "result": "SUCCESS", "query": "SUCCESS", "refused": 2191003, "user": "CANCEL",
                   "merchant": "CANCEL", "mine": 1, "can_use": True, "info": 2, "lock": 1, "locked_verify": 21001,
                   "verify": 0, "done": [b.item_order_id], "toolkit_refusal": 2191004}, json.dumps(got)
    assert at("2026-01-05") > trade.clock.now_ms()
