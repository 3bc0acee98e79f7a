"""The answers of the fulfilment-tool routes (fulfillment/tools_api.py), as documented in /openapi.json. The
certificate is Douyin's (查询用户券列表 / 查询订单可用门店 examples: certificate_id, start_time, expire_time,
sku_info, amount) plus ours, marked."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from paybutton.fulfillment.api_models import CERT_ID, ITEM_ID, ORDER_ID
from paybutton.kernel.answers import OpenApiData, data_example

CERT_EXAMPLE: dict[str, Any] = {
    "certificate_id": CERT_ID, "item_order_id": ITEM_ID, "order_id": ORDER_ID, "encrypted_code": "787929495092",
    "start_time": 1796611680, "expire_time": 0,
    "sku_info": {"account_id": "tt5eed000000000001", "sku_id": "hotpot", "third_sku_id": "", "title": "火锅",
                 "groupon_type": 1, "market_price": 16800, "sold_start_time": 1796611600},
    "amount": {"original_amount": 16800, "pay_amount": 16800, "merchant_ticket_amount": 0,
               "payment_discount_amount": 0, "coupon_pay_amount": 16800},
    "status": 2, "can_use": True, "lock_status": 0, "book_status": 2, "book_date": "2026-12-09", "verify_id": "",
    "verify_time": 0, "service_done_time": 0, "refunded_amount": 0}


class SkuInfo(BaseModel):
    account_id: str = Field(description="ours: the app id")
    sku_id: str = Field(description="ours: the goods id")
    third_sku_id: str
    title: str
    groupon_type: int
    market_price: int = Field(description="fen")
    sold_start_time: int = Field(description="epoch s")


class Amount(BaseModel):
    original_amount: int
    pay_amount: int
    merchant_ticket_amount: int
    payment_discount_amount: int
    coupon_pay_amount: int


class Certificate(BaseModel):
    """A unit as a certificate."""

    certificate_id: str
    item_order_id: str = Field(description="ours")
    order_id: str = Field(description="ours")
    encrypted_code: str = Field(description="ours: the voucher code")
    start_time: int = Field(description="epoch s: paid")
    expire_time: int = Field(description="epoch s: end of validity, 0 when the goods have none")
    sku_info: SkuInfo
    amount: Amount
    status: int = Field(description="ours: item order status (2 unused, 3 redeemed, 101 refunding, 102 refunded)")
    can_use: bool = Field(description="ours: redeemable now (unused, not locked, booked for today or not booked)")
    lock_status: int = Field(description="ours: 1 locked (toolkit/change_lock_status)")
    book_status: int = Field(description="ours: 0 not booked, 1 awaiting the merchant, 2 booked for book_date")
    book_date: str
    verify_id: str
    verify_time: int = Field(description="epoch ms, 0 when not redeemed")
    service_done_time: int = Field(description="ours: epoch ms of push_service_done, 0 before")
    refunded_amount: int


class OrderCertificates(BaseModel):
    order_id: str
    can_use: bool
    certificates: list[Certificate]


class UserCertificatesData(OpenApiData):
    """query_user_certificates: the buyer's orders that still have usable certificates, newest first."""

    model_config = data_example({"orders": [{"order_id": ORDER_ID, "can_use": True,
                                             "certificates": [CERT_EXAMPLE]}], "total": 1})
    orders: list[OrderCertificates]
    total: int


class OrderCanUseData(OpenApiData):
    """order_can_use: can a unit of the order be redeemed now; its unused certificates."""

    model_config = data_example({"order_id": ORDER_ID, "can_use": True, "certificates": [CERT_EXAMPLE]})
    order_id: str
    can_use: bool
    certificates: list[Certificate]


class CertificateInfoData(OpenApiData):
    """query_certificate_info: one certificate, whatever its state."""

    model_config = data_example({"certificate": CERT_EXAMPLE})
    certificate: Certificate


class LockData(OpenApiData):
    """change_lock_status: the certificate's lock now."""

    model_config = data_example({"certificate_id": CERT_ID, "lock_status": 1})
    certificate_id: str
    lock_status: int


class ServiceDoneData(OpenApiData):
    """push_service_done: the units marked done."""

    model_config = data_example({"order_id": ORDER_ID, "item_order_id_list": [ITEM_ID]})
    order_id: str
    item_order_id_list: list[str]
