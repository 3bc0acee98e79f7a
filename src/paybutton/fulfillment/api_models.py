"""The answers of the platform fulfilment routes (fulfillment/api.py, reference §16), as documented in
/openapi.json."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from paybutton.kernel.answers import OpenApiData, data_example

ORDER_ID = "ot2612070247554711016046"
ITEM_ID = "it2612070247555847516474"
CERT_ID = "ct286e72f0fb2501fa"
VERIFY_EXAMPLE: dict[str, Any] = {
    "item_order_id": ITEM_ID, "certificate_id": CERT_ID, "certificate_code": "787929495092", "result_code": 0,
    "result_msg": "success", "verify_id": "vf5a1c0e9b3d2f4e6a", "verify_time": 1796611680123}


class Certificate(BaseModel):
    """A unit that can be redeemed now."""

    encrypted_code: str = Field(description="send it back in delivery_verify's certificates")
    certificate_id: str
    item_order_id: str


class PrepareData(OpenApiData):
    """delivery_prepare: the order behind the code, a verify_token (valid a few minutes) and its redeemable
    certificates."""

    model_config = data_example({
        "order_id": ORDER_ID, "out_order_no": "M" + ORDER_ID, "verify_token": "1796611980123.3f9a0c…",
        "certificates": [{"encrypted_code": "787929495092", "certificate_id": CERT_ID, "item_order_id": ITEM_ID}]})
    order_id: str
    out_order_no: str
    verify_token: str
    certificates: list[Certificate]


class VerifyResult(BaseModel):
    """One certificate's result: result_code 0 redeemed, otherwise why not (verify_id empty, verify_time 0)."""

    item_order_id: str
    certificate_id: str
    certificate_code: str
    result_code: int
    result_msg: str
    verify_id: str = Field(description="give it to verify_cancel to undo")
    verify_time: int = Field(description="epoch ms")


class VerifyData(OpenApiData):
    """delivery_verify: one result per certificate."""

    model_config = data_example({"verify_results": [VERIFY_EXAMPLE]})
    verify_results: list[VerifyResult]


class PushResult(BaseModel):
    """One unit redeemed."""

    item_order_id: str
    certificate_id: str | None = Field(description="null: a merchant-code (三方码) unit has no Douyin certificate")
    verify_id: str
    verify_time: int = Field(description="epoch ms")


class PushData(OpenApiData):
    """push_delivery: every unit redeemed (all or nothing)."""

    model_config = data_example({"verify_results": [
        {"item_order_id": ITEM_ID, "certificate_id": None, "verify_id": "vf5a1c0e9b3d2f4e6a",
         "verify_time": 1796611680123}]})
    verify_results: list[PushResult]


class CancelData(OpenApiData):
    """verify_cancel: nothing but the success codes; the unit is unused (and refundable) again."""

    model_config = data_example({})
