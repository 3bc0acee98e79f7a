"""The console in one language at a time: the wire words the data carries (statuses, outcomes, channels, callback
types) in the page's language, the server's error messages without another language's detail, and the goods
form's errors, every one at once, in its field's slot."""

from __future__ import annotations

import re
from typing import Any, Final

from paybutton.console.texts import TEXTS
from paybutton.errors import REGISTRY, TradeError
from paybutton.fulfillment.not_redeemable import NotRedeemable
from paybutton.goods import rules as goods_rules
from paybutton.goods.problems import GoodsRulesError, Problem

# Words of the data, by language; a (kind, word) key is that event kind's own word (SUCCESS of a payment is not
# SUCCESS of a refund).
_ZH: Final[dict[Any, str]] = {
    "douyin": "抖音支付", "wechat": "微信支付", "alipay": "支付宝", "bankcard": "银行卡", "sandbox": "沙盒",
    "SUCCESS": "成功", "FAIL": "失败", "TIMEOUT": "超时", "USER_CLOSED": "买家关闭收银台", "CANCEL": "买家取消",
    "OPEN_FAILED": "调起支付失败", "APP_MISSING": "未安装支付应用", "PENDING": "等待买家支付", "UNKNOWN": "结果未知",
    "PROCESSING": "处理中", "CLOSED": "已关闭", "late": "迟到的支付", "OK": "成功", "FAILED": "失败",
    ("ev_paid", "SUCCESS"): "支付成功", ("ev_paid", "FAIL"): "支付失败",
    ("ev_closed", "FAIL"): "已关闭", ("ev_closed", "TIMEOUT"): "支付超时",
    ("ev_pre_order", "PENDING"): "等待商家应答",
    ("ev_refund_end", "SUCCESS"): "退款成功", ("ev_refund_end", "FAIL"): "退款失败",
    "AGREE": "已同意", "DENY": "已拒绝", "OVERTIME": "超时自动同意", "TOAUDIT": "待审核", "INIT": "无需审核",
    "payment": "支付结果通知", "refund": "退款结果通知", "pre_create_refund": "退款预审 (pre_create_refund)",
    "test": "测试回调", "DONE": "已送达", "DEAD": "失败", "NO_URL": "未配置地址",
    ("ev_callback", "PENDING"): "发送中",
}
_EN: Final[dict[Any, str]] = {
    "douyin": "Douyin Pay", "wechat": "WeChat Pay", "alipay": "Alipay", "bankcard": "bank card",
    "sandbox": "sandbox", "SUCCESS": "succeeded", "FAIL": "failed", "TIMEOUT": "timed out",
    "USER_CLOSED": "closed by the buyer", "CANCEL": "cancelled by the buyer", "OPEN_FAILED": "could not open the app",
    "APP_MISSING": "payment app missing", "PENDING": "waiting for the buyer", "UNKNOWN": "outcome unknown",
    "PROCESSING": "processing", "CLOSED": "closed", "late": "late payment", "OK": "accepted", "FAILED": "failed",
    ("ev_paid", "SUCCESS"): "paid", ("ev_paid", "FAIL"): "payment failed",
    ("ev_closed", "FAIL"): "closed", ("ev_closed", "TIMEOUT"): "payment timed out",
    ("ev_pre_order", "PENDING"): "waiting for the merchant",
    ("ev_refund_end", "SUCCESS"): "refunded", ("ev_refund_end", "FAIL"): "refund failed",
    "AGREE": "agreed", "DENY": "denied", "OVERTIME": "agreed on timeout", "TOAUDIT": "to audit",
    "INIT": "no audit needed", "payment": "payment notice", "refund": "refund notice",
    "pre_create_refund": "refund pre-check (pre_create_refund)", "test": "test callback", "DONE": "delivered",
    "DEAD": "dead", "NO_URL": "no URL", ("ev_callback", "PENDING"): "sending",
}
WORDS: Final = {"zh-CN": _ZH, "en": _EN}


def word(value: Any, lang: str, kind: str = "") -> str:
    """One wire word in the page's language (itself when it is not one we know)."""
    words = WORDS["en" if lang == "en" else "zh-CN"]
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


_REFUND_MESSAGES: Final = {
    "zh-CN": {"refunded": "已退款", "the channel refused": "支付渠道拒绝退款", "merchant denied: ": "商家拒绝:"},
    "en": {"refunded": "Refunded", "the channel refused": "The payment channel refused the refund",
           "merchant denied: ": "The merchant denied it: "},
}


def refund_message(message: str | None, lang: str) -> str:
    """A finished refund's result in the page's language ("refunded" -> 已退款); a channel's own message as is."""
    texts = _REFUND_MESSAGES["en" if lang == "en" else "zh-CN"]
    text = message or ""
    if text in texts:
        return texts[text]
    prefix = "merchant denied: "
    if text.startswith(prefix):
        return texts[prefix] + text[len(prefix):]
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
        base = f"{base} (字段 {err.detail['field']})"  # the English detail is left off; its field is named
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
HEADINGS: Final = {
    "zh-CN": {"GOODS_LABELS_INVALID": "21511 · 商品标签校验不通过:",
              "GOODS_LIMITS_INVALID": f"21512 · {REGISTRY['GOODS_LIMITS_INVALID'].zh}。"},
    "en": {"GOODS_LABELS_INVALID": f"21511 · {REGISTRY['GOODS_LABELS_INVALID'].en}: ",
           "GOODS_LIMITS_INVALID": "21512 · The quantity limits are wrong: "},  # the registry's names minLimits
}
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


# The goods rules in the merchant's words, for the console's form (zh-CN, en): the API's texts (goods/problems.py)
# name its JSON fields and wire codes (sale_start, REFUND_ANYTIME), which a merchant on the form never sees. {f} is
# the field's label on the form, {a}/{b}/{kind} a label's chip text. A rule not here keeps the API's text.
_CONSOLE_RULES: Final[dict[str, tuple[str, str]]] = {
    "price_floor": ("价格须至少 ¥0.01:商品不能免费或为负数", "The price must be at least ¥0.01: a good cannot be free"),
    "int_range": ("{f}须为 {low} 到 {high} 之间的整数,当前为 {value}",
                  "{f} must be a whole number from {low} to {high}, not {value}"),
    "sale_order": ("开售时间须早于停售时间", "The sale must start before it ends"),
    "limit_not_int": ("{f}须为整数,当前为 {value}", "{f} must be a whole number, not {value}"),
    "limit_range": ("{f}须在 {lo} 到 {hi} 之间,当前为 {value}", "{f} must be from {lo} to {hi}, not {value}"),
    "limits_order": ("起购份数 ({lo}) 不能大于限购份数 ({hi})",
                     "The minimum per order ({lo}) must not be more than the maximum ({hi})"),
    "goods_id": ("商品 ID 须为 1-64 位,只含字母、数字和 _ - .",
                 "The goods id is 1-64 characters: letters, digits and _ - ."),
    "name": ("名称须为 1-256 个字符", "The name must be 1-256 characters"),
    "photo_long": ("图片地址最长 2048 个字符", "The photo URL must be at most 2048 characters"),
    "photo_bad": ("图片地址须为空、http(s) 网址或以 / 开头的路径",
                  "The photo URL must be empty, an http(s) address or a path starting with /"),
    "photo_host": ("图片地址不能以 // 开头:请写完整的 http(s) 网址",
                   "The photo URL cannot start with //: give the whole http(s) address"),
    "date_rule": ("使用日期说明最长 256 个字符", "The date rule must be at most 256 characters"),
    "stock_below_zero": ("库存已变为 {stock}:按此修改会低于 0",
                         "The stock is now {stock}: this change would take it below 0"),
    "labels_too_many": ("最多选择 {max} 个标签(现选 {got} 个)", "Choose at most {max} labels (you chose {got})"),
    "label_value_missing": ("「{kind}」须填写天数", "“{kind}” needs a number of days"),
    "label_value_range": ("「{kind}」的天数须为 1 到 {max} 之间的整数,当前为 {value}",
                          "The days of “{kind}” must be a whole number from 1 to {max}, not {value}"),
    "labels_exclusive": ("「{a}」与「{b}」互斥,不能同时选择", "“{a}” and “{b}” cannot be chosen together"),
}


def rule_text(p: Problem, lang: str) -> str:
    """One broken goods rule in the merchant's words on the console's form."""
    pair = _CONSOLE_RULES.get(p.rule)
    if pair is None:
        return p.text(lang)
    en = lang == "en"
    t = TEXTS["en" if en else "zh-CN"]
    params = dict(p.params)
    for key in ("kind", "a", "b"):
        if key in params:
            params[key] = goods_rules.label_text({"type": params[key], "value": "x"}, lang)
    if "value" in params:
        params["value"] = str(params["value"]).strip("'")
    label = t.get(p.field, p.field).split(" (")[0]
    return (pair[1] if en else pair[0]).format(f=label, **params)


def goods_message(problems: list[Problem], lang: str) -> str:
    """Problems of one slot as one message: the seed's code and heading for labels and limits, then each rule."""
    if not problems:
        return ""
    sep = "; " if lang == "en" else ";"
    rules = sep.join(rule_text(p, lang) for p in problems)
    heading = HEADINGS["en" if lang == "en" else "zh-CN"].get(problems[0].error)
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
    t = TEXTS["en" if lang == "en" else "zh-CN"]
    errors = {field: t.get(key, key) for field, key in keys.items()}
    _, problems = goods_rules.goods_problems({"goods_id": values["goods_id"], **out})
    return {**errors, **goods_errors(problems, lang, taken=frozenset(errors))}


def trade_errors(err: TradeError, lang: str, field: str) -> dict[str, str]:
    """A service's refusal on a form: each goods rule in its slot, any other error in `field`'s."""
    if isinstance(err, GoodsRulesError):
        return goods_errors(err.problems, lang)
    return {field: error_text(err, lang)}
