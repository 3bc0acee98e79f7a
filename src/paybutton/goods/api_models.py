"""The answers of the goods library routes (goods/api.py), as documented in /openapi.json (kernel/answers.py)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from paybutton.kernel.answers import OpenApiData, data_example, example

GOODS_EXAMPLE: dict[str, Any] = {
    "app_id": "tt07e3715e98c9aac0", "goods_id": "spu_1001", "name": "双人下午茶套餐", "photo_url": "", "price": 9900,
    "stock": 60, "sold": 0, "sale_start": None, "sale_end": None, "labels": [{"type": "REFUND_ANYTIME"}],
    "min_limits": 1, "max_limits": 99999, "date_rule": "周一至周日可用", "phone_required": False, "biz_line": 1,
    "on_shelf": True, "valid_days": 30, "created_at": 1796611670458, "updated_at": 1796611670630,
    "state": "on_sale", "label_texts": ["随时退"]}


class GoodsLabel(BaseModel):
    """A label as stored: REFUND_ANYTIME, REFUNDABLE_DAYS (value = days), BOOK_IN_ADVANCE (value = days), …"""

    type: str
    value: int | None = None


class Goods(BaseModel):
    """A library good (商品库) as the goods routes answer it: money in fen, times in epoch milliseconds."""

    model_config = example(GOODS_EXAMPLE)
    app_id: str
    goods_id: str
    name: str
    photo_url: str = Field(description="empty, an http(s) URL or a /path")
    price: int = Field(description="fen")
    stock: int
    sold: int
    sale_start: int | None = Field(description="epoch ms; null = no bound")
    sale_end: int | None = Field(description="epoch ms; null = no bound")
    labels: list[GoodsLabel]
    min_limits: int
    max_limits: int
    date_rule: str
    phone_required: bool
    biz_line: int = Field(description="1 group buying, 2 knowledge")
    on_shelf: bool
    valid_days: int | None = Field(description="voucher validity in days; null = no limit")
    created_at: int
    updated_at: int
    state: str = Field(description="off_shelf, upcoming, on_sale, ended or sold_out: what a buyer can do now")
    label_texts: list[str] = Field(description="the labels as the buyer reads them (zh-CN)")


class GoodsData(OpenApiData):
    """One good (create, update, query)."""

    model_config = data_example({"goods": GOODS_EXAMPLE})
    goods: Goods


class GoodsPageData(OpenApiData):
    """One page of goods, ordered by goods_id."""

    model_config = data_example({"goods_list": [GOODS_EXAMPLE], "total": 1, "has_more": False, "next_cursor": None})
    goods_list: list[Goods]
    total: int = Field(description="every match, on every page")
    has_more: bool
    next_cursor: str | None = Field(description="send it as `cursor` for the next page; null on the last")
