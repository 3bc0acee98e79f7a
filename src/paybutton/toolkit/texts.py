"""The preset texts a merchant picks from (toolkit/query_text) for the fulfilment tool's display
(toolkit/update_merchant_conf): pure.

Douyin's 查询商家配置文案 page
(https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/locallife/general-ability/self-operated-trading/write-off/fulfill-tool/query-text)
answers `text_list[{text_type, text_content_list[{text_id, text_content}]}]`; the SKIT.FlurlHttpClient.ByteDance
SDK's sample gives text_type 1 with guidance lines ("小程序提前用，到店享服务", ...). The ids and the second type
(button texts) are ours: the platform's own catalogue is not published (docs/openapi.md)."""

from __future__ import annotations

from typing import Final

GUIDANCE: Final = 1  # 引导文案: the line above the voucher
BUTTON: Final = 2  # 按钮文案: the button that opens the mini-program

TEXTS: Final[dict[int, dict[str, str]]] = {
    GUIDANCE: {
        "te7248537436261777452": "小程序提前用，到店享服务",
        "te7248537436261777453": "提前线上选座，到店直接观影",
        "te7248537436261777454": "立即点单，配送到家",
        "te7248537436261777455": "线上预约，到店核销",
    },
    BUTTON: {
        "te7249570906215956524": "去使用",
        "te7249570906215956525": "立即预约",
        "te7249570906215956526": "查看详情",
        "te7248537436261842988": "到店使用",
        "te7270026298611761196": "配送到家",
    },
}


def text_list(text_type: int | None) -> list[dict[str, object]]:
    """query_text's text_list: one type, or every type when none is asked."""
    types = [text_type] if text_type is not None else sorted(TEXTS)
    return [{"text_type": t, "text_content_list": [{"text_id": i, "text_content": c}
                                                   for i, c in TEXTS.get(t, {}).items()]} for t in types]


def text_of(text_id: str, text_type: int) -> str | None:
    """The text of an id of that type, or None."""
    return TEXTS.get(text_type, {}).get(text_id)
