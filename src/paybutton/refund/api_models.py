"""The answers of the platform refund routes (refund/api.py, reference §16), as documented in /openapi.json; the
buyer's refund-detail (api/models_buyer.py) extends RefundView."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from paybutton.kernel.answers import OpenApiData, data_example, example

REFUND_ID = "rf2612070247538119264858"
ITEM_ID = "it2612070247517893350858"
REFUND_EXAMPLE: dict[str, Any] = {
    "refund_id": REFUND_ID, "out_refund_no": "R1001", "order_id": "ot2612070247519296326435",
    "refund_status": "PROCESSING", "refund_total_amount": 9900,
    "item_order_detail": [{"item_order_id": ITEM_ID, "refund_amount": 9900}], "refund_source": 1,
    "merchant_audit_detail": {"audit_status": "INIT", "need_refund_audit": 2, "refund_audit_deadline": 0,
                              "deny_message": ""},
    "message": "", "create_at": 1796611673704, "refund_at": 0, "stage": "PRE_REFUND"}


class RefundItem(BaseModel):
    item_order_id: str
    refund_amount: int = Field(description="fen")


class AuditDetail(BaseModel):
    """The merchant's audit of the refund."""

    audit_status: str = Field(description="INIT, TOAUDIT, AGREE, DENY or OVERTIME")
    need_refund_audit: int = Field(description="1 the merchant audits, 2 no audit")
    refund_audit_deadline: int = Field(description="epoch ms; 0 without an audit")
    deny_message: str


class RefundView(BaseModel):
    """A refund as query_refund gives it (reference §16), plus our stage."""

    model_config = example(REFUND_EXAMPLE)
    refund_id: str
    out_refund_no: str = Field(description="the merchant's refund number; empty until pre_create_refund answered")
    order_id: str
    refund_status: str = Field(description="PROCESSING, SUCCESS or FAIL")
    refund_total_amount: int = Field(description="fen")
    item_order_detail: list[RefundItem]
    refund_source: int = Field(description="1 the buyer, 2 the merchant, …")
    merchant_audit_detail: AuditDetail
    message: str
    create_at: int = Field(description="epoch ms")
    refund_at: int = Field(description="epoch ms; 0 until refunded")
    stage: str = Field(description="where the refund is: PRE_REFUND, AUDIT, READY, CASHIER or DONE")


class QueryRefundData(OpenApiData):
    """query_refund: the refunds found (an order of this app with no refund: an empty list)."""

    model_config = data_example({"refund_list": [REFUND_EXAMPLE]})
    refund_list: list[RefundView]


class CreateRefundData(OpenApiData):
    """create_refund: the refund made."""

    model_config = data_example({"refund_id": REFUND_ID, "refund_audit_deadline": 0})
    refund_id: str
    refund_audit_deadline: int = Field(description="epoch ms; 0 without an audit")


class AuditAnswerData(OpenApiData):
    """merchant_audit_callback: nothing but the success codes."""

    model_config = data_example({})
