"""The rows of a new order, built once (pure): what an order path knows before it writes (`NewOrder`), what the
goods said (`Goods`), and the order and item-order rows every writer stores (`order_row`, `item_rows`).

The PostgreSQL writer computes the four goods-derived columns (`GOODS_COLUMNS`) inside its one statement, from
the goods row it has just updated; tests/integration/test_order_rows.py checks that every path writes the same
rows on both databases."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Self, TypedDict

from sqlalchemy.engine import Row

from paybutton.money import split_exact
from paybutton.order.states import ItemStatus, OrderStatus, payable


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Goods:
    """What the goods said when the order took them: the library row at the stock UPDATE, or a merchant good's
    getgoodsinfo. `labels` is JSON text, as stored."""

    name: str
    photo_url: str
    price: int
    labels: str
    date_rule: str
    biz_line: int


@dataclass
class NewOrder:
    """Everything about an order that does not depend on the goods row."""

    order_id: str
    app_id: str
    open_id: str
    goods_id: str
    goods_type: int
    quantity: int
    phone_num: str | None
    contact_name: str | None
    cp_extra: str | None
    out_order_no: str | None  # set when no pre-order is needed (accepted at once)
    pre_order_status: str
    delivery_type: int
    pay_expire_ms: int
    item_ids: list[str]
    now: int
    price: int | None = None  # the unit price the merchant priced (marketing); None: the goods row's
    discount: int = 0
    price_detail: str | None = None  # price_calculation_detail, JSON text


class Snapshot(TypedDict):
    name: str
    photo_url: str
    labels: list[dict[str, Any]]
    date_rule: str


# The columns a new order leaves NULL (set when it is paid or ended); a new order writes the rest, ORDER_COLUMNS.
_UNPAID: dict[str, Any] = dict.fromkeys(("pay_channel", "channel_pay_id", "payment_id", "paid_at", "message"))


@dataclass(frozen=True)
class Order:
    """A row of `orders` as read (order/store.order_row, find_order) or just written (`from_new`): every order path
    (order/, refund/, settle/, fulfillment/) reads an order through it, by attribute. Changing one is
    `dataclasses.replace`. The one declaration of an order's columns (a new order's are ORDER_COLUMNS);
    tests/unit/test_typed_rows.py checks it has every column of the table."""

    order_id: str
    app_id: str
    out_order_no: str | None
    open_id: str
    goods_id: str
    goods_type: int
    quantity: int
    unit_price: int
    total_amount: int
    discount_amount: int
    status: str  # OrderStatus
    pre_order_status: str  # PreOrder
    phone_num: str | None
    contact_name: str | None
    cp_extra: str | None
    goods_snapshot: str  # JSON text: Snapshot
    price_calculation_detail: str | None  # JSON text
    order_entry_schema: str | None  # JSON text
    delivery_type: int
    biz_line: int
    legacy: bool
    pay_expire_at: int
    pay_channel: int | None
    channel_pay_id: str | None
    payment_id: str | None  # the attempt that paid it
    paid_at: int | None
    auto_refund_pending: bool
    message: str | None
    created_at: int
    updated_at: int

    @classmethod
    def from_row(cls, row: Row[Any]) -> Self:
        return cls(**row._mapping)

    @classmethod
    def from_new(cls, row: Mapping[str, Any]) -> Self:
        """The order as just written (`order_row`): the columns a new order leaves NULL are None."""
        return cls(**row, **_UNPAID)

    @property
    def payable(self) -> int:
        """What the buyer pays, in fen: the total less the discount."""
        return payable(self.total_amount, self.discount_amount)

    def snapshot(self) -> Snapshot:
        s: Snapshot = json.loads(self.goods_snapshot)
        return s


@dataclass(frozen=True)
class ItemOrder:
    """A row of `item_orders` as read (order/store.items_of): one unit of an order, typed for the money path (its
    price, what was refunded and what is in flight, in fen). tests/unit/test_typed_rows.py checks it has every
    column of the table."""

    item_order_id: str
    order_id: str
    app_id: str
    seq: int
    goods_id: str
    price: int  # the unit's price after discounts
    status: int  # ItemStatus
    refunded_amount: int
    created_at: int
    updated_at: int
    refunding_amount: int
    voucher_code: str | None
    certificate_id: str | None
    verify_id: str | None
    verified_at: int | None
    locked: int = 0  # 0013: toolkit/change_lock_status
    book_status: int = 0  # 0013: states.BookStatus
    book_date: str | None = None  # 0013: the confirmed booking's day (Beijing)
    service_done_at: int | None = None  # 0013: toolkit/push_service_done
    settle_id: str | None = None  # 0011: the settle that took this unit's money

    @classmethod
    def from_row(cls, row: Row[Any]) -> Self:
        return cls(**row._mapping)

    @classmethod
    def from_new(cls, row: ItemRow) -> Self:
        """The unit as just written (`item_rows`): nothing in flight, no voucher yet."""
        return cls(**row, refunding_amount=0, voucher_code=None, certificate_id=None, verify_id=None,
                   verified_at=None)


class ItemRow(TypedDict):
    item_order_id: str
    order_id: str
    app_id: str
    seq: int
    goods_id: str
    price: int
    status: int
    refunded_amount: int
    created_at: int
    updated_at: int


# The goods snapshot's keys, in order; `labels` is stored JSON and goes in verbatim.
SNAPSHOT_KEYS = ("name", "photo_url", "labels", "date_rule")
# The columns the PostgreSQL writer computes from the goods row in its statement (order/writer_pg.py).
GOODS_COLUMNS = ("unit_price", "total_amount", "goods_snapshot", "biz_line")


def snapshot_json(g: Goods) -> str:
    """The order's goods_snapshot text: compact JSON with the labels as stored."""
    parts = [f'"{k}":' + (g.labels if k == "labels" else dumps(getattr(g, k))) for k in SNAPSHOT_KEYS]
    return "{" + ",".join(parts) + "}"


def snapshot(g: Goods) -> Snapshot:
    return {"name": g.name, "photo_url": g.photo_url, "labels": json.loads(g.labels), "date_rule": g.date_rule}


def order_row(o: NewOrder, g: Goods) -> dict[str, Any]:
    """A new order's row, ORDER_COLUMNS in order (what the writers insert; `Order.from_new` reads it): the unit
    price is the goods' (checked equal to the priced one), the payable its total less the discount."""
    return {
        "order_id": o.order_id, "app_id": o.app_id, "out_order_no": o.out_order_no, "open_id": o.open_id,
        "goods_id": o.goods_id, "goods_type": o.goods_type, "quantity": o.quantity, "unit_price": g.price,
        "total_amount": g.price * o.quantity, "discount_amount": o.discount, "status": OrderStatus.INIT.value,
        "pre_order_status": o.pre_order_status, "phone_num": o.phone_num, "contact_name": o.contact_name,
        "cp_extra": o.cp_extra, "goods_snapshot": snapshot_json(g), "price_calculation_detail": o.price_detail,
        "order_entry_schema": None, "delivery_type": o.delivery_type, "biz_line": g.biz_line, "legacy": False,
        "pay_expire_at": o.now + o.pay_expire_ms, "auto_refund_pending": False, "created_at": o.now,
        "updated_at": o.now,
    }


def item_prices(o: NewOrder, unit_price: int) -> list[int]:
    """The payable split exactly over the units (the first ones carry the odd fen)."""
    return split_exact(unit_price * o.quantity - o.discount, o.quantity)


def item_rows(o: NewOrder, unit_price: int) -> list[ItemRow]:
    """One item order per unit, unpaid."""
    return [
        {"item_order_id": iid, "order_id": o.order_id, "app_id": o.app_id, "seq": i, "goods_id": o.goods_id,
         "price": price, "status": int(ItemStatus.UNPAID), "refunded_amount": 0, "created_at": o.now,
         "updated_at": o.now}
        for i, (iid, price) in enumerate(zip(o.item_ids, item_prices(o, unit_price), strict=True))
    ]


ORDER_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Order) if f.name not in _UNPAID)
ITEM_COLUMNS: tuple[str, ...] = tuple(ItemRow.__annotations__)
