"""Pure marketing rules: the msgs of the three marketing extension points and the strict validation of the
merchant's answers (reference §14.5). Money is integer fen. A bad answer raises MarketingInvalid with a reason:
`malformed` (a field missing or of the wrong type or range) or `inconsistent` (the figures disagree across the
goods, item and order dimensions: the platform's sub-code 21004)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

GOODS = "goods"  # a goods-level offer (e.g. a 立减 coupon on one goods line)
ORDER = "order"  # an order-level offer (e.g. 满减 on the whole order)
# The "4 marketing types" (our reading; the platform's enum is unconfirmed): 1 merchant coupon,
# 2 merchant promotion, 3 platform coupon, 4 platform promotion.
TYPES = (1, 2, 3, 4)
MAX_SELECTED = 10
MAX_OFFERS = 50
MAX_ID = 64
MAX_TEXT = 200


class MarketingInvalid(Exception):
    """The merchant's marketing answer cannot be used; `reason` is `malformed` or `inconsistent`."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Line:
    """The goods line being priced (one goods per order: the seed's model)."""

    goods_id: str
    goods_id_type: int  # 1 library goods, 2 merchant goods
    quantity: int
    price: int  # unit price, fen

    @property
    def total(self) -> int:
        return self.price * self.quantity


@dataclass(frozen=True)
class Choice:
    """One offer the buyer chose: its id, type and dimension (the merchant decides whether it applies)."""

    id: str
    type: int
    range: str

    def ref(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type}


@dataclass
class Pricing:
    """A validated calculation: the discount of the whole order and the detail that travels with it."""

    discount: int
    detail: dict[str, Any] | None
    applied: list[dict[str, Any]] = field(default_factory=list)  # applied offers: id, type, range, discount_amount


def _fail(message: str) -> MarketingInvalid:
    return MarketingInvalid("malformed", message)


def _money(v: Any, where: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise _fail(f"{where} must be a non-negative integer (fen)")
    return v


def _text(v: Any, where: str, *, required: bool, limit: int = MAX_TEXT) -> str:
    if v is None and not required:
        return ""
    if not isinstance(v, str) or (required and not v) or len(v) > limit:
        raise _fail(f"{where} must be a {'non-empty ' if required else ''}string of at most {limit} characters")
    return v


def _list(v: Any, where: str) -> list[Any]:
    if v is None:
        return []
    if not isinstance(v, list) or len(v) > MAX_OFFERS:
        raise _fail(f"{where} must be a list of at most {MAX_OFFERS} entries")
    return v


def _obj(v: Any, where: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise _fail(f"{where} must be an object")
    return v


def _type(v: Any, where: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v not in TYPES:
        raise _fail(f"{where} must be one of {list(TYPES)}")
    return v


# ------------------------------------------------------------------ msgs (platform -> merchant)


def _goods_ref(line: Line) -> dict[str, Any]:
    return {"goods_id": line.goods_id, "goods_id_type": line.goods_id_type, "quantity": line.quantity,
            "price": line.price}


def _split(choices: list[Choice]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return [c.ref() for c in choices if c.range == GOODS], [c.ref() for c in choices if c.range == ORDER]


def query_msg(app_id: str, open_id: str, line: Line) -> dict[str, Any]:
    """query_marketing_info: which offers can this buyer use on these goods?"""
    return {"app_id": app_id, "open_id": open_id, "union_id": "", "callback_data": "",
            "goods_info": [_goods_ref(line)]}


def calculate_msg(app_id: str, open_id: str, line: Line, choices: list[Choice]) -> dict[str, Any]:
    """calculate_price: price the buyer's choice (goods-level offers under goods, order-level under order)."""
    goods_refs, order_refs = _split(choices)
    return {"app_id": app_id, "open_id": open_id, "union_id": "", "callback_data": "",
            "goods_calculation_info": [{**_goods_ref(line), "total_amount": line.total, "using_marketing": goods_refs}],
            "order_calculation_info": {"total_amount": line.total, "using_marketing": order_refs}}


def query_and_calculate_msg(app_id: str, open_id: str, line: Line, choices: list[Choice] | None) -> dict[str, Any]:
    """query_and_calculate (marketingVersion 2): choices None = first load, the merchant picks the default."""
    goods_refs, order_refs = _split(choices or [])
    return {"app_id": app_id, "open_id": open_id, "union_id": "", "callback_data": "",
            "need_default_marketing": choices is None,
            "goods_marketing_info": [{**_goods_ref(line), "total_amount": line.total,
                                      "selected_marketing": goods_refs}],
            "order_marketing_info": {"total_amount": line.total, "selected_marketing": order_refs}}


# ------------------------------------------------------------------ answers (merchant -> platform)


def _offer(raw: Any, where: str, rng: str, usable: bool) -> dict[str, Any]:
    o = _obj(raw, where)
    offer = {
        "id": _text(o.get("id"), f"{where}.id", required=True, limit=MAX_ID),
        "type": _type(o.get("type"), f"{where}.type"),
        "subtype": o.get("subtype") if isinstance(o.get("subtype"), int) else 0,
        "title": _text(o.get("title"), f"{where}.title", required=True),
        "note": _text(o.get("note"), f"{where}.note", required=False),
        "range": rng,
        "usable": usable,
    }
    if not usable:
        offer["reason"] = _text(o.get("reason"), f"{where}.reason", required=False)
    return offer


def parse_offers(data: dict[str, Any], line: Line) -> list[dict[str, Any]]:
    """The offers of a query_marketing_info (or query_and_calculate) answer: usable ones first, in the merchant's
    order. The per-goods lists must cover exactly the requested goods."""
    offers: list[dict[str, Any]] = []
    for key, usable in (("goods_valid_marketing_info", True), ("goods_invalid_marketing_info", False)):
        entries = _list(data.get(key), key)
        ids = [_obj(e, f"{key}[{i}]").get("goods_id") for i, e in enumerate(entries)]
        if usable and ids != [line.goods_id]:
            raise _fail(f"{key} must have exactly one entry, for goods {line.goods_id!r} (got {ids})")
        if not usable and any(g != line.goods_id for g in ids):
            raise _fail(f"{key} names goods that were not asked about")
        for i, e in enumerate(entries):
            for j, raw in enumerate(_list(e.get("marketing_info"), f"{key}[{i}].marketing_info")):
                offers.append(_offer(raw, f"{key}[{i}].marketing_info[{j}]", GOODS, usable))
    for key, usable in (("order_valid_marketing_info", True), ("order_invalid_marketing_info", False)):
        for j, raw in enumerate(_list(data.get(key), key)):
            offers.append(_offer(raw, f"{key}[{j}]", ORDER, usable))
    seen: set[str] = set()
    for o in offers:
        if o["id"] in seen:
            raise _fail(f"offer id {o['id']!r} appears twice")
        seen.add(o["id"])
    if len(offers) > MAX_OFFERS:
        raise _fail(f"at most {MAX_OFFERS} offers")
    return sorted(offers, key=lambda o: not o["usable"])


def default_choice(offers: list[dict[str, Any]]) -> list[Choice]:
    """marketingVersion 1 has no merchant default: the first usable offer (goods-level before order-level, each
    in the merchant's order) is pre-selected; none when nothing is usable."""
    for o in offers:
        if o["usable"]:
            return [Choice(o["id"], o["type"], o["range"])]
    return []


def _details(raw: Any, where: str) -> tuple[list[dict[str, Any]], int]:
    out: list[dict[str, Any]] = []
    total = 0
    for i, d in enumerate(_list(raw, where)):
        w = f"{where}[{i}]"
        m = _obj(d, w)
        amount = _money(m.get("discount_amount"), f"{w}.discount_amount")
        out.append({
            "id": _text(m.get("id"), f"{w}.id", required=True, limit=MAX_ID),
            "type": _type(m.get("type"), f"{w}.type"),
            "subtype": m.get("subtype") if isinstance(m.get("subtype"), int) else 0,
            "discount_amount": amount,
            "discount_range": m.get("discount_range") if isinstance(m.get("discount_range"), int) else 0,
            "title": _text(m.get("title"), f"{w}.title", required=False),
            "note": _text(m.get("note"), f"{w}.note", required=False),
            "value": m.get("value") if isinstance(m.get("value"), int) and not isinstance(m.get("value"), bool) else 0,
        })
        total += amount
    return out, total


def _inconsistent(message: str) -> MarketingInvalid:
    return MarketingInvalid("inconsistent", message)


@dataclass(frozen=True)
class _GoodsLine:
    """The validated goods_discount_detail entry."""

    quantity: int
    total: int
    discount: int  # total_discount_amount
    details: list[dict[str, Any]]  # marketing_detail_info


@dataclass(frozen=True)
class _OrderLevel:
    """The validated order_discount_detail."""

    total_discount: int  # order_total_discount_amount: the discount of the whole order
    goods_discount: int  # goods_total_discount_amount
    details: list[dict[str, Any]]  # marketing_detail_info (the order-level offers)


def _goods_line(d: dict[str, Any], line: Line) -> _GoodsLine:
    """Exactly one goods line, the one asked about, priced as asked, its discounts adding up."""
    goods_rows = _list(d.get("goods_discount_detail"), "goods_discount_detail")
    if [_obj(g, "goods_discount_detail[]").get("goods_id") for g in goods_rows] != [line.goods_id]:
        raise _fail(f"goods_discount_detail must have exactly one entry, for goods {line.goods_id!r}")
    g = goods_rows[0]
    qty = _money(g.get("quantity"), "goods_discount_detail[0].quantity")
    g_total = _money(g.get("total_amount"), "goods_discount_detail[0].total_amount")
    g_discount = _money(g.get("total_discount_amount"), "goods_discount_detail[0].total_discount_amount")
    g_details, g_sum = _details(g.get("marketing_detail_info"), "goods_discount_detail[0].marketing_detail_info")
    if qty != line.quantity or g_total != line.total:
        raise _inconsistent(f"the goods line was priced as {qty} × {g_total} fen, not {line.quantity} units "
                            f"totalling {line.total} fen")
    if g_sum != g_discount:
        raise _inconsistent(f"goods discounts add up to {g_sum}, not total_discount_amount {g_discount}")
    return _GoodsLine(qty, g_total, g_discount, g_details)


def _order_level(d: dict[str, Any], goods: _GoodsLine, line: Line) -> _OrderLevel:
    """The order's discount: the goods lines' discount plus the order-level offers, within the total."""
    o = _obj(d.get("order_discount_detail"), "order_discount_detail")
    o_total = _money(o.get("order_total_discount_amount"), "order_discount_detail.order_total_discount_amount")
    o_goods = _money(o.get("goods_total_discount_amount"), "order_discount_detail.goods_total_discount_amount")
    o_details, o_sum = _details(o.get("marketing_detail_info"), "order_discount_detail.marketing_detail_info")
    if o_goods != goods.discount:
        raise _inconsistent(f"goods_total_discount_amount {o_goods} differs from the goods lines' {goods.discount}")
    if o_total != goods.discount + o_sum:
        raise _inconsistent(f"order_total_discount_amount {o_total} is not goods {goods.discount} + order-level "
                            f"{o_sum}")
    if o_total > line.total:
        raise _inconsistent(f"the discount {o_total} exceeds the total {line.total}")
    return _OrderLevel(o_total, o_goods, o_details)


def _item_lines(d: dict[str, Any], line: Line, goods: _GoodsLine) -> list[dict[str, Any]]:
    """The optional per-item lines: each of the goods asked about, together adding up to the goods line."""
    items_out: list[dict[str, Any]] = []
    items = _list(d.get("item_discount_detail"), "item_discount_detail")
    if not items:
        return items_out
    i_total = i_discount = 0
    for i, it in enumerate(items):
        w = f"item_discount_detail[{i}]"
        m = _obj(it, w)
        if m.get("goods_id") != line.goods_id:
            raise _inconsistent(f"{w} names goods {m.get('goods_id')!r}")
        t = _money(m.get("total_amount"), f"{w}.total_amount")
        disc = _money(m.get("total_discount_amount"), f"{w}.total_discount_amount")
        det, det_sum = _details(m.get("marketing_detail_info"), f"{w}.marketing_detail_info")
        if det_sum != disc or disc > t:
            raise _inconsistent(f"{w}: discounts {det_sum} vs total_discount_amount {disc} (of {t})")
        i_total += t
        i_discount += disc
        items_out.append({"goods_id": line.goods_id, "total_amount": t, "total_discount_amount": disc,
                          "marketing_detail_info": det})
    if i_total != line.total or i_discount != goods.discount:
        raise _inconsistent(f"item lines total {i_total} / discount {i_discount}, goods line {line.total} / "
                            f"{goods.discount}")
    return items_out


def _applied(goods: _GoodsLine, order: _OrderLevel, allowed: set[str]) -> list[dict[str, Any]]:
    """The offers applied, each with its range: each once, and only those in `allowed`."""
    applied = [{**a, "range": GOODS} for a in goods.details] + [{**a, "range": ORDER} for a in order.details]
    ids = [a["id"] for a in applied]
    if len(set(ids)) != len(ids):
        raise _inconsistent("an offer is applied twice")
    stray = [i for i in ids if i not in allowed]
    if stray:
        raise _inconsistent(f"applied offers that were not chosen or not usable: {stray}")
    return applied


def parse_calculation(detail: Any, line: Line, allowed: set[str]) -> Pricing:
    """Validate a calculation result (the price_calculation_detail): integers ≥ 0, the goods line as asked, each
    dimension's total equal to the sum of its parts, the whole discount within the total, and only offers in
    `allowed` applied."""
    d = _obj(detail, "price_calculation_detail")
    ctype = d.get("calculation_type", 1)
    if not isinstance(ctype, int) or isinstance(ctype, bool):
        raise _fail("calculation_type must be an integer")
    goods = _goods_line(d, line)
    order = _order_level(d, goods, line)
    items_out = _item_lines(d, line, goods)
    applied = _applied(goods, order, allowed)
    clean = {
        "calculation_type": ctype,
        "goods_discount_detail": [{"goods_id": line.goods_id, "quantity": goods.quantity, "total_amount": goods.total,
                                   "total_discount_amount": goods.discount, "marketing_detail_info": goods.details}],
        "item_discount_detail": items_out,
        "order_discount_detail": {"order_total_discount_amount": order.total_discount,
                                  "goods_total_discount_amount": order.goods_discount,
                                  "marketing_detail_info": order.details},
    }
    return Pricing(discount=order.total_discount, detail=clean, applied=applied)
