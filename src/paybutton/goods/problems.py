"""A broken goods rule as data (pure): which error it raises, which field it belongs to, and its words in zh-CN and
en. The English text is the API's message, word for word; the console shows the text in its page's language."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, Final

from paybutton.errors import TradeError

# rule -> (zh-CN, en); {placeholders} are the problem's params, {field_zh} the field's Chinese name.
TEXTS: Final[dict[str, tuple[str, str]]] = {
    # labels (21511)
    "labels_not_list": ("商品标签须为 {{type, value?}} 对象的列表",
                        "labels must be a list of {{type, value?}} objects"),
    "labels_too_many": ("最多 {max} 个标签(现有 {got} 个)", "at most {max} labels are allowed (got {got})"),
    "label_not_object": ("labels[{i}] 须为 {{type, value?}} 对象", "labels[{i}] must be an object {{type, value?}}"),
    "label_unknown_keys": ("labels[{i}] 含未知字段 {keys},只允许 type 和 value",
                           "labels[{i}] has unknown keys {keys}; only type and value are allowed"),
    "label_bad_type": ("labels[{i}].type {kind} 不是以下之一:{types}", "labels[{i}].type {kind} is not one of {types}"),
    "label_duplicate": ("标签 {kind} 重复", "duplicate label type {kind}"),
    "label_value_missing": ("{kind} 须填写天数", "{kind} requires value (a number of days)"),
    "label_value_range": ("{kind} 的天数须为 1–{max} 的整数,当前为 {value}",
                          "{kind} value must be an integer in 1..{max}, got {value}"),
    "label_value_extra": ("{kind} 不带天数(只有 REFUNDABLE_DAYS 和 BOOK_IN_ADVANCE 带天数)",
                          "{kind} takes no value (only REFUNDABLE_DAYS and BOOK_IN_ADVANCE do)"),
    "labels_exclusive": ("{a} 与 {b} 互斥,不能同时选择", "{a} and {b} are mutually exclusive"),
    # limits (21512)
    "limit_not_int": ("{field_zh}须为整数,当前为 {value}", "{field} must be an integer, got {value}"),
    "limit_range": ("{field_zh}须在 {lo}–{hi} 之间,当前为 {value}", "{field} must be in {lo}..{hi}, got {value}"),
    "limits_order": ("起购份数 ({lo}) 不能大于限购份数 ({hi})", "min_limits ({lo}) must not exceed max_limits ({hi})"),
    # the other fields (INVALID_PARAMETER)
    "unknown_fields": ("未知的商品字段 {fields}", "unknown goods fields {fields}"),
    "goods_id": ("商品 ID 须为 1-64 位,只含 A-Z a-z 0-9 _ - .",
                 "goods_id must be 1-64 characters of A-Z a-z 0-9 _ - ."),
    "name": ("名称须为 1-256 个字符", "name must be 1-256 characters"),
    "photo_long": ("图片地址须为 http(s) 网址或 /路径,最长 2048 个字符",
                   "photo_url must be an http(s) URL or a /path of at most 2048 characters"),
    "photo_bad": ("图片地址须为空、http(s) 网址或 /路径", "photo_url must be empty, an http(s) URL or a /path"),
    "photo_host": ("图片地址须为空、http(s) 网址或 /路径(不能是 //主机)",
                   "photo_url must be empty, an http(s) URL or a /path (not //host)"),
    "int_range": ("{field_zh}须为 {low}–{high} 的整数{unit_zh},当前为 {value}",
                  "{field} must be an integer in {low}..{high}{unit}, got {value}"),
    "amount_ceiling": ("{field_zh}超出金额上限 {ceiling} 分,当前为 {value}",
                       "{field} is over the money ceiling of {ceiling} fen, got {value}"),
    "price_floor": ("价格须至少 ¥0.01(1 分),不能为 0 或负数,当前为 {value} 分",
                    "price must be at least ¥0.01 (1 fen): a good cannot be free or negative, got {value} fen"),
    "sale_order": ("开售时间须早于停售时间", "sale_start must be before sale_end"),
    "date_rule": ("使用日期说明最长 256 个字符", "date_rule must be a string of at most 256 characters"),
    "bool": ("{field_zh}须为 true 或 false,当前为 {value}", "{field} must be true or false, got {value}"),
    "stock_below_zero": ("库存调整 {delta} 会使库存低于 0(当前库存 {stock})",
                         "stock_delta {delta} would take stock below 0 (stock is {stock})"),
    "biz_line": ("biz_line 须为 1(团购)或 2(泛知识),当前为 {value}",
                 "biz_line must be 1 (group buying) or 2 (general knowledge), got {value}"),
}

FIELD_ZH: Final = {
    "goods_id": "商品 ID", "name": "名称", "photo_url": "图片地址", "price": "价格", "stock": "库存",
    "sale_start": "开售时间", "sale_end": "停售时间", "labels": "商品标签", "min_limits": "起购份数",
    "max_limits": "限购份数", "date_rule": "使用日期说明", "phone_required": "下单需填写手机号",
    "biz_line": "业务线", "on_shelf": "上架", "valid_days": "券有效天数",
}
UNIT_ZH: Final = {"": "", " (fen)": "(分)", " (epoch ms)": "(毫秒时间戳)", " days": " 天"}


@dataclass(frozen=True)
class Problem:
    """One broken rule. `field` is where it belongs on a form (labels, limits, price, ...; "" for the whole
    record); `named` says whether the API error names the field (INVALID_PARAMETER's detail.field)."""

    error: str  # GOODS_LABELS_INVALID (21511) | GOODS_LIMITS_INVALID (21512) | INVALID_PARAMETER | AMOUNT_TOO_LARGE
    field: str
    rule: str
    params: Mapping[str, Any] = dc_field(default_factory=dict)
    named: bool = False

    def text(self, lang: str = "en") -> str:
        zh, en = TEXTS[self.rule]
        if lang.lower().startswith("en"):
            return en.format(field=self.field, **self.params)
        unit = self.params.get("unit", "")
        return zh.format(field_zh=FIELD_ZH.get(self.field, self.field), unit_zh=UNIT_ZH.get(unit, unit),
                         **self.params)


class GoodsRulesError(TradeError):
    """Goods that break one or more rules: raised as the first (its code and message are the API's answer), with
    every problem found kept in `problems` (the console shows them all at once)."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0]
        detail = {"field": first.field} if first.named else {}
        super().__init__(first.error, first.text("en"), **detail)
        self.problems = list(problems)


def raise_first(problems: list[Problem]) -> None:
    """Raise the problems (the first one answers) when there are any."""
    if problems:
        raise GoodsRulesError(problems)
