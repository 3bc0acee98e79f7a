"""Goods rules, pure (no DB): labels (21511), limits (21512), field checks, label texts, sale state."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from paybutton.errors import TradeError

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

_TEXTS: Final[dict[str, tuple[str, str]]] = {
    EXPIRED_RETURNS: ("过期退", "Refund on expiry"),
    REFUND_ANYTIME: ("随时退", "Refund anytime"),
    RESERVATION_FREE: ("免预约", "No reservation needed"),
    REFUNDABLE_DAYS: ("{n}日内可退", "Refundable within {n} day{s}"),
    BOOK_IN_ADVANCE: ("提前{n}日预约", "Book {n} day{s} in advance"),
    NON_REFUNDABLE: ("不可退", "Non-refundable"),
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

# --- states ----------------------------------------------------------------------------------------

OFF_SHELF: Final = "off_shelf"
UPCOMING: Final = "upcoming"
ON_SALE: Final = "on_sale"
ENDED: Final = "ended"
SOLD_OUT: Final = "sold_out"
STATES: Final = (OFF_SHELF, UPCOMING, ON_SALE, ENDED, SOLD_OUT)


def is_int(value: Any) -> bool:
    """A real integer: bool is not one."""
    return isinstance(value, int) and not isinstance(value, bool)


def _label_error(rule: str) -> TradeError:
    return TradeError("GOODS_LABELS_INVALID", rule)


def validate_labels(labels: Any) -> list[dict[str, Any]]:
    """Check goods labels against the seed's rules; return them normalised ([{type} or {type, value}]).

    None means no labels. Any breach raises GOODS_LABELS_INVALID (21511) naming the rule."""
    if labels is None:
        return []
    if not isinstance(labels, list | tuple):
        raise _label_error("labels must be a list of {type, value?} objects")
    if len(labels) > MAX_LABELS:
        raise _label_error(f"at most {MAX_LABELS} labels are allowed (got {len(labels)})")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, label in enumerate(labels):
        if not isinstance(label, Mapping):
            raise _label_error(f"labels[{i}] must be an object {{type, value?}}")
        unknown = sorted(str(k) for k in label if k not in ("type", "value"))
        if unknown:
            raise _label_error(f"labels[{i}] has unknown keys {unknown}; only type and value are allowed")
        kind = label.get("type")
        if not isinstance(kind, str) or kind not in LABEL_TYPES:
            raise _label_error(f"labels[{i}].type {kind!r} is not one of {', '.join(LABEL_TYPES)}")
        if kind in seen:
            raise _label_error(f"duplicate label type {kind}")
        seen.add(kind)
        value = label.get("value")
        if kind in VALUE_LABELS:
            if value is None:
                raise _label_error(f"{kind} requires value (a number of days)")
            if not is_int(value) or not 1 <= value <= MAX_LABEL_VALUE:
                raise _label_error(f"{kind} value must be an integer in 1..{MAX_LABEL_VALUE}, got {value!r}")
            out.append({"type": kind, "value": value})
        else:
            if value is not None:
                raise _label_error(f"{kind} takes no value (only REFUNDABLE_DAYS and BOOK_IN_ADVANCE do)")
            out.append({"type": kind})
    for a, b in EXCLUSIONS:
        if a in seen and b in seen:
            raise _label_error(f"{a} and {b} are mutually exclusive")
    return out


def validate_limits(min_limits: Any = None, max_limits: Any = None) -> tuple[int, int]:
    """(minLimits, maxLimits) with the seed's defaults; GOODS_LIMITS_INVALID (21512) naming the rule."""
    lo = MIN_LIMITS_DEFAULT if min_limits is None else min_limits
    hi = MAX_LIMITS_DEFAULT if max_limits is None else max_limits
    for name, v in (("min_limits", lo), ("max_limits", hi)):
        if not is_int(v):
            raise TradeError("GOODS_LIMITS_INVALID", f"{name} must be an integer, got {v!r}")
        if not LIMITS_LOW <= v <= LIMITS_HIGH:
            rule = f"{name} must be in {LIMITS_LOW}..{LIMITS_HIGH}, got {v}"
            raise TradeError("GOODS_LIMITS_INVALID", rule)
    if lo > hi:
        raise TradeError("GOODS_LIMITS_INVALID", f"min_limits ({lo}) must not exceed max_limits ({hi})")
    return int(lo), int(hi)


def label_text(label: Mapping[str, Any], lang: str = "zh-CN") -> str:
    """The chip text of a (valid) label: 过期退 / 随时退 / 免预约 / n日内可退 / 提前n日预约 / 不可退."""
    kind = str(label.get("type"))
    template = label_templates(lang).get(kind, kind)
    n = label.get("value")
    return template.format(n=n, s="" if n == 1 else "s")


def label_templates(lang: str = "zh-CN") -> dict[str, str]:
    """The chip templates of one language ({n}: the label's days; {s}: the English plural), for the pages."""
    i = 1 if lang.lower().startswith("en") else 0
    return {kind: texts[i] for kind, texts in _TEXTS.items()}


def label_texts(labels: list[dict[str, Any]], lang: str = "zh-CN") -> list[str]:
    return [label_text(label, lang) for label in labels]


def _get(goods: Any, key: str) -> Any:
    if isinstance(goods, Mapping):
        return goods.get(key)
    mapping = getattr(goods, "_mapping", None)
    if mapping is not None:
        return mapping.get(key)
    return getattr(goods, key, None)


def goods_state(goods: Any, now_ms: int) -> str:
    """off_shelf | upcoming | on_sale | ended | sold_out, for a goods row or dict at `now_ms`.

    The sale window is half-open, [sale_start, sale_end): on sale from sale_start, ended at sale_end.
    Sold out only while the window is open (before it: upcoming; after it: ended)."""
    if not _get(goods, "on_shelf"):
        return OFF_SHELF
    start, end = _get(goods, "sale_start"), _get(goods, "sale_end")
    if start is not None and now_ms < start:
        return UPCOMING
    if end is not None and now_ms >= end:
        return ENDED
    if (_get(goods, "stock") or 0) <= 0:
        return SOLD_OUT
    return ON_SALE


# --- field validation (INVALID_PARAMETER naming the field) -----------------------------------------


def _bad(field: str, rule: str) -> TradeError:
    return TradeError("INVALID_PARAMETER", f"{field} {rule}", field=field)


def check_goods_id(value: Any) -> str:
    if not isinstance(value, str) or not GOODS_ID_RE.fullmatch(value):
        raise _bad("goods_id", "must be 1-64 characters of A-Z a-z 0-9 _ - .")
    return value


def _check_int(field: str, value: Any, low: int, high: int = MAX_SAFE_INT, unit: str = "") -> int:
    if not is_int(value) or not low <= value <= high:
        raise _bad(field, f"must be an integer in {low}..{high}{unit}, got {value!r}")
    return int(value)


def _check_bool(field: str, value: Any, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _bad(field, f"must be true or false, got {value!r}")
    return value


def _check_photo(value: Any) -> str:
    """Empty, an absolute http(s) URL, or a root-relative path ("/static/x.svg", resolved against the trade
    server, where the pages are); never "//host/…" (another host), a backslash, a space or a control character."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or len(value) > 2048:
        raise _bad("photo_url", "must be an http(s) URL or a /path of at most 2048 characters")
    if any(c.isspace() or c == "\\" or ord(c) < 32 or ord(c) == 127 for c in value):
        raise _bad("photo_url", "must be empty, an http(s) URL or a /path")
    if value.startswith("/"):
        if value.startswith("//"):
            raise _bad("photo_url", "must be empty, an http(s) URL or a /path (not //host)")
        return value
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unbalanced [ in the host
        raise _bad("photo_url", "must be empty, an http(s) URL or a /path") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _bad("photo_url", "must be empty, an http(s) URL or a /path")
    return value


def validate_goods(record: Mapping[str, Any]) -> dict[str, Any]:
    """Check a whole goods record (create, or an update merged over the stored row); return it normalised.

    Missing or None optional fields take their defaults. Labels -> 21511, limits -> 21512, the rest ->
    INVALID_PARAMETER naming the field."""
    unknown = sorted(set(record) - set(FIELDS))
    if unknown:
        raise TradeError("INVALID_PARAMETER", f"unknown goods fields {unknown}")
    out: dict[str, Any] = {"goods_id": check_goods_id(record.get("goods_id"))}
    name = record.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 256:
        raise _bad("name", "must be 1-256 characters")
    out["name"] = name.strip()
    out["photo_url"] = _check_photo(record.get("photo_url"))
    out["price"] = _check_int("price", record.get("price"), 0, unit=" (fen)")
    out["stock"] = _check_int("stock", record.get("stock"), 0)
    start, end = record.get("sale_start"), record.get("sale_end")
    out["sale_start"] = None if start is None else _check_int("sale_start", start, 0, unit=" (epoch ms)")
    out["sale_end"] = None if end is None else _check_int("sale_end", end, 0, unit=" (epoch ms)")
    if out["sale_start"] is not None and out["sale_end"] is not None and out["sale_start"] >= out["sale_end"]:
        raise _bad("sale_start", "must be before sale_end")
    out["labels"] = validate_labels(record.get("labels"))
    out["min_limits"], out["max_limits"] = validate_limits(record.get("min_limits"), record.get("max_limits"))
    rule = record.get("date_rule")
    if rule is None or rule == "":
        rule = DATE_RULE_DEFAULT
    if not isinstance(rule, str) or len(rule) > 256:
        raise _bad("date_rule", "must be a string of at most 256 characters")
    out["date_rule"] = rule
    out["phone_required"] = _check_bool("phone_required", record.get("phone_required"), False)
    biz = record.get("biz_line", 1)
    biz = 1 if biz is None else biz
    if not is_int(biz) or biz not in (1, 2):
        raise _bad("biz_line", f"must be 1 (group buying) or 2 (general knowledge), got {biz!r}")
    out["biz_line"] = biz
    out["on_shelf"] = _check_bool("on_shelf", record.get("on_shelf"), True)
    days = record.get("valid_days")
    out["valid_days"] = None if days is None else _check_int("valid_days", days, 1, 3650, " days")
    return out
