"""The third-party Douyin SDK (PyPI `bytedance`, pinned in the test extras), unchanged, against paybutton's settle
calls, on SQLite and PostgreSQL: its `locallife.general_ability.self_operated_trading.settlement.init_settle` and
`query_settle` (POST /api/apps/trade/v2/settle/create_settle and query_settle with a client token from
/oauth/client_token/; the SDK's `api_domains` points https://open.douyin.com at the test server), and its callback
verifier (`callbacks.parse`, the platform's RSA signature over the raw body) accepts the `settle` callback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import bytedance  # type: ignore[import-untyped]
import pytest
from settle_world import receiver, redeem, rules
from trade_world import TradeWorld

RECEIVER = "7000000000000000009"


async def test_the_sdk_settles_and_verifies_the_settle_callback(trade: TradeWorld, tmp_path: Path) -> None:
    await rules(trade, rake_bps=100)
    await receiver(trade, RECEIVER)
    order = await trade.paid_order(quantity=2)
    await redeem(trade, order["order_id"])
    sdk = bytedance.ByteDance(app_id=trade.app_id, app_secret=trade.app["secret"], access_token_type="file",
                              ac_path=str(tmp_path / "token"), api_domains={"https://open.douyin.com": trade.url},
                              platform_public_key=trade.server.app.state.ctx.signer.public_pem)
    settlement = sdk.locallife.general_ability.self_operated_trading.settlement
    made = await asyncio.to_thread(settlement.init_settle, body={
        "out_order_no": order["out_order_no"], "out_settle_no": "SDK-1", "settle_desc": "结算",
        "settle_params": f'[{{"merchant_uid":"{RECEIVER}","amount":500}}]',
        "notify_url": f"{trade.merchant_url()}/settle"})
    sid = made["data"]["settle_id"]
    found = await asyncio.to_thread(settlement.query_settle, body={"settle_id": sid})
    (row,) = found["data"]["settle_list"]
    assert row["settle_status"] == "SUCCESS" and row["settle_amount"] == 2000 - 20 - 500 and row["rake"] == 20
    with pytest.raises(bytedance.ByteDanceError) as refused:  # its error is Douyin's: 23112 nothing left
        await asyncio.to_thread(settlement.init_settle, body={"out_order_no": order["out_order_no"],
                                                              "out_settle_no": "SDK-2", "settle_desc": "again"})
    assert refused.value.payload["extra"]["sub_error_code"] == 23112
    await trade.drive()
    (note,) = trade.merchant.of_type("settle")
    parsed = sdk.callbacks.parse(note.raw, note.headers)
    assert parsed["type"] == "settle" and parsed["parsed_msg"]["settle_id"] == sid
    assert sdk.callbacks.acknowledgement() == {"err_no": 0, "err_tips": "success"}
