"""The third-party Douyin server SDK (PyPI `bytedance` 1.0.0, pinned in pyproject's test extras), unchanged,
pointed at paybutton by its own `api_domains` setting: its agency and self-operated trade families reach
order/create_order, order/query_cps, marketing/query_and_calcalute (the SDK's spelling of the method) and the
toolkit settings calls on the paths and envelopes it expects (it checks `err_no` for the toolkit calls and
`data.error_code`/`extra.error_code` for the others, and raises ByteDanceError on a non-zero one)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from bytedance import ByteDance
from bytedance.base import ByteDanceError
from trade_world import TradeWorld


def sdk(trade: TradeWorld, tmp_path: Path) -> Any:
    return ByteDance(app_id=trade.app_id, app_secret=trade.app["secret"], access_token_type="file",
                     ac_path=str(tmp_path / "token"), api_domains={"https://open.douyin.com": trade.url})


async def test_the_sdk_reaches_the_new_calls(trade: TradeWorld, tmp_path: Path) -> None:
    await trade.add_goods("g", stock=5, price=1000)
    client = sdk(trade, tmp_path)
    agency = client.locallife.general_ability.agency_trade_system
    own = client.locallife.general_ability.self_operated_trading
    body = {"out_order_no": "SDK-1", "open_id": "buyer", "total_amount": 2000,
            "goods_list": [{"goods_id": "g", "goods_id_type": 1, "price": 1000, "quantity": 2}]}
    made = await asyncio.to_thread(agency.pre_order.create_order, body)
    oid = made.data.order_id
    assert made.data.out_order_no == "SDK-1" and len(made.data.item_order_info_list[0].item_order_id_list) == 2
    for family in (agency, own):
        got = await asyncio.to_thread(family.query_info.query_cps, {"order_id": oid})
        assert got.data.order_id == oid and got.data.cps_info.cps_item_list == []
    priced = await asyncio.to_thread(agency.marketing_calculation.query_and_calcalute, {
        "open_id": "buyer", "goods_marketing_info": [{"goods_id": "g", "quantity": 2}]})
    assert priced.data.total_amount == 2000 and priced.data.available is False  # this app has no marketing URL
    tool = own.write_off.fulfill_tool
    texts = await asyncio.to_thread(tool.query_text, {"text_type": 2})
    button = texts.data.text_list[0].text_content_list[0].text_id
    await asyncio.to_thread(tool.update_merchant_conf, {
        "bind_biz_type": 0, "account_id": "1", "delivery_app_info": {"button_text_id": button}})
    await asyncio.to_thread(tool.update_merchant_path, {
        "bind_biz_type": 0, "account_id": "1", "path_data_list": [{"path": "pages/a", "path_type": 1}]})
    await asyncio.to_thread(tool.button_white_setting, {"button_type": 1, "open_all": True})
    # refusals reach the SDK as its error, with our code
    with pytest.raises(ByteDanceError) as refused:
        await asyncio.to_thread(agency.pre_order.create_order, {**body, "total_amount": 1})
    assert refused.value.code == 2100005
    with pytest.raises(ByteDanceError) as unknown_text:
        await asyncio.to_thread(tool.update_merchant_conf, {
            "bind_biz_type": 0, "account_id": "1", "delivery_app_info": {"guidance_text_id": button}})
    assert unknown_text.value.code == 2100005
