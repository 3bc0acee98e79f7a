"""The console in one language at a time: the wire words the data carries (statuses, outcomes, channels, callback
types) in the page's language, the server's error messages without another language's detail, and the goods
form's errors, every one at once, in its field's slot."""

from __future__ import annotations

import re
from typing import Any, Final

from paybutton.errors import REGISTRY, TradeError
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
           "GOODS_LIMITS_INVALID": f"21512 · {REGISTRY['GOODS_LIMITS_INVALID'].en}. "},
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


def goods_message(problems: list[Problem], lang: str) -> str:
    """Problems of one slot as one message: the seed's code and heading for labels and limits, then each rule."""
    if not problems:
        return ""
    sep = "; " if lang == "en" else ";"
    rules = sep.join(p.text(lang) for p in problems)
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
    out, errors = read
    _, problems = goods_rules.goods_problems({"goods_id": values["goods_id"], **out})
    return {**errors, **goods_errors(problems, lang, taken=frozenset(errors))}


def trade_errors(err: TradeError, lang: str, field: str) -> dict[str, str]:
    """A service's refusal on a form: each goods rule in its slot, any other error in `field`'s."""
    if isinstance(err, GoodsRulesError):
        return goods_errors(err.problems, lang)
    return {field: error_text(err, lang)}
