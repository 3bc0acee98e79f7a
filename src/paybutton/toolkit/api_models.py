"""The bodies and documented answers of the fulfilment tool's settings calls (toolkit/api.py).

Field names after Douyin's pages under 核销工具 (write-off/fulfill-tool: query-text, update-merchant-conf,
update-merchant-path, button-white-setting, at
https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/locallife/general-ability/self-operated-trading/write-off/fulfill-tool/)
as the SKIT.FlurlHttpClient.ByteDance SDK models them (AppsTradeToolkit*V2Request/Response). These calls answer in
the `{err_no, err_msg, log_id, data}` envelope (the PyPI `bytedance` SDK reads their `err_no`); paybutton's answer
carries that and the platform's `{data, extra}` too (docs/openapi.md)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from paybutton.kernel.answers import OpenApiData, data_example, example

TEXT_ID = Field(default=None, min_length=1, max_length=64)


class QueryTextBody(BaseModel):
    model_config = example({"text_type": 1}, extra="ignore")
    text_type: StrictInt | None = Field(default=None, ge=1, le=2, description="1 guidance texts, 2 button texts; "
                                        "none: every type")


class TextContent(BaseModel):
    text_id: str
    text_content: str


class TextGroup(BaseModel):
    text_type: int
    text_content_list: list[TextContent]


class QueryTextData(OpenApiData):
    model_config = data_example({"text_list": [{"text_type": 1, "text_content_list": [
        {"text_id": "te7248537436261777452", "text_content": "小程序提前用，到店享服务"}]}]})
    text_list: list[TextGroup]


class DeliveryAppInfo(BaseModel):
    """How the voucher shows the mini-program (核销工具): a guidance line, a button, the QR display."""

    model_config = ConfigDict(extra="ignore")
    guidance_text_id: StrictStr | None = TEXT_ID
    button_text_id: StrictStr | None = TEXT_ID
    detail_page_text_id: StrictStr | None = TEXT_ID
    display_mode: StrictInt | None = Field(default=None, ge=1, le=2, description="QR display: 1 shown, 2 folded")


class DoubleOpenInfo(BaseModel):
    """混合双开: a guidance line and two buttons (to the shop, to home delivery)."""

    model_config = ConfigDict(extra="ignore")
    guidance_text_id: StrictStr | None = TEXT_ID
    arrival_store_button_text_id: StrictStr | None = TEXT_ID
    arrival_home_button_text_id: StrictStr | None = TEXT_ID
    display_mode: StrictInt | None = Field(default=None, ge=1, le=2)


class MerchantConfBody(BaseModel):
    model_config = example({"bind_biz_type": 0, "account_id": "7241527302029314092", "delivery_app_info": {
        "guidance_text_id": "te7248537436261777452", "button_text_id": "te7249570906215956524",
        "display_mode": 1}}, extra="ignore")
    bind_biz_type: StrictInt = Field(ge=0, le=10, description="the bound mini-program's kind (Douyin's enum)")
    account_id: StrictStr = Field(min_length=1, max_length=64, description="the merchant's group-buying account")
    delivery_app_info: DeliveryAppInfo | None = None
    product_double_open_info: DoubleOpenInfo | None = None


class PathData(BaseModel):
    model_config = ConfigDict(extra="ignore")
    path: StrictStr = Field(min_length=1, max_length=512, pattern=r"^[^\s:?#]+(\?[^\s#]*)?$",
                            description="a page of the mini-program (no scheme, no host)")
    path_type: StrictInt = Field(ge=1, le=10, description="which jump the path serves (Douyin's enum)")


class MerchantPathBody(BaseModel):
    model_config = example({"bind_biz_type": 0, "account_id": "7241527302029314092", "path_data_list": [
        {"path": "pages/order/detail", "path_type": 3}]}, extra="ignore")
    bind_biz_type: StrictInt = Field(ge=0, le=10)
    account_id: StrictStr = Field(min_length=1, max_length=64)
    path_data_list: list[PathData] = Field(min_length=1, max_length=20)


class ButtonWhiteBody(BaseModel):
    model_config = example({"button_type": 1, "uid_list": [123, 4666], "open_all": False}, extra="ignore")
    button_type: StrictInt = Field(ge=1, le=10, description="which order-detail button (Douyin's enum)")
    uid_list: list[StrictInt] | None = Field(default=None, max_length=1000, description="users who see it")
    open_all: StrictBool | None = Field(default=None, description="true: every user sees it")


class SettingsData(OpenApiData):
    """A setting stored: no fields of its own (Douyin answers an empty data)."""

    model_config = data_example({})
