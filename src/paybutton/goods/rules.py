"""Goods rules, pure (no DB): labels (21511), limits (21512), field checks, label texts, sale state."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from paybutton import i18n
from paybutton.errors import TradeError
from paybutton.goods import selling
from paybutton.goods.problems import Problem, raise_first
from paybutton.goods.selling import ENDED, OFF_SHELF, ON_SALE, SOLD_OUT, UPCOMING
from paybutton.i18n import N_
from paybutton.money import MAX_AMOUNT, over_ceiling

# --- labels (seed: GoodsLabel) ---------------------------------------------------------------------

EXPIRED_RETURNS: Final = "EXPIRED_RETURNS"
REFUND_ANYTIME: Final = "REFUND_ANYTIME"
RESERVATION_FREE: Final = "RESERVATION_FREE"
REFUNDABLE_DAYS: Final = "REFUNDABLE_DAYS"
BOOK_IN_ADVANCE: Final = "BOOK_IN_ADVANCE"
NON_REFUNDABLE: Final = "NON_REFUNDABLE"

LABEL_TYPES: Final = (
    EXPIRED_RETURNS, REFUND_ANYTIME, RESERVATION_FREE, REFUNDABLE_DAYS, BOOK_IN_ADVANCE, NON_REFUNDABLE,
)
VALUE_LABELS: Final = frozenset({REFUNDABLE_DAYS, BOOK_IN_ADVANCE})  # these need `value` (days)
MAX_LABELS: Final = 3
MAX_LABEL_VALUE: Final = 99999
# Mutually exclusive pairs (seed: 互斥关系).
EXCLUSIONS: Final = (
    (REFUND_ANYTIME, REFUNDABLE_DAYS),
    (RESERVATION_FREE, BOOK_IN_ADVANCE),
    (NON_REFUNDABLE, REFUNDABLE_DAYS),
    (NON_REFUNDABLE, REFUND_ANYTIME),
)

# the chips' texts (English msgids; {n}: the label's days; {s}: the English plural)
_TEXTS: Final[dict[str, str]] = {
    EXPIRED_RETURNS: N_("Refund on expiry"),
    REFUND_ANYTIME: N_("Refund anytime"),
    RESERVATION_FREE: N_("No reservation needed"),
    REFUNDABLE_DAYS: N_("Refundable within {n} day{s}"),
    BOOK_IN_ADVANCE: N_("Book {n} day{s} in advance"),
    NON_REFUNDABLE: N_("Non-refundable"),
}

# --- limits (seed: minLimits / maxLimits) ----------------------------------------------------------

MIN_LIMITS_DEFAULT: Final = 1
MAX_LIMITS_DEFAULT: Final = 99999
LIMITS_LOW: Final = 1
LIMITS_HIGH: Final = 99999

# --- other fields ----------------------------------------------------------------------------------

DATE_RULE_DEFAULT: Final = "周一至周日可用"
MAX_SAFE_INT: Final = 2**53 - 1  # the pay-button is JavaScript: keep numbers exact there
GOODS_ID_RE: Final = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
FIELDS: Final = (
    "goods_id", "name", "photo_url", "price", "stock", "sale_start", "sale_end", "labels", "min_limits",
    "max_limits", "date_rule", "phone_required", "biz_line", "on_shelf", "valid_days",
)

# The lowest price a good may have, in fen: a good always costs something, and the channels refuse 0 too: WeChat
# Pay API v3 下单 amount.total "订单总金额,单位为分", an integer of at least 1; Alipay alipay.trade.*.pay
# total_amount "单位为元,精确到小数点后两位,取值范围:[0.01,100000000]".
MIN_PRICE: Final = 1

# --- states ----------------------------------------------------------------------------------------

STATES: Final = (OFF_SHELF, UPCOMING, ON_SALE, ENDED, SOLD_OUT)


def is_int(value: Any) -> bool:
    """A real integer: bool is not one."""
    return isinstance(value, int) and not isinstance(value, bool)


def _label(rule: str, **params: Any) -> Problem:
    return Problem("GOODS_LABELS_INVALID", "labels", rule, params)


def label_problems(labels: Any) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Every breach of the seed's label rules, in the order they are checked, and the labels normalised
    ([{type} or {type, value}], the valid ones). None means no labels."""
    if labels is None:
        return [], []
    if not isinstance(labels, list | tuple):
        return [], [_label("labels_not_list")]
    found: list[Problem] = []
    if len(labels) > MAX_LABELS:
        found.append(_label("labels_too_many", max=MAX_LABELS, got=len(labels)))
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, label in enumerate(labels):
        if not isinstance(label, Mapping):
            found.append(_label("label_not_object", i=i))
            continue
        unknown = sorted(str(k) for k in label if k not in ("type", "value"))
        if unknown:
            found.append(_label("label_unknown_keys", i=i, keys=unknown))
            continue
        kind = label.get("type")
        if not isinstance(kind, str) or kind not in LABEL_TYPES:
            found.append(_label("label_bad_type", i=i, kind=repr(kind), types=", ".join(LABEL_TYPES)))
            continue
        if kind in seen:
            found.append(_label("label_duplicate", kind=kind))
            continue
        seen.add(kind)
        value = label.get("value")
        if kind in VALUE_LABELS:
            if value is None:
                found.append(_label("label_value_missing", kind=kind))
            elif not is_int(value) or not 1 <= value <= MAX_LABEL_VALUE:
                found.append(_label("label_value_range", kind=kind, max=MAX_LABEL_VALUE, value=repr(value)))
            else:
                out.append({"type": kind, "value": value})
        elif value is not None:
            found.append(_label("label_value_extra", kind=kind))
        else:
            out.append({"type": kind})
    for a, b in EXCLUSIONS:
        if a in seen and b in seen:
            found.append(_label("labels_exclusive", a=a, b=b))
    return out, found


def validate_labels(labels: Any) -> list[dict[str, Any]]:
    """Check goods labels against the seed's rules; return them normalised ([{type} or {type, value}]).

    None means no labels. Any breach raises GOODS_LABELS_INVALID (21511) naming the first rule broken."""
    out, found = label_problems(labels)
    raise_first(found)
    return out


def limits_problems(min_limits: Any = None, max_limits: Any = None) -> tuple[tuple[int, int], list[Problem]]:
    """(minLimits, maxLimits) with the seed's defaults, and every breach of the limits rules."""
    lo = MIN_LIMITS_DEFAULT if min_limits is None else min_limits
    hi = MAX_LIMITS_DEFAULT if max_limits is None else max_limits
    found: list[Problem] = []
    for name, v in (("min_limits", lo), ("max_limits", hi)):
        if not is_int(v):
            found.append(Problem("GOODS_LIMITS_INVALID", name, "limit_not_int", {"value": repr(v)}))
        elif not LIMITS_LOW <= v <= LIMITS_HIGH:
            found.append(Problem("GOODS_LIMITS_INVALID", name, "limit_range",
                                 {"lo": LIMITS_LOW, "hi": LIMITS_HIGH, "value": v}))
    if not found and lo > hi:
        found.append(Problem("GOODS_LIMITS_INVALID", "min_limits", "limits_order", {"lo": lo, "hi": hi}))
    if found:
        return (MIN_LIMITS_DEFAULT, MAX_LIMITS_DEFAULT), found
    return (int(lo), int(hi)), found


def validate_limits(min_limits: Any = None, max_limits: Any = None) -> tuple[int, int]:
    """(minLimits, maxLimits) with the seed's defaults; GOODS_LIMITS_INVALID (21512) naming the rule."""
    limits, found = limits_problems(min_limits, max_limits)
    raise_first(found)
    return limits


# The largest unit price of any good, library or merchant (fen): the one money ceiling, money.MAX_AMOUNT.
MAX_UNIT_PRICE: Final = MAX_AMOUNT


def phone_required(info: dict[str, Any]) -> bool:
    """validation.phoneNumber.required (reference: validation is an object, phoneNumber an object, required a
    boolean); absent parts mean "optional", a part of another type is 21512."""
    validation = info.get("validation", {})
    if not isinstance(validation, dict):
        raise TradeError("GOODS_INFO_TYPE_INVALID", "validation must be an object")
    phone = validation.get("phoneNumber", {})
    if not isinstance(phone, dict):
        raise TradeError("GOODS_INFO_TYPE_INVALID", "validation.phoneNumber must be an object")
    required = phone.get("required", False)
    if not isinstance(required, bool):
        raise TradeError("GOODS_INFO_TYPE_INVALID", "validation.phoneNumber.required must be a boolean")
    return required


def label_text(label: Mapping[str, Any], lang: str = "zh-CN") -> str:
    """The chip text of a (valid) label: 过期退 / 随时退 / 免预约 / n日内可退 / 提前n日预约 / 不可退."""
    kind = str(label.get("type"))
    template = label_templates(lang).get(kind, kind)
    n = label.get("value")
    return template.format(n=n, s="" if n == 1 else "s")


def label_templates(lang: str = "zh-CN") -> dict[str, str]:
    """The chip templates of one language ({n}: the label's days; {s}: the English plural), for the pages."""
    return dict(i18n.table(_TEXTS, i18n.code_of(lang) or i18n.DEFAULT))


def label_texts(labels: list[dict[str, Any]], lang: str = "zh-CN") -> list[str]:
    return [label_text(label, lang) for label in labels]


def goods_state(goods: Any, now_ms: int) -> str:
    """off_shelf | upcoming | on_sale | ended | sold_out, for a goods row or dict at `now_ms`.

    The sale window is half-open, [sale_start, sale_end): on sale from sale_start, ended at sale_end.
    Sold out only while the window is open (before it: upcoming; after it: ended). The clauses are the sell
    condition's (goods/selling.py), the same the order path's stock UPDATE runs."""
    return selling.state(goods, now_ms)


# --- field validation (INVALID_PARAMETER naming the field) -----------------------------------------


def _bad(field: str, rule: str, **params: Any) -> Problem:
    return Problem("INVALID_PARAMETER", field, rule, params, named=True)


class _Checks:
    """Collects the problems of one record while reading it field by field."""

    def __init__(self) -> None:
        self.found: list[Problem] = []

    def integer(self, field: str, value: Any, low: int, high: int = MAX_SAFE_INT, unit: str = "") -> int | None:
        if not is_int(value) or not low <= value <= high:
            self.found.append(_bad(field, "int_range", low=low, high=high, unit=unit, value=repr(value)))
            return None
        return int(value)

    def ceiling(self, field: str, value: Any) -> None:
        if over_ceiling(value):
            self.found.append(Problem("AMOUNT_TOO_LARGE", field, "amount_ceiling",
                                      {"ceiling": MAX_AMOUNT, "value": repr(value)}, named=True))

    def flag(self, field: str, value: Any, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.found.append(_bad(field, "bool", value=repr(value)))
            return default
        return value

    def photo(self, value: Any) -> str:
        """Empty, an absolute http(s) URL, or a root-relative path ("/static/x.svg", resolved against the trade
        server, where the pages are); never "//host/…" (another host), a backslash, a space or a control
        character."""
        if value is None or value == "":
            return ""
        rule = ""
        if not isinstance(value, str) or len(value) > 2048:
            rule = "photo_long"
        elif any(c.isspace() or c == "\\" or ord(c) < 32 or ord(c) == 127 for c in value):
            rule = "photo_bad"
        elif value.startswith("//"):
            rule = "photo_host"
        elif not value.startswith("/"):
            try:
                parts = urlsplit(value)
                if parts.scheme not in ("http", "https") or not parts.netloc:
                    rule = "photo_bad"
            except ValueError:  # e.g. an unbalanced [ in the host
                rule = "photo_bad"
        if rule:
            self.found.append(_bad("photo_url", rule))
            return ""
        return str(value)


def _check_photo(value: Any) -> str:
    """A photo URL, or INVALID_PARAMETER naming photo_url."""
    check = _Checks()
    out = check.photo(value)
    raise_first(check.found)
    return out


def _price(check: _Checks, value: Any) -> int | None:
    """The price in fen: at least MIN_PRICE (the price floor, its own message), an exact JavaScript integer."""
    if is_int(value) and value < MIN_PRICE:
        check.found.append(_bad("price", "price_floor", value=repr(value)))
        return None
    return check.integer("price", value, MIN_PRICE, unit=" (fen)")


def goods_problems(record: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Check a whole goods record (create, or an update merged over the stored row): the record normalised
    (defaults for missing or None optional fields) and every rule it breaks, in the order they are checked.
    Labels -> 21511, limits -> 21512, the rest -> INVALID_PARAMETER naming the field."""
    unknown = sorted(set(record) - set(FIELDS))
    if unknown:
        return {}, [Problem("INVALID_PARAMETER", "", "unknown_fields", {"fields": unknown})]
    check = _Checks()
    gid = record.get("goods_id")
    if not isinstance(gid, str) or not GOODS_ID_RE.fullmatch(gid):
        check.found.append(_bad("goods_id", "goods_id"))
    out: dict[str, Any] = {"goods_id": gid}
    name = record.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 256:
        check.found.append(_bad("name", "name"))
    out["name"] = name.strip() if isinstance(name, str) else name
    out["photo_url"] = check.photo(record.get("photo_url"))
    check.ceiling("price", record.get("price"))  # AMOUNT_TOO_LARGE (money.MAX_AMOUNT), before the range below
    out["price"] = _price(check, record.get("price"))
    out["stock"] = check.integer("stock", record.get("stock"), 0)
    start, end = record.get("sale_start"), record.get("sale_end")
    out["sale_start"] = None if start is None else check.integer("sale_start", start, 0, unit=" (epoch ms)")
    out["sale_end"] = None if end is None else check.integer("sale_end", end, 0, unit=" (epoch ms)")
    if out["sale_start"] is not None and out["sale_end"] is not None and out["sale_start"] >= out["sale_end"]:
        check.found.append(_bad("sale_start", "sale_order"))
    out["labels"], found = label_problems(record.get("labels"))
    check.found.extend(found)
    (out["min_limits"], out["max_limits"]), found = limits_problems(record.get("min_limits"), record.get("max_limits"))
    check.found.extend(found)
    rule = record.get("date_rule")
    if rule is None or rule == "":
        rule = DATE_RULE_DEFAULT
    if not isinstance(rule, str) or len(rule) > 256:
        check.found.append(_bad("date_rule", "date_rule"))
    out["date_rule"] = rule
    out["phone_required"] = check.flag("phone_required", record.get("phone_required"), False)
    biz = record.get("biz_line", 1)
    biz = 1 if biz is None else biz
    if not is_int(biz) or biz not in (1, 2):
        check.found.append(_bad("biz_line", "biz_line", value=repr(biz)))
    out["biz_line"] = biz
    out["on_shelf"] = check.flag("on_shelf", record.get("on_shelf"), True)
    days = record.get("valid_days")
    out["valid_days"] = None if days is None else check.integer("valid_days", days, 1, 3650, " days")
    return out, check.found


def validate_goods(record: Mapping[str, Any]) -> dict[str, Any]:
    """Check a whole goods record; return it normalised. The first rule broken raises (a GoodsRulesError, which
    is a TradeError carrying every problem found): labels -> 21511, limits -> 21512, the rest ->
    INVALID_PARAMETER naming the field."""
    out, found = goods_problems(record)
    raise_first(found)
    return out
