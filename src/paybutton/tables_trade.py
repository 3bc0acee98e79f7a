"""The rest of the trade OpenAPI (issue 22): developer-created orders, CPS records, the fulfilment tool's settings
and reservations. Times are epoch milliseconds; money is integer fen."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from paybutton.tables_base import app_fk, app_key, app_ref, epoch_ms, metadata

# 0014 (issue 22): an order the developer's server created (order/create_order): the request's hash and the answer,
# so that the same out_order_no with the same body answers the same order again.
dev_orders = Table(
    "dev_orders",
    metadata,
    Column("order_id", String(32), primary_key=True),
    app_key(),
    Column("out_order_no", String(64), nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("answer", Text, nullable=False),  # JSON: the create_order answer's data
    Column("request", Text, nullable=False),  # JSON: the request as sent (goods_page, order_valid_time, extra, ...)
    epoch_ms("created_at"),
    app_fk("order_id", "orders"),
    UniqueConstraint("app_id", "out_order_no", name="uq_dev_orders_app_id"),
)

# 0014: the creator commission (CPS) records of an order's units, one row per item order (order/query_cps).
order_cps = Table(
    "order_cps",
    metadata,
    Column("item_order_id", String(32), primary_key=True),
    Column("order_id", String(32), nullable=False, index=True),
    app_key(),
    Column("sell_amount", BigInteger, nullable=False),
    Column("commission_amount", BigInteger, nullable=False),
    Column("commission_rate", Integer, nullable=False),  # 1/10000
    Column("source_type", Integer, nullable=False),
    Column("status", Integer, nullable=False),
    Column("commission_user_douyinid", String(64), nullable=False),
    Column("commission_user_nickname", String(128), nullable=False),
    Column("task_id", String(64), nullable=False),
    Column("item_id", String(64), nullable=False),
    epoch_ms("created_at"),
    app_fk("item_order_id", "item_orders"),
    app_fk("order_id", "orders"),
    CheckConstraint("commission_amount >= 0", name="commission_not_negative"),
)

# 0014: the fulfilment tool's settings of an app (toolkit/update_merchant_conf, update_merchant_path,
# button_white_setting), JSON each; the hosted pages show them.
toolkit_settings = Table(
    "toolkit_settings",
    metadata,
    app_ref(primary_key=True),
    Column("merchant_conf", Text, nullable=True),
    Column("merchant_paths", Text, nullable=True),
    Column("button_white", Text, nullable=True),
    epoch_ms("updated_at"),
)

# 0013: reservations (预约单, book/create_book): one row per booking, its units in `items` (JSON list of
# {item_order_id, goods_id, poi_id, shop_name, ext_shop_id, user_info_list}); status BOOKING, SUCCESS, FAIL, CANCEL.
bookings = Table(
    "bookings",
    metadata,
    Column("book_id", String(32), primary_key=True),
    app_key(),
    Column("order_id", String(32), nullable=False, index=True),
    Column("out_book_no", String(64), nullable=False),
    Column("open_id", String(128), nullable=False),
    Column("status", String(16), nullable=False),
    Column("book_date", String(10), nullable=False),
    epoch_ms("book_start_time"),
    epoch_ms("book_end_time"),
    Column("items", Text, nullable=False),
    Column("cancel_policy", Integer, nullable=False),
    Column("cancel_advance_hour", Integer, nullable=False),
    Column("reason", Text, nullable=True),  # the merchant's refusal or the cancel reason
    Column("cancelled_by", String(16), nullable=True),  # merchant | user
    epoch_ms("created_at"),
    epoch_ms("updated_at"),
    app_fk("order_id", "orders"),
    UniqueConstraint("app_id", "out_book_no", name="uq_bookings_app_out_book_no"),
    Index("ix_bookings_app_created", "app_id", "created_at"),
)
