"""Generated documentation: docs/errors.md from the error registry and docs/callbacks.md from the server's own
callback body builders, retry schedules and settings. `paybutton docs errors|callbacks [--check]` writes or
checks them; a test keeps the committed files equal to what this module generates."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from paybutton.callbacks import ops
from paybutton.callbacks.body import build_body, identify_name
from paybutton.callbacks.dispatcher import ANSWER_HEAD
from paybutton.callbacks.schedules import SCHEDULES, max_attempts
from paybutton.config import Settings
from paybutton.errors import REGISTRY, SEED_CODES
from paybutton.kernel.signing import SignedHeaders
from paybutton.marketing import rules as marketing
from paybutton.money import split_exact
from paybutton.order import paying
from paybutton.order import rules as order_rules
from paybutton.refund import messages as refund_messages
from paybutton.refund.rules import Source

DOCS = {"errors": "docs/errors.md", "callbacks": "docs/callbacks.md"}


def _cell(text: Any) -> str:
    return "" if text is None else str(text).replace("|", "\\|").replace("\n", " ")


def _table(head: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


# ------------------------------------------------------------------ errors


def errors_markdown() -> str:
    """docs/errors.md: every error of src/paybutton/errors.py, the seed's table first."""
    seed = [[code, s.name, s.zh, s.en] for code, s in sorted(SEED_CODES.items())]
    every = [[f"`{s.name}`", s.err_no if s.err_no is not None else "—", s.error_code, s.sub_error_code,
              s.http_status, s.zh, s.en] for s in REGISTRY.values()]
    return "\n".join([
        "# Error codes",
        "",
        "<!-- Generated from src/paybutton/errors.py by `paybutton docs errors`; do not edit by hand. -->",
        "",
        "Every error the server, the pay-button and the hosted pages can report comes from one registry,",
        "`src/paybutton/errors.py`, which is also served as JSON at `GET /api/errors`. Each error has:",
        "",
        "- **errNo**: the code the pay-button passes to `bind:error` (`event.detail.errNo`) and the buyer API",
        "  answers as `errNo` in `{errNo, errMsg, errLogId, error, detail}` (the seed's table; `—` when the",
        "  component never sees the error: the buyer API then answers the OpenAPI `error_code` as `errNo`);",
        "- **error_code / sub_error_code**: what the platform OpenAPI (`/api/apps/trade/v2/…`, `/oauth/…`) puts in",
        "  `extra.error_code` and `extra.sub_error_code` (reference §18), always with HTTP 200; `extra.description`",
        "  is the zh-CN text and `extra.sub_description` the English one, each followed by the detail;",
        "- **HTTP**: the status of the buyer API (`/api/buyer/v1/…`) and the pages for this error;",
        "- **zh-CN / en**: the messages.",
        "",
        "## The seed's pay-button codes",
        "",
        _table(["errNo", "name", "zh-CN (the seed's meaning)", "en"], seed),
        "",
        "## Every error, by name",
        "",
        _table(["name", "errNo", "error_code", "sub_error_code", "HTTP", "zh-CN", "en"], every),
        "",
    ])


# ------------------------------------------------------------------ callbacks: examples built by the server's code

APP_ID = "tt5eed000000000001"
OPEN_ID = "demo-buyer-1"
ORDER_ID = "ot2611261200004815162342"
ITEMS = ["it2611261200001000000001", "it2611261200001000000002"]
REFUND_ID = "rf2611261205007000000001"
T0 = 1_795_665_600_000  # 2026-11-26 12:00:00 +08:00
LINE = marketing.Line(goods_id="demo-hotpot", goods_id_type=1, quantity=2, price=16800)
COUPON = marketing.Choice("cp-20off", 1, marketing.GOODS)
FULL_REDUCTION = marketing.Choice("mj-300-30", 2, marketing.ORDER)


def _offers_answer() -> dict[str, Any]:
    """An example query_marketing_info answer `data` (checked with the server's parser below)."""
    return {
        "goods_valid_marketing_info": [{"goods_id": LINE.goods_id, "marketing_info": [
            {"id": COUPON.id, "type": COUPON.type, "title": "立减 20 元", "note": "每单限用一张"}]}],
        "goods_invalid_marketing_info": [],
        "order_valid_marketing_info": [{"id": FULL_REDUCTION.id, "type": FULL_REDUCTION.type, "title": "满 300 减 30"}],
        "order_invalid_marketing_info": [{"id": "vip-only", "type": 1, "title": "会员 9 折", "reason": "仅限会员"}],
    }


def _calculation() -> dict[str, Any]:
    """An example calculate_price answer `data` (= price_calculation_detail): the coupon on the goods line."""
    return {
        "calculation_type": 1,
        "goods_discount_detail": [{
            "goods_id": LINE.goods_id, "quantity": LINE.quantity, "total_amount": LINE.total,
            "total_discount_amount": 2000,
            "marketing_detail_info": [{"id": COUPON.id, "type": COUPON.type, "discount_amount": 2000,
                                       "title": "立减 20 元"}]}],
        "item_discount_detail": [],
        "order_discount_detail": {"order_total_discount_amount": 2000, "goods_total_discount_amount": 2000,
                                  "marketing_detail_info": []},
    }


def _pricing() -> marketing.Pricing:
    marketing.parse_offers(_offers_answer(), LINE)  # the example answers must pass the server's own checks
    return marketing.parse_calculation(_calculation(), LINE, {COUPON.id})


def _order() -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """An order row as the order path writes it (2 units of a library good, with the coupon), its item orders
    and the goods snapshot."""
    pricing = _pricing()
    total = LINE.total
    prices = split_exact(total - pricing.discount, LINE.quantity)
    o = {
        "order_id": ORDER_ID, "app_id": APP_ID, "out_order_no": None, "open_id": OPEN_ID,
        "goods_id": LINE.goods_id, "goods_type": 1, "quantity": LINE.quantity, "unit_price": LINE.price,
        "total_amount": total, "discount_amount": pricing.discount, "status": "INIT", "phone_num": "13800138000",
        "contact_name": "张三", "cp_extra": "table=12", "price_calculation_detail": json.dumps(pricing.detail),
        "order_entry_schema": None, "delivery_type": 1, "biz_line": 1, "legacy": False,
        "pay_expire_at": T0 + 300_000, "created_at": T0, "updated_at": T0,
    }
    items = [{"item_order_id": iid, "order_id": ORDER_ID, "price": p} for iid, p in zip(ITEMS, prices, strict=True)]
    snap = {"name": "双人火锅套餐", "photo_url": "https://shop.example/hotpot.png",
            "labels": [{"type": "EXPIRED_RETURNS"}, {"type": "BOOK_IN_ADVANCE", "value": 1}],
            "date_rule": "周一至周日可用"}
    return o, items, snap


def _paid() -> dict[str, Any]:
    o, _, _ = _order()
    return {**o, "out_order_no": "SHOP-20261126-0001", "status": "SUCCESS", "pay_channel": 10,
            "channel_pay_id": "sbx_py2611261201000000000001", "paid_at": T0 + 60_000, "updated_at": T0 + 60_000}


def _refund(status: str = "PROCESSING") -> dict[str, Any]:
    return {
        "refund_id": REFUND_ID, "app_id": APP_ID, "order_id": ORDER_ID, "out_refund_no": None, "status": status,
        "refund_total_amount": 15800, "source": int(Source.USER), "audit_status": "INIT", "need_refund_audit": 1,
        "refund_audit_deadline": T0 + 300_000 + 3 * 86_400_000, "deny_message": None,
        "reason": json.dumps(["不想要了"], ensure_ascii=False), "description": "临时有事", "cp_extra": "",
        "notify_url": None, "message": None, "created_at": T0 + 300_000, "refund_at": None, "updated_at": T0 + 300_000,
    }


def _pre_create_order() -> dict[str, Any]:
    o, items, snap = _order()
    return order_rules.pre_order_msg(APP_ID, o, items, snap)


def _payment() -> dict[str, Any]:
    return paying.payment_msg(_paid(), "SUCCESS")


def _pre_create_refund() -> dict[str, Any]:
    p = _paid()
    order = SimpleNamespace(app_id=p["app_id"], open_id=p["open_id"], order_id=p["order_id"],
                            out_order_no=p["out_order_no"])
    return refund_messages.pre_refund_msg(order, _refund(), {ITEMS[0]: 15800})


def _refund_notify() -> dict[str, Any]:
    r = {**_refund("SUCCESS"), "out_refund_no": "SHOP-R-0001", "message": "refunded", "refund_at": T0 + 420_000,
         "updated_at": T0 + 420_000}
    return refund_messages.refund_msg(r, [{"item_order_id": ITEMS[0], "amount": 15800}])


def _test() -> dict[str, Any]:
    return ops.build_test_msg(APP_ID, "payment", "https://shop.example/cb/payment", T0, "tst0123456789abcdef")


def _ok(data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"err_no": 0, "err_tips": "success", "data": data or {}}


@dataclass(frozen=True)
class Kind:
    type: str
    title: str
    url: str  # the app setting it goes to
    how: str  # synchronous / outbox / sync-then-outbox (one call while the buyer waits, then the outbox retries)
    when: str
    msg: Callable[[], dict[str, Any]]
    answer: dict[str, Any]
    after: str  # what the server does with the answer


def _kinds() -> list[Kind]:
    pre_order_answer = _ok({"out_order_no": "SHOP-20261126-0001", "pay_expire_seconds": 300, "order_entry_schema": {
        "path": "pages/orderDetail/orderDetail", "params": json.dumps({"orderId": ORDER_ID}, separators=(",", ":"))}})
    order_rules.parse_pre_order_answer(pre_order_answer["data"])  # the documented answer is one the server takes
    combined = {**_offers_answer(), "price_calculation_detail": _calculation()}
    return [
        Kind("pre_create_order", "Pre-order extension point (预下单)", "`pre_order_url`", "synchronous",
             "when the buyer taps 立即支付 on order-confirm, after the stock is taken and the order and its item "
             "orders are written (status INIT); merchant goods (goods-type 2) cannot be sold without it",
             _pre_create_order, pre_order_answer,
             "`out_order_no` (1–64 bytes, unique per app) is stored and the order can be paid; optional "
             "`pay_expire_seconds` (1–172800, default the app's) and `order_entry_schema` `{path, params}`. "
             "A non-zero `err_no` ends the order FAIL with 21518 (`PRE_ORDER_REFUSED`); a timeout, a non-200, "
             "a non-JSON answer or one without a valid `out_order_no` ends it FAIL with 21517; a reused "
             "`out_order_no` with 21518 (`OUT_ORDER_NO_DUPLICATE`). The stock is given back in each case."),
        Kind("query_marketing_info", "Marketing: the buyer's offers (marketingVersion 1)", "`marketing_url`",
             "synchronous", "when order-confirm opens for a `marketing-ready` button with marketingVersion 1",
             lambda: marketing.query_msg(APP_ID, OPEN_ID, LINE), _ok(_offers_answer()),
             "the usable offers are shown (goods-level and order-level), the unusable ones greyed with their "
             "`reason`; the first usable one is pre-selected and priced with `calculate_price`. The per-goods "
             "lists must name exactly the goods asked about, ids must be unique, `type` in 1–4."),
        Kind("calculate_price", "Marketing: price the buyer's choice (marketingVersion 1)", "`marketing_url`",
             "synchronous", "when the buyer changes the choice on order-confirm, and again when the order is "
             "placed with a choice (the server prices it itself: the page's figure is never trusted)",
             lambda: marketing.calculate_msg(APP_ID, OPEN_ID, LINE, [COUPON]), _ok(_calculation()),
             "`data` is the `price_calculation_detail`: every figure an integer fen ≥ 0, the goods line as asked, "
             "each dimension's total the sum of its parts, the discount within the total, only chosen offers "
             "applied (otherwise: inconsistent, the platform's 21004). The discount goes into the order, "
             "`pre_create_order` and the item prices."),
        Kind("query_and_calculate", "Marketing: offers and price in one call (marketingVersion 2)", "`marketing_url`",
             "synchronous", "when order-confirm opens (`need_default_marketing: true`: answer your best default) "
             "and when the buyer changes the choice or places the order with one",
             lambda: marketing.query_and_calculate_msg(APP_ID, OPEN_ID, LINE, None), _ok(combined),
             "the offers as for `query_marketing_info` plus `price_calculation_detail` as for `calculate_price`."),
        Kind("payment", "Payment result notify", "`payment_notify_url`", "outbox",
             "in the transaction that records a payment (status SUCCESS), and in the one that times out an "
             "unpaid order the merchant had accepted (status CANCEL, `message` TIME_OUT)", _payment, _ok(),
             "nothing but the acknowledgement: handle it idempotently (duplicates happen) and poll "
             "`order/query_order` if it is late."),
        Kind("pre_create_refund", "Refund extension point (退款预处理)", "`refund_url`", "sync-then-outbox",
             "when a buyer's refund (refund_source 1) or an automatic one (3) has been created (the refund and the "
             "money it holds are committed first), when the app has a `refund_url` (without one the refund goes "
             "on with `out_refund_no` = `refund_id`). For a buyer's apply it is sent at once, while the buyer "
             "waits: your `out_refund_no` is in the apply answer and in the page's `bind:refund` (`outRefundNo`); "
             "if that call fails or times out the answer says `outRefundNoPending: true` and the outbox retries. "
             "The refund waits in PROCESSING until this is answered. Do not refuse here: refuse in the audit",
             _pre_create_refund, _ok({"out_refund_no": "SHOP-R-0001"}),
             "`out_refund_no` (unique per app; a duplicate or a missing one counts as a failed attempt and is "
             "retried), optional `notify_url` (where the `refund` notify goes) and `order_entry_schema`. Then "
             "the audit when `need_refund_audit` is 1 (`refund/merchant_audit_callback` before "
             "`refund_audit_deadline`, else OVERTIME = agreed), then the cashier refunds. A dead letter here "
             "means the refund goes on with `out_refund_no` = `refund_id`, as the platform does after 3 days."),
        Kind("refund", "Refund result notify", "`notify_url` of the refund, else `refund_url`, else "
             "`payment_notify_url`", "outbox", "in the transaction that ends a refund (SUCCESS or FAIL)",
             _refund_notify, _ok(), "nothing but the acknowledgement (idempotently, as for `payment`)."),
        Kind("test", "Test callback (ours: the reference has no such type)", "the URL of the `kind` asked for "
             "(`pre_create_order` → `pre_order_url`, `payment` → `payment_notify_url`, `pre_create_refund` → "
             "`refund_url`, `refund` → `refund_url` else `payment_notify_url`, `marketing` → `marketing_url`)",
             "outbox", "when the merchant asks: `POST /api/apps/trade/v2/callbacks/test` or `paybutton callbacks "
             "test --app … --kind …`", _test, _ok(),
             "nothing: it is logged like every other callback (`callbacks/query` shows the attempt and the "
             "answer head). One attempt, no retries. Answer it like the others: check the signature, then "
             "`err_no` 0."),
    ]


def _fmt_seconds(s: int) -> str:
    if s % 3600 == 0:
        return f"{s // 3600} h"
    if s % 60 == 0 and s >= 60:
        return f"{s // 60} min"
    return f"{s} s"


def _steps(steps: tuple[int, ...]) -> str:
    if not steps:
        return "none (one attempt)"
    out: list[str] = []
    i = 0
    while i < len(steps):
        j = i
        while j + 1 < len(steps) and steps[j + 1] == steps[i]:
            j += 1
        n = j - i + 1
        out.append(_fmt_seconds(steps[i]) + (f" × {n}" if n > 1 else ""))
        i = j + 1
    return ", ".join(out)


def _headers(kind: str) -> dict[str, str]:
    signed = SignedHeaders(str(T0 // 1000), "9f1c2e3d4b5a69788796a5b4c3d2e1f0", "<base64 signature, 344 characters>")
    return signed.as_headers(identify_name(kind), "20261126040000A1B2C3D4E5F6")


def callbacks_markdown() -> str:
    """docs/callbacks.md: every callback type with headers, an exact example body, the answer and the schedule."""
    s = Settings.model_fields
    pre_budget = f'{s["pre_order_timeout_seconds"].default:g}'
    cb_timeout = f'{s["callback_timeout_seconds"].default:g}'
    refund_budget = f'{s["pre_refund_timeout_seconds"].default:g}'
    kinds = _kinds()

    def delivery(k: Kind) -> str:
        if k.how == "synchronous":
            return f"one call, {pre_budget} s budget"
        outbox = f"outbox, schedule `{k.type}`, {cb_timeout} s per attempt"
        return f"a buyer's apply: one call, {refund_budget} s budget; then {outbox}" if k.how != "outbox" else outbox

    overview = [[f"[`{k.type}`](#{k.type})", k.title, identify_name(k.type), k.url, delivery(k)] for k in kinds]
    sched_rows = [[f"`{name}`", _steps(steps), max_attempts(name), _fmt_total(sum(steps))]
                  for name, steps in SCHEDULES.items()]
    out = [
        "# Callbacks: the catalogue",
        "",
        "<!-- Generated by `paybutton docs callbacks` from the server's own body builders, retry schedules and",
        "     settings; do not edit by hand. -->",
        "",
        "paybutton calls the merchant's server the way the Douyin trade system 2.0 does (reference §12–§15). Every",
        "callback is an HTTP `POST` with `Content-Type: application/json`, the body",
        "`{\"version\":\"2.0\",\"type\":TYPE,\"msg\":\"<JSON string>\"}` (`msg` is a string: parse it a second time)",
        "and these headers:",
        "",
        _table(["header", "example", "meaning"], [
            ["Byte-Identifyname", "`/order/payment_notify_url`", "the callback's path name (per type, below)"],
            ["Byte-Logid", "`20261126040000A1B2C3D4E5F6`", "log id of this attempt (also in the callback log)"],
            ["Byte-Nonce-Str", "`9f1c2e3d4b5a69788796a5b4c3d2e1f0`", "32 random hex characters, new per attempt"],
            ["Byte-Timestamp", f"`{T0 // 1000}`", "seconds, when this attempt was signed"],
            ["Byte-Signature", "base64", "RSA-PKCS1v15-SHA256 with the platform key over "
             "`timestamp + \"\\n\" + nonce + \"\\n\" + raw_body + \"\\n\"`"],
        ]),
        "",
        "Verify the signature over the **raw bytes** of the body with the platform public key (`paybutton keys "
        "show`,",
        "`GET /api/platform/public_key`); see the [integration guide](integration-guide.md#verifying-a-callback) and",
        "the [merchant library](merchant-library.md). A retried callback sends the same body bytes with a new",
        "nonce, timestamp, signature and log id.",
        "",
        "**The answer.** HTTP 200 with a JSON object `{\"err_no\": 0, \"err_tips\": \"success\", \"data\": {…}}`.",
        "Anything else is a failed attempt: another HTTP status, a body that is not JSON, no integer `err_no`,",
        f"a non-zero `err_no`, no answer within the time budget, a refused connection. The first {ANSWER_HEAD}",
        "characters of every answer are kept in the callback log (`last_answer_head`), with the error.",
        "",
        "## The types",
        "",
        _table(["type", "what", "Byte-Identifyname", "sent to (app setting)", "delivery"], overview),
        "",
        "**Synchronous** calls happen while the buyer waits, within `pre_order_timeout_seconds`",
        f"(default {pre_budget} s; the marketing calls of one page action share one such budget). Each is recorded",
        "in the callback attempts and never retried; a marketing failure prices the order at full price.",
        "**Outbox** callbacks are written in the same database transaction as the change they report, then sent",
        "by the dispatcher of any running server, each attempt with `callback_timeout_seconds`",
        f"(default {cb_timeout} s), retried on the type's schedule and finally marked `DEAD`. Their statuses:",
        "`PENDING` (due or waiting for its next try), `DONE` (answered `err_no` 0), `DEAD` (schedule exhausted:",
        "a dead letter), `NO_URL` (the app had no URL for it when it was written: logged, never sent).",
        "",
        "## Retry schedules",
        "",
        "The first attempt is immediate; the schedule is the wait before each retry "
        "(`src/paybutton/callbacks/schedules.py`).",
        "",
        _table(["schedule", "waits before retry 1, 2, …", "attempts in all", "first to last attempt"], sched_rows),
        "",
        "## Operating callbacks",
        "",
        "Every callback and every attempt can be read and a dead letter replayed: with the app's `access-token`",
        "(answers in the `{data, extra}` envelope), from the CLI, or from the console's callback log",
        "(`/console/callbacks`):",
        "",
        _table(["what", "OpenAPI (POST, JSON body)", "CLI"], [
            ["the log, newest first; filters `type`, `status`, `order_id`, `refund_id`; `limit` ≤ 200, `cursor`",
             "`/api/apps/trade/v2/callbacks/list`", "`paybutton callbacks list --app … [--type] [--status] "
             "[--order] [--refund] [--limit] [--cursor] [--json]`"],
            ["one callback: exact body, answer data, every attempt", "`/api/apps/trade/v2/callbacks/query` "
             "`{callback_id}`", "`paybutton callbacks show ID --app … [--json]`"],
            ["every attempt, newest first, with the synchronous calls (`callback_id` null); filters `type`, "
             "`order_id`, `ok`, `synchronous`", "`/api/apps/trade/v2/callbacks/attempts`",
             "`paybutton callbacks attempts --app … [--type] [--order] [--failed] [--sync|--outbox] [--json]`"],
            ["replay a dead letter (same bytes, same URL, fresh schedule); anything but `DEAD` is refused "
             "(`CALLBACK_NOT_REPLAYABLE`)", "`/api/apps/trade/v2/callbacks/replay` `{callback_id}`",
             "`paybutton callbacks replay ID --app …`"],
            ["send a signed `test` callback; `wait_seconds` (≤ 10) waits for the answer",
             "`/api/apps/trade/v2/callbacks/test` `{kind, wait_seconds}`",
             "`paybutton callbacks test --app … [--kind payment] [--wait 10]`"],
        ]),
        "",
    ]
    for k in kinds:
        msg = k.msg()
        body = build_body(k.type, msg).decode()
        headers = _headers(k.type)
        steps = SCHEDULES.get(k.type)
        out += [
            f"## `{k.type}`",
            "",
            f"**{k.title}.** Sent {k.when}.",
            "",
            f"- To: {k.url}; `Byte-Identifyname: {identify_name(k.type)}`.",
            (f"- Delivery: synchronous, within the {pre_budget} s budget; never retried."
             if k.how == "synchronous" else
             f"- Delivery: for a buyer's apply, first one call while the buyer waits, within "
             f"`pre_refund_timeout_seconds` ({refund_budget} s), logged as attempt 1; when it fails (or for an "
             f"automatic refund), outbox, {cb_timeout} s per attempt, retries: {_steps(steps or ())}."
             if k.how == "sync-then-outbox" else
             f"- Delivery: outbox, {cb_timeout} s per attempt, retries: {_steps(steps or ())}."),
            "",
            "Headers:",
            "",
            "```http",
            f"POST /cb/{k.type} HTTP/1.1",
            *(f"{h}: {v}" for h, v in headers.items()),
            "```",
            "",
            "Body (the exact bytes, one line):",
            "",
            "```json",
            body,
            "```",
            "",
            "`msg`, parsed:",
            "",
            "```json",
            json.dumps(msg, ensure_ascii=False, indent=2),
            "```",
            "",
            "Answer:",
            "",
            "```json",
            json.dumps(k.answer, ensure_ascii=False, indent=2),
            "```",
            "",
            f"Then: {k.after}",
            "",
        ]
    return "\n".join(out)


def _fmt_total(seconds: int) -> str:
    if seconds == 0:
        return "—"
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    parts = [f"{h} h" if h else "", f"{m} min" if m else "", f"{s} s" if s else ""]
    return " ".join(p for p in parts if p)


GENERATORS: dict[str, Callable[[], str]] = {"errors": errors_markdown, "callbacks": callbacks_markdown}
