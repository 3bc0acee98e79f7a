"""One entry per callback type for docs/callbacks.md: where it goes, when it is sent, an example message and answer
(checked by the server's own parsers), and what the server does with the answer."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from paybutton.docsgen import examples as ex
from paybutton.marketing import rules as marketing
from paybutton.order import rules as order_rules


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


def _pre_create_order() -> Kind:
    params = json.dumps({"orderId": ex.ORDER_ID}, separators=(",", ":"))
    answer = ex.ok({"out_order_no": "SHOP-20261126-0001", "pay_expire_seconds": 300,
                    "order_entry_schema": {"path": "pages/orderDetail/orderDetail", "params": params}})
    order_rules.parse_pre_order_answer(answer["data"])  # the documented answer is one the server takes
    return Kind(
        "pre_create_order", "Pre-order extension point (预下单)", "`pre_order_url`", "synchronous",
        "when the buyer taps 立即支付 on order-confirm, after the stock is taken and the order and its item "
        "orders are written (status INIT); merchant goods (goods-type 2) cannot be sold without it",
        ex.pre_create_order_msg, answer,
        "`out_order_no` (1–64 bytes, unique per app) is stored and the order can be paid; optional "
        "`pay_expire_seconds` (1–172800, default the app's) and `order_entry_schema` `{path, params}`. "
        "A non-zero `err_no` ends the order FAIL with 21518 (`PRE_ORDER_REFUSED`); a timeout, a non-200, "
        "a non-JSON answer or one without a valid `out_order_no` ends it FAIL with 21517; a reused "
        "`out_order_no` with 21518 (`OUT_ORDER_NO_DUPLICATE`). The stock is given back in each case.")


def _marketing_kinds() -> list[Kind]:
    combined = {**ex.offers_answer(), "price_calculation_detail": ex.calculation()}
    return [
        Kind("query_marketing_info", "Marketing: the buyer's offers (marketingVersion 1)", "`marketing_url`",
             "synchronous", "when order-confirm opens for a `marketing-ready` button with marketingVersion 1",
             lambda: marketing.query_msg(ex.APP_ID, ex.OPEN_ID, ex.LINE), ex.ok(ex.offers_answer()),
             "the usable offers are shown (goods-level and order-level), the unusable ones greyed with their "
             "`reason`; the first usable one is pre-selected and priced with `calculate_price`. The per-goods "
             "lists must name exactly the goods asked about, ids must be unique, `type` in 1–4."),
        Kind("calculate_price", "Marketing: price the buyer's choice (marketingVersion 1)", "`marketing_url`",
             "synchronous", "when the buyer changes the choice on order-confirm, and again when the order is "
             "placed with a choice (the server prices it itself: the page's figure is never trusted)",
             lambda: marketing.calculate_msg(ex.APP_ID, ex.OPEN_ID, ex.LINE, [ex.COUPON]), ex.ok(ex.calculation()),
             "`data` is the `price_calculation_detail`: every figure an integer fen ≥ 0, the goods line as asked, "
             "each dimension's total the sum of its parts, the discount within the total, only chosen offers "
             "applied (otherwise: inconsistent, the platform's 21004). The discount goes into the order, "
             "`pre_create_order` and the item prices."),
        Kind("query_and_calculate", "Marketing: offers and price in one call (marketingVersion 2)", "`marketing_url`",
             "synchronous", "when order-confirm opens (`need_default_marketing: true`: answer your best default) "
             "and when the buyer changes the choice or places the order with one",
             lambda: marketing.query_and_calculate_msg(ex.APP_ID, ex.OPEN_ID, ex.LINE, None), ex.ok(combined),
             "the offers as for `query_marketing_info` plus `price_calculation_detail` as for `calculate_price`."),
    ]


PAYMENT = Kind(
    "payment", "Payment result notify", "`payment_notify_url`", "outbox",
    "in the transaction that records a payment (status SUCCESS), and in the one that times out an "
    "unpaid order the merchant had accepted (status CANCEL, `message` TIME_OUT)", ex.payment_msg, ex.ok(),
    "nothing but the acknowledgement: handle it idempotently (duplicates happen) and poll "
    "`order/query_order` if it is late.")

PRE_CREATE_REFUND = Kind(
    "pre_create_refund", "Refund extension point (退款预处理)", "`refund_url`", "sync-then-outbox",
    "when a buyer's refund (refund_source 1) or an automatic one (3) has been created (the refund and the "
    "money it holds are committed first), when the app has a `refund_url` (without one the refund goes "
    "on with `out_refund_no` = `refund_id`). For a buyer's apply it is sent at once, while the buyer "
    "waits: your `out_refund_no` is in the apply answer and in the page's `bind:refund` (`outRefundNo`); "
    "if that call fails or times out the answer says `outRefundNoPending: true` and the outbox retries. "
    "The refund waits in PROCESSING until this is answered. Do not refuse here: refuse in the audit",
    ex.pre_create_refund_msg, ex.ok({"out_refund_no": "SHOP-R-0001"}),
    "`out_refund_no` (unique per app; a duplicate or a missing one counts as a failed attempt and is "
    "retried), optional `notify_url` (where the `refund` notify goes) and `order_entry_schema`. Then "
    "the audit when `need_refund_audit` is 1 (`refund/merchant_audit_callback` before "
    "`refund_audit_deadline`, else OVERTIME = agreed), then the cashier refunds. A dead letter here "
    "means the refund goes on with `out_refund_no` = `refund_id`, as the platform does after 3 days.")

REFUND = Kind(
    "refund", "Refund result notify", "`notify_url` of the refund, else `refund_url`, else "
    "`payment_notify_url`", "outbox", "in the transaction that ends a refund (SUCCESS or FAIL)",
    ex.refund_msg, ex.ok(), "nothing but the acknowledgement (idempotently, as for `payment`).")

SETTLE = Kind(
    "settle", "Settle notify (结算/分账结果)", "`notify_url` of the create_settle call, else `settle_url`",
    "outbox", "in the transaction that writes a settle: a `create_settle` call, or an automatic settle of an app "
    "that settles `verify` (核销 D+N) or `pay` (支付 D+N), then `is_auto_settle` is true",
    ex.settle_msg, ex.ok(), "nothing but the acknowledgement (idempotently: the same `settle_id` may come again; "
    "confirm a late one with `settle/query_settle`). Retried like `payment` (20 retries); a URL that is down "
    "never blocks the settle: its money has moved when the callback is queued.")

TEST = Kind(
    "test", "Test callback (ours: the reference has no such type)", "the URL of the `kind` asked for "
    "(`pre_create_order` → `pre_order_url`, `payment` → `payment_notify_url`, `pre_create_refund` → "
    "`refund_url`, `refund` → `refund_url` else `payment_notify_url`, `marketing` → `marketing_url`, "
    "`settle` → `settle_url`)",
    "outbox", "when the merchant asks: `POST /api/apps/trade/v2/callbacks/test` or `paybutton callbacks "
    "test --app … --kind …`", ex.test_callback_msg, ex.ok(),
    "nothing: it is logged like every other callback (`callbacks/query` shows the attempt and the "
    "answer head). One attempt, no retries. Answer it like the others: check the signature, then "
    "`err_no` 0.")


def kinds() -> list[Kind]:
    """Every callback type, in the catalogue's order."""
    return [_pre_create_order(), *_marketing_kinds(), PAYMENT, PRE_CREATE_REFUND, REFUND, SETTLE, TEST]
