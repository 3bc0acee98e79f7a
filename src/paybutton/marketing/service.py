"""Asking the merchant's marketing extension points (signed, with the pre-order time budget) and turning the
answer into a quote. A late, failed, malformed or inconsistent answer is never an error here: the quote says
`available: false` with a reason, and the price is the full price."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from paybutton.callbacks.merchant import ExtensionCall, ExtensionFailed, call_extension
from paybutton.context import Ctx
from paybutton.marketing import rules
from paybutton.marketing.rules import Choice, Line, MarketingInvalid, Pricing

MIN_BUDGET = 0.05  # seconds: below this the second call of version 1 is not even tried


@dataclass
class Quote:
    """What the order-confirm page shows, and what an order is priced with."""

    version: int
    line: Line
    available: bool = True
    reason: str | None = None  # not_configured, timeout, unreachable, http_error, refused, malformed, inconsistent
    message: str = ""
    offers: list[dict[str, Any]] = field(default_factory=list)
    pricing: Pricing = field(default_factory=lambda: Pricing(0, None))

    @property
    def payable(self) -> int:
        return self.line.total - self.pricing.discount

    def view(self) -> dict[str, Any]:
        applied = {a["id"]: a["discount_amount"] for a in self.pricing.applied}
        return {
            "version": self.version,
            "available": self.available,
            "reason": self.reason,
            "message": self.message,
            "offers": [{**o, "selected": o["id"] in applied, "discount_amount": applied.get(o["id"], 0)}
                       for o in self.offers],
            "selected": [{k: a[k] for k in ("id", "type", "range", "discount_amount")} for a in self.pricing.applied],
            "quantity": self.line.quantity,
            "unit_price": self.line.price,
            "total_amount": self.line.total,
            "discount_amount": self.pricing.discount,
            "payable": self.payable,
            "price_calculation_detail": self.pricing.detail,
        }


class _Budget:
    """One time budget (the pre-order one) shared by the calls of one quote."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def left(self) -> float:
        return self.deadline - time.monotonic()


async def quote(ctx: Ctx, app: Mapping[str, Any], open_id: str, line: Line, version: int,
                choices: list[Choice] | None, *, with_offers: bool = True, order_id: str | None = None,
                attempts: list[dict[str, Any]] | None = None) -> Quote:
    """Price `line` for this buyer.

    choices None: first load (version 2: the merchant's default; version 1: the first usable offer). A list: the
    buyer's choice ([] = no offer). with_offers False (re-pricing, placing an order) skips version 1's
    query_marketing_info. Attempts are recorded (in `attempts` when given, for the caller's transaction)."""
    q = Quote(version=version, line=line)
    url = app.get("marketing_url")
    if not url:
        return _unavailable(q, "not_configured", "the app has no marketing URL")
    budget = _Budget(ctx.settings.pre_order_timeout_seconds)
    app_id = app["app_id"]

    async def ask(kind: str, msg: dict[str, Any], parse: Any) -> dict[str, Any]:
        left = budget.left()
        if left < MIN_BUDGET:
            raise ExtensionFailed("PRE_ORDER_SERVER_ERROR", "no time left in the budget", "timeout")
        return await call_extension(ctx, ExtensionCall(app_id=app_id, kind=kind, url=url, msg=msg, budget=left,
                                                       order_id=order_id, parse=parse), attempts=attempts)

    try:
        if version == 2:
            msg = rules.query_and_calculate_msg(app_id, open_id, line, choices)
            got = await ask("query_and_calculate", msg, lambda d: _strict(lambda: _parse_combined(d, line, choices)))
            q.offers, q.pricing = got["offers"], got["pricing"]
            return q
        if with_offers:
            got = await ask("query_marketing_info", rules.query_msg(app_id, open_id, line),
                            lambda d: _strict(lambda: {"offers": rules.parse_offers(d, line)}))
            q.offers = got["offers"]
            usable = {o["id"] for o in q.offers if o["usable"]}
            choices = rules.default_choice(q.offers) if choices is None else [c for c in choices if c.id in usable]
        if not choices:
            return q
        allowed = {c.id for c in choices}
        got = await ask("calculate_price", rules.calculate_msg(app_id, open_id, line, choices),
                        lambda d: _strict(lambda: {"pricing": rules.parse_calculation(d, line, allowed)}))
        q.pricing = got["pricing"]
        return q
    except ExtensionFailed as e:
        return _unavailable(q, e.reason, e.message or "")


def _strict(fn: Any) -> dict[str, Any]:
    """Run a parser; a MarketingInvalid becomes the ExtensionFailed that call_extension records."""
    try:
        result: dict[str, Any] = fn()
    except MarketingInvalid as e:
        raise ExtensionFailed("PRE_ORDER_SERVER_ERROR", e.message, e.reason) from e
    return result


def _parse_combined(data: dict[str, Any], line: Line, choices: list[Choice] | None) -> dict[str, Any]:
    offers = rules.parse_offers(data, line)
    usable = {o["id"] for o in offers if o["usable"]}
    allowed = usable if choices is None else {c.id for c in choices}
    if "price_calculation_detail" not in data:
        raise MarketingInvalid("malformed", "query_and_calculate answers need price_calculation_detail")
    return {"offers": offers, "pricing": rules.parse_calculation(data["price_calculation_detail"], line, allowed)}


def _unavailable(q: Quote, reason: str, message: str) -> Quote:
    q.available = False
    q.reason = reason
    q.message = message
    q.offers = []
    q.pricing = Pricing(0, None)
    return q
