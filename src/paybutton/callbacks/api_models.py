"""The answers of the callback routes (callbacks/api.py), as documented in /openapi.json (kernel/answers.py)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from paybutton.kernel.answers import OpenApiData, data_example

ORDER_ID = "ot2612070247519296326435"
SUMMARY_EXAMPLE: dict[str, Any] = {
    "id": 1, "type": "payment", "order_id": ORDER_ID, "refund_id": None,
    "url": "https://merchant.example/payment_notify", "status": "DONE", "attempts": 1, "max_attempts": 21,
    "next_attempt_at": None, "last_http_status": 200, "last_answer_head": '{"err_no":0,"err_tips":"success"}',
    "last_error": None, "created_at": 1796611672085, "updated_at": 1796611672301}
ATTEMPT_EXAMPLE: dict[str, Any] = {
    "attempt": 1, "started_at": 1796611672090, "duration_ms": 12, "url": "https://merchant.example/payment_notify",
    "logid": "20261207024752CECDF1555DC8", "http_status": 200, "ok": True,
    "answer_head": '{"err_no":0,"err_tips":"success"}', "error": None}
DETAIL_EXAMPLE: dict[str, Any] = {
    **SUMMARY_EXAMPLE, "identify_name": "/order/payment_notify_url", "schedule": "payment",
    "body": '{"version":"2.0","type":"payment","msg":"{\\"app_id\\":\\"tt07e3715e98c9aac0\\",…}"}',
    "answer_data": {"err_no": 0, "err_tips": "success"}, "attempt_log": [ATTEMPT_EXAMPLE]}


class CallbackSummary(BaseModel):
    """One callback of the log (an outbox row): where it goes, its state and its last attempt."""

    id: int = Field(description="the callback_id")
    type: str = Field(description="payment, refund, pre_create_refund, test, …")
    order_id: str | None
    refund_id: str | None
    url: str
    status: str = Field(description="PENDING, DONE, DEAD (gave up: replay it) or NO_URL")
    attempts: int
    max_attempts: int | None
    next_attempt_at: int | None = Field(description="epoch ms, while PENDING")
    last_http_status: int | None
    last_answer_head: str | None
    last_error: str | None
    created_at: int
    updated_at: int


class AttemptLog(BaseModel):
    """One attempt at sending a callback."""

    attempt: int
    started_at: int = Field(description="epoch ms")
    duration_ms: int
    url: str
    logid: str | None
    http_status: int | None
    ok: bool = Field(description="the merchant answered HTTP 200 with err_no 0")
    answer_head: str | None = Field(description="the start of the merchant's answer")
    error: str | None


class CallbackDetail(CallbackSummary):
    """One callback in full: the exact body sent, the merchant's answer and every attempt."""

    identify_name: str
    schedule: str
    body: str = Field(description="the exact body sent (signed)")
    answer_data: Any = Field(description="the merchant's last answer, parsed; null before one")
    attempt_log: list[AttemptLog]


class CallbackPageData(OpenApiData):
    """callbacks/list: a page of the log, newest first."""

    model_config = data_example({"callback_list": [SUMMARY_EXAMPLE], "next_cursor": None, "has_more": False})
    callback_list: list[CallbackSummary]
    next_cursor: int | None = Field(description="send it as `cursor` for the next page; null on the last")
    has_more: bool


class CallbackData(OpenApiData):
    """callbacks/query and callbacks/replay: one callback in full."""

    model_config = data_example({"callback": DETAIL_EXAMPLE})
    callback: CallbackDetail


class Attempt(AttemptLog):
    """An attempt of the log: callback_id is its callback, null for a synchronous extension call."""

    id: int
    callback_id: int | None
    type: str
    order_id: str | None


class AttemptPageData(OpenApiData):
    """callbacks/attempts: a page of attempts, newest first."""

    model_config = data_example({"attempt_list": [{
        "id": 5, "callback_id": None, "type": "pre_create_order", "order_id": ORDER_ID, **ATTEMPT_EXAMPLE,
        "url": "https://merchant.example/pre_order"}], "next_cursor": None, "has_more": False})
    attempt_list: list[Attempt]
    next_cursor: int | None
    has_more: bool


class TestData(OpenApiData):
    """callbacks/test: the test callback queued, and how it stands after wait_seconds."""

    model_config = data_example({"callback_id": 6, "callback": {
        **DETAIL_EXAMPLE, "id": 6, "type": "test", "order_id": None, "schedule": "test", "max_attempts": 1,
        "identify_name": "/tools/test_callback"}})
    callback_id: int
    callback: CallbackDetail
