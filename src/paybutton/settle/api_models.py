"""The answers of the settle routes (settle/api.py), as documented in /openapi.json."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from paybutton.kernel.answers import OpenApiData, data_example, example

SETTLE_ID = "st2612070247538119264858"
SETTLE_EXAMPLE: dict[str, Any] = {
    "order_id": "ot2612070247519296326435", "out_order_no": "Mot2612070247519296326435", "out_settle_no": "S1001",
    "settle_id": SETTLE_ID, "settle_status": "SUCCESS", "item_order_id": "", "cp_extra": "",
    "settle_detail": "商户号7123456789012345678-分成金额(分)18810,商户号7000000000000000001-分成金额(分)1000",
    "rake": 990, "commission": 0, "settle_amount": 18810, "settle_time": 1796611673704, "is_auto_settle": False}


class SettleView(BaseModel):
    """One settle as query_settle lists it."""

    model_config = example(SETTLE_EXAMPLE)
    order_id: str
    out_order_no: str
    out_settle_no: str
    settle_id: str
    settle_status: str = Field(description="SUCCESS (a settle is written once its money moved)")
    item_order_id: str = Field(description="the unit settled alone; empty for the whole order")
    cp_extra: str
    settle_detail: str = Field(description="商户号<uid>-分成金额(分)<fen> for the seller, then each receiver")
    rake: int = Field(description="fen: the platform's fee")
    commission: int = Field(description="fen: 0 (no commission is known)")
    settle_amount: int = Field(description="fen: the seller's part")
    settle_time: int = Field(description="epoch ms")
    is_auto_settle: bool


class CreateSettleData(OpenApiData):
    """create_settle: the settle made (or, for an out_settle_no already used on this order, the first one)."""

    model_config = data_example({"settle_id": SETTLE_ID, "inner_settle_id": SETTLE_ID})
    settle_id: str
    inner_settle_id: str


class QuerySettleData(OpenApiData):
    """query_settle: the settles found (none: an empty list)."""

    model_config = data_example({"settle_list": [SETTLE_EXAMPLE]})
    settle_list: list[SettleView]
