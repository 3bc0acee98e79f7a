"""A broken goods rule as data (pure but for the catalogs): which error it raises, which field it belongs to, and
its words: the English msgid is the API's message, word for word; the console shows the catalogs' text in its
page's language."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, Final

from paybutton import i18n
from paybutton.errors import TradeError
from paybutton.i18n import N_, NP_

# rule -> its English msgid, the API's message word for word (the catalogs give the console's texts in each
# language); {placeholders} are the problem's params, {field_name} and {unit_name} the field's and unit's names in
# the page's language (a Chinese text names the field in Chinese, the English one by its code name, {field}).
TEXTS: Final[dict[str, str]] = {
    "labels_not_list": N_("labels must be a list of {{type, value?}} objects"),
    "labels_too_many": N_("at most {max} labels are allowed (got {got})"),
    "label_not_object": N_("labels[{i}] must be an object {{type, value?}}"),
    "label_unknown_keys": N_("labels[{i}] has unknown keys {keys}; only type and value are allowed"),
    "label_bad_type": N_("labels[{i}].type {kind} is not one of {types}"),
    "label_duplicate": N_("duplicate label type {kind}"),
    "label_value_missing": N_("{kind} requires value (a number of days)"),
    "label_value_range": N_("{kind} value must be an integer in 1..{max}, got {value}"),
    "label_value_extra": N_("{kind} takes no value (only REFUNDABLE_DAYS and BOOK_IN_ADVANCE do)"),
    "labels_exclusive": N_("{a} and {b} are mutually exclusive"),
    "limit_not_int": N_("{field} must be an integer, got {value}"),
    "limit_range": N_("{field} must be in {lo}..{hi}, got {value}"),
    "limits_order": N_("min_limits ({lo}) must not exceed max_limits ({hi})"),
    "unknown_fields": N_("unknown goods fields {fields}"),
    "goods_id": N_("goods_id must be 1-64 characters of A-Z a-z 0-9 _ - ."),
    "name": N_("name must be 1-256 characters"),
    "photo_long": N_("photo_url must be an http(s) URL or a /path of at most 2048 characters"),
    "photo_bad": N_("photo_url must be empty, an http(s) URL or a /path"),
    "photo_host": N_("photo_url must be empty, an http(s) URL or a /path (not //host)"),
    "int_range": N_("{field} must be an integer in {low}..{high}{unit}, got {value}"),
    "amount_ceiling": N_("{field} is over the money ceiling of {ceiling} fen, got {value}"),
    "price_floor": N_("price must be at least ¥0.01 (1 fen): a good cannot be free or negative, got {value} fen"),
    "sale_order": N_("sale_start must be before sale_end"),
    "date_rule": N_("date_rule must be a string of at most 256 characters"),
    "bool": N_("{field} must be true or false, got {value}"),
    "stock_below_zero": N_("stock_delta {delta} would take stock below 0 (stock is {stock})"),
    "biz_line": N_("biz_line must be 1 (group buying) or 2 (general knowledge), got {value}"),
}

FIELD_NAMES: Final = {  # each field's name in a language (English: its code name)
    "goods_id": NP_("goods field", "goods_id"), "name": NP_("goods field", "name"),
    "photo_url": NP_("goods field", "photo_url"), "price": NP_("goods field", "price"),
    "stock": NP_("goods field", "stock"), "sale_start": NP_("goods field", "sale_start"),
    "sale_end": NP_("goods field", "sale_end"), "labels": NP_("goods field", "labels"),
    "min_limits": NP_("goods field", "min_limits"), "max_limits": NP_("goods field", "max_limits"),
    "date_rule": NP_("goods field", "date_rule"), "phone_required": NP_("goods field", "phone_required"),
    "biz_line": NP_("goods field", "biz_line"), "on_shelf": NP_("goods field", "on_shelf"),
    "valid_days": NP_("goods field", "valid_days"),
}
UNIT_NAMES: Final = {" (fen)": NP_("unit", " (fen)"), " (epoch ms)": NP_("unit", " (epoch ms)"),
                     " days": NP_("unit", " days")}


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
        """The rule's words in a language (the catalogs')."""
        return self._format(i18n.gettext(lang, TEXTS[self.rule]), lang)

    def api_text(self) -> str:
        """The API's message: the English msgid itself, whatever a catalog says."""
        return self._format(TEXTS[self.rule], "en")

    def _format(self, template: str, lang: str) -> str:
        unit = self.params.get("unit", "")
        field_name = i18n.gettext(lang, FIELD_NAMES[self.field]) if self.field in FIELD_NAMES else self.field
        unit_name = i18n.gettext(lang, UNIT_NAMES[unit]) if unit in UNIT_NAMES else unit
        return template.format(field=self.field, field_name=field_name, unit_name=unit_name, **self.params)


class GoodsRulesError(TradeError):
    """Goods that break one or more rules: raised as the first (its code and message are the API's answer), with
    every problem found kept in `problems` (the console shows them all at once)."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0]
        detail = {"field": first.field} if first.named else {}
        super().__init__(first.error, first.api_text(), **detail)
        self.problems = list(problems)


def raise_first(problems: list[Problem]) -> None:
    """Raise the problems (the first one answers) when there are any."""
    if problems:
        raise GoodsRulesError(problems)
