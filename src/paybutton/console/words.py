"""The console in one language at a time: the wire words the data carries (statuses, outcomes, channels, callback
types) in the page's language, the server's error messages without another language's detail, and the goods
form's errors, every one at once, in its field's slot."""

from __future__ import annotations

import re
from typing import Any, Final

from paybutton import i18n
from paybutton.console.texts import TEXTS
from paybutton.errors import TradeError
from paybutton.fulfillment.not_redeemable import NotRedeemable
from paybutton.goods import rules as goods_rules
from paybutton.goods.problems import GoodsRulesError, Problem
from paybutton.i18n import N_, NP_

# Words of the data (English msgids, translated by the catalogs); a (kind, word) key is that event kind's own word
# (SUCCESS of a payment is not SUCCESS of a refund).
WORDS: Final[dict[Any, str]] = {
    "douyin": N_("Douyin Pay"),
    "wechat": N_("WeChat Pay"),
    "alipay": N_("Alipay"),
    "bankcard": N_("bank card"),
    "sandbox": N_("sandbox"),
    "SUCCESS": N_("succeeded"),
    "FAIL": N_("failed"),
    "TIMEOUT": N_("timed out"),
    "USER_CLOSED": N_("closed by the buyer"),
    "CANCEL": N_("cancelled by the buyer"),
    "OPEN_FAILED": N_("could not open the app"),
    "APP_MISSING": N_("payment app missing"),
    "PENDING": N_("waiting for the buyer"),
    "UNKNOWN": N_("outcome unknown"),
    "PROCESSING": N_("processing"),
    "CLOSED": N_("closed"),
    "late": N_("late payment"),
    "OK": N_("accepted"),
    "FAILED": N_("failed"),
    ("ev_paid", "SUCCESS"): N_("paid"),
    ("ev_paid", "FAIL"): N_("payment failed"),
    ("ev_closed", "FAIL"): N_("closed"),
    ("ev_closed", "TIMEOUT"): N_("payment timed out"),
    ("ev_pre_order", "PENDING"): N_("waiting for the merchant"),
    ("ev_refund_end", "SUCCESS"): NP_("console", "refunded"),
    ("ev_refund_end", "FAIL"): N_("refund failed"),
    "AGREE": N_("agreed"),
    "DENY": N_("denied"),
    "OVERTIME": N_("agreed on timeout"),
    "TOAUDIT": N_("to audit"),
    "INIT": N_("no audit needed"),
    "payment": N_("payment notice"),
    "refund": N_("refund notice"),
    "pre_create_refund": N_("refund pre-check (pre_create_refund)"),
    "test": N_("test callback"),
    "DONE": N_("delivered"),
    "DEAD": N_("dead"),
    "NO_URL": N_("no URL"),
    ("ev_callback", "PENDING"): N_("sending"),
}


def word(value: Any, lang: str, kind: str = "") -> str:
    """One wire word in the page's language (itself when it is not one we know)."""
    words = i18n.table(WORDS, lang)
    text = str(value)
    return words.get((kind, text)) or words.get(text) or text


def event_text(e: dict[str, Any], lang: str) -> str:
    """A timeline event's text with its wire words in the page's language: "douyin · SUCCESS" -> "抖音支付 · 支付成功",
    "#2 payment · DONE · 1" -> "#2 支付结果通知 · 已送达 · 1". Free text (a message of several words) is left as
    written."""
    kind = str(e.get("kind", ""))
    parts = []
    for part in str(e.get("text", "")).split(" · "):
        tokens = part.split(" ")
        if len(tokens) > 2:  # a sentence: someone's message, kept as written
            parts.append(part)
            continue
        parts.append(" ".join(word(tok, lang, kind) for tok in tokens))
    return " · ".join(parts)


_REFUND_MESSAGES: Final = {"refunded": NP_("console", "Refunded"),
                            "the channel refused": N_("The payment channel refused the refund")}
_DENIED = "merchant denied: "  # refund/auditing.py writes the merchant's reason after it


def refund_message(message: str | None, lang: str) -> str:
    """A finished refund's result in the page's language ("refunded" -> 已退款); a channel's own message as is."""
    text = message or ""
    if text in _REFUND_MESSAGES:
        return i18n.gettext(lang, _REFUND_MESSAGES[text])
    if text.startswith(_DENIED):
        return i18n.gettext(lang, "The merchant denied it: {reason}").format(reason=text[len(_DENIED):])
    return text


_PROSE = re.compile(r"[A-Za-z]{2,}[ ,:;]+[a-z]{2,}")


def error_text(err: TradeError, lang: str) -> str:
    """The registry's message in the page's language, with the seed's code when it has one (21511, 21512). A
    detail written in English prose is left off a Chinese page (the field it belongs to is marked instead); ids
    and codes are kept."""
    code = err.spec.err_no
    base = err.spec.en if lang == "en" else err.spec.zh
    if isinstance(err, NotRedeemable):
        return err.text(lang)
    if isinstance(err, GoodsRulesError):
        return goods_message(err.problems, lang) or base
    detail = err.message or ""
    if detail and (lang == "en" or not _PROSE.search(detail)):
        base = f"{base}: {detail}"
    elif err.detail.get("field"):
        # the English detail is left off; its field is named
        base = i18n.gettext(lang, "{message} (field {field})").format(message=base, field=err.detail["field"])
    return f"{code} · {base}" if code in (21511, 21512) else base


def refresh_seconds(cb: dict[str, Any], now_ms: int) -> int:
    """How soon a page showing a callback still being sent reloads itself (0: it is settled, no reload): just after
    its next attempt is due, at least 2 s and at most 60 s from now."""
    if cb.get("status") != "PENDING":
        return 0
    due = cb.get("next_attempt_at") or now_ms
    return max(2, min(60, (int(due) - now_ms) // 1000 + 2))


# --- the goods form ---------------------------------------------------------------------------------

# The registry's words, but for a library good: 21511's Chinese text is the seed's, for goods that are not in the
# library (非商品库商品), which a good of the console never is.
HEADINGS: Final = {"GOODS_LABELS_INVALID": N_("21511 · goods labels failed validation: "),
                   "GOODS_LIMITS_INVALID": N_("21512 · The quantity limits are wrong: ")}
# The goods form's slots in the order a person reads them; "" is the form's summary.
GOODS_SLOTS: Final = ("goods_id", "name", "photo_url", "price", "stock", "sale_start", "sale_end", "labels", "limits",
                      "date_rule", "valid_days", "phone_required", "on_shelf", "biz_line", "")


def slot_of(p: Problem) -> str:
    if p.error == "GOODS_LABELS_INVALID":
        return "labels"
    if p.error == "GOODS_LIMITS_INVALID":
        return "limits"
    field = "stock" if p.field == "stock_delta" else p.field
    return field if field in GOODS_SLOTS else ""


# The goods rules in the merchant's words, for the console's form: the API's texts (goods/problems.py) name its JSON
# fields and wire codes (sale_start, REFUND_ANYTIME), which a merchant on the form never sees. {f} is the field's
# label on the form, {a}/{b}/{kind} a label's chip text. A rule not here keeps the API's text.
_CONSOLE_RULES: Final[dict[str, str]] = {
    "price_floor": N_("The price must be at least ¥0.01: a good cannot be free"),
    "int_range": N_("{f} must be a whole number from {low} to {high}, not {value}"),
    "sale_order": N_("The sale must start before it ends"),
    "limit_not_int": N_("{f} must be a whole number, not {value}"),
    "limit_range": N_("{f} must be from {lo} to {hi}, not {value}"),
    "limits_order": N_("The minimum per order ({lo}) must not be more than the maximum ({hi})"),
    "goods_id": N_("The goods id is 1-64 characters: letters, digits and _ - ."),
    "name": N_("The name must be 1-256 characters"),
    "photo_long": N_("The photo URL must be at most 2048 characters"),
    "photo_bad": N_("The photo URL must be empty, an http(s) address or a path starting with /"),
    "photo_host": N_("The photo URL cannot start with //: give the whole http(s) address"),
    "date_rule": N_("The date rule must be at most 256 characters"),
    "stock_below_zero": N_("The stock is now {stock}: this change would take it below 0"),
    "labels_too_many": N_("Choose at most {max} labels (you chose {got})"),
    "label_value_missing": N_("“{kind}” needs a number of days"),
    "label_value_range": N_("The days of “{kind}” must be a whole number from 1 to {max}, not {value}"),
    "labels_exclusive": N_("“{a}” and “{b}” cannot be chosen together"),
}


def rule_text(p: Problem, lang: str) -> str:
    """One broken goods rule in the merchant's words on the console's form."""
    if p.rule not in _CONSOLE_RULES:
        return p.text(lang)
    params = dict(p.params)
    for key in ("kind", "a", "b"):
        if key in params:
            params[key] = goods_rules.label_text({"type": params[key], "value": "x"}, lang)
    if "value" in params:
        params["value"] = str(params["value"]).strip("'")
    label = i18n.table(TEXTS, lang).get(p.field, p.field).split(" (")[0]
    return i18n.gettext(lang, _CONSOLE_RULES[p.rule]).format(f=label, **params)


def goods_message(problems: list[Problem], lang: str) -> str:
    """Problems of one slot as one message: the seed's code and heading for labels and limits, then each rule."""
    if not problems:
        return ""
    sep = "; " if lang == "en" else ";"
    rules = sep.join(rule_text(p, lang) for p in problems)
    heading = i18n.table(HEADINGS, lang).get(problems[0].error)
    return f"{heading}{rules}" if heading else rules


def goods_errors(problems: list[Problem], lang: str, *, taken: frozenset[str] = frozenset()) -> dict[str, str]:
    """Every problem in its field's slot, one message per slot; slots in `taken` (the form could not read that
    field at all, and says so) are left as they are."""
    by_slot: dict[str, list[Problem]] = {}
    for p in problems:
        slot = slot_of(p)
        if slot not in taken:
            by_slot.setdefault(slot, []).append(p)
    return {slot: goods_message(found, lang) for slot, found in by_slot.items()}


def first_slot(errors: dict[str, str]) -> str:
    """The first slot with an error, in reading order: its field gets the focus."""
    return next((s for s in GOODS_SLOTS if s in errors), "")


def goods_form_errors(values: dict[str, Any], lang: str, read: tuple[dict[str, Any], dict[str, str]]
                      ) -> dict[str, str]:
    """Every error of the goods form at once: `read` is what the form could read and its own errors (forms.
    goods_read); the goods rules check the rest, as the service will."""
    out, keys = read
    t = i18n.table(TEXTS, lang)
    errors = {field: t.get(key, key) for field, key in keys.items()}
    _, problems = goods_rules.goods_problems({"goods_id": values["goods_id"], **out})
    return {**errors, **goods_errors(problems, lang, taken=frozenset(errors))}


def trade_errors(err: TradeError, lang: str, field: str) -> dict[str, str]:
    """A service's refusal on a form: each goods rule in its slot, any other error in `field`'s."""
    if isinstance(err, GoodsRulesError):
        return goods_errors(err.problems, lang)
    return {field: error_text(err, lang)}
