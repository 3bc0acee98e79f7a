"""The answers of /oauth/client_token and the installation routes (api/oauth.py, api/meta.py), as documented in
/openapi.json (kernel/answers.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from paybutton.kernel.answers import example


class ClientTokenData(BaseModel):
    access_token: str = Field(description="send it as the access-token header")
    expires_in: int = Field(description="seconds (7200)")
    error_code: Literal[0]
    description: Literal[""]


class ClientToken(BaseModel):
    """A client_token (reference §12.1): this route's own envelope, {data, message}."""

    model_config = example({"data": {"access_token": "clt.Ttdf5kkKpmU12opHzJ3aHxENQ66w8koa-9FGQIrbs-I",
                                     "expires_in": 7200, "error_code": 0, "description": ""}, "message": "success"})
    data: ClientTokenData
    message: Literal["success"]


class OrderPath(BaseModel):
    """This process's sold-out memory and order batches (orders per batch = taken_in_batches / take_batches)."""

    sold_out_from_memory: int
    sold_out_from_database: int
    goods_marked_sold_out: int
    memory_sure: bool
    take_batches: int
    taken_in_batches: int
    accept_batches: int
    accepted_in_batches: int


class Health(BaseModel):
    """The server and its database answer."""

    model_config = example({"ok": True, "database": "postgresql", "order_path": {
        "sold_out_from_memory": 0, "sold_out_from_database": 0, "goods_marked_sold_out": 0, "memory_sure": True,
        "take_batches": 12, "taken_in_batches": 30, "accept_batches": 12, "accepted_in_batches": 30}})
    ok: Literal[True]
    database: str = Field(description="the SQLAlchemy dialect: sqlite or postgresql")
    order_path: OrderPath


class ErrorSpec(BaseModel):
    name: str
    errNo: int | None = Field(description="the pay-button's code (seed table); null when the page never sees it")
    error_code: int = Field(description="the platform OpenAPI's error_code")
    sub_error_code: int
    http_status: int = Field(description="the buyer API's HTTP status")
    zh: str
    en: str


class SeedText(BaseModel):
    name: str
    zh: str
    en: str


class ErrorRegistry(BaseModel):
    """Every error, and the seed's errNo table (docs/errors.md)."""

    model_config = example({"errors": [
        {"name": "GOODS_SOLD_OUT", "errNo": 21518, "error_code": 2191003, "sub_error_code": 20001,
         "http_status": 409, "zh": "商品已售罄", "en": "sold out"}],
        "seed": {"21518": {"name": "GOODS_SOLD_OUT", "zh": "商品已售罄", "en": "sold out"}}})
    errors: list[ErrorSpec]
    seed: dict[str, SeedText] = Field(description="by errNo")
