"""The schema, as SQLAlchemy Core tables. Migrations (paybutton/migrations) create exactly this.

Times are epoch milliseconds (BIGINT); money is integer fen; enum columns hold the wire values."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from paybutton import tables_money, tables_ops, tables_trade
from paybutton.payment_state import LIVE_PAYMENT_SQL, PaymentState
from paybutton.tables_base import AutoId as AutoId
from paybutton.tables_base import app_fk, app_key, app_ref, epoch_ms
from paybutton.tables_base import metadata as metadata

platform_keys = Table(
    "platform_keys",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("private_pem", Text, nullable=False),
    Column("public_pem", Text, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    epoch_ms("created_at"),
)

apps = Table(
    "apps",
    metadata,
    app_key(),
    Column("name", String(128), nullable=False),
    Column("secret", String(128), nullable=False),
    Column("allowed_origins", Text, nullable=False, default="[]"),  # JSON list
    Column("pre_order_url", Text, nullable=True),
    Column("payment_notify_url", Text, nullable=True),
    Column("refund_url", Text, nullable=True),
    Column("marketing_url", Text, nullable=True),
    Column("login_url", Text, nullable=True),
    Column("pay_expire_seconds", Integer, nullable=False, default=300),
    Column("need_refund_audit", Boolean, nullable=False, default=False),
    Column("refund_audit_seconds", Integer, nullable=False, default=3 * 86400),
    Column("channels", Text, nullable=False, default='["douyin","wechat","alipay","bankcard"]'),
    Column("delivery_type", Integer, nullable=False, default=1),
    Column("suspended", Boolean, nullable=False, default=False),
    Column("console_password_hash", Text, nullable=True),
    Column("theme", Text, nullable=True),  # 0004: JSON {borderRadius, backgroundColor, fontColor}
    # 0007: the real payment channels' settings, JSON {"wechat": {...}, "alipay": {...}}; NULL = sandbox only.
    # Holds secrets: never logged, never shown back after saving.
    Column("pay_config", Text, nullable=True),
    epoch_ms("created_at"),
    epoch_ms("updated_at"),
    # 0011: the seller's uid; settling manual|verify|pay D+N; the platform's rake (basis points); settle callback URL
    Column("merchant_uid", String(64), nullable=True),
    Column("settle_mode", String(8), nullable=False, server_default="manual", default="manual"),
    Column("settle_days", Integer, nullable=False, server_default="0", default=0),
    Column("rake_bps", Integer, nullable=False, server_default="0", default=0),
    Column("settle_url", Text, nullable=True),
    Index("uq_apps_merchant_uid", "merchant_uid", unique=True),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("token", String(96), primary_key=True),
    app_ref(nullable=False, index=True),
    epoch_ms("expires_at"),
    epoch_ms("created_at"),
)

# 0006: a console sign-in; the cookie names its id, signing out deletes it (so a copied cookie ends with it).
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    app_ref(nullable=False, index=True),
    epoch_ms("expires_at"),
    epoch_ms("created_at"),
)

# 0008: a one-time handover code: how a buyer token reaches a hosted page in redirect mode without being in a URL.
# The row is keyed by the code's SHA-256; exchanging it once marks it used and clears the token and the state.
handover_codes = Table(
    "handover_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    app_ref(nullable=False),
    Column("token", Text, nullable=True),  # the buyer token; NULL once used
    Column("state", Text, nullable=True),  # the page's state (JSON, without the token); NULL once used
    epoch_ms("expires_at", index=True),
    epoch_ms("used_at", nullable=True),
    epoch_ms("created_at"),
)

goods = Table(
    "goods",
    metadata,
    app_ref(primary_key=True),
    Column("goods_id", String(64), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("photo_url", Text, nullable=False, default=""),
    Column("price", BigInteger, nullable=False),
    Column("stock", BigInteger, nullable=False),
    Column("sold", BigInteger, nullable=False, default=0),
    epoch_ms("sale_start", nullable=True),
    epoch_ms("sale_end", nullable=True),
    Column("labels", Text, nullable=False, default="[]"),  # JSON [{type, value?}]
    Column("min_limits", Integer, nullable=False, default=1),
    Column("max_limits", Integer, nullable=False, default=99999),
    Column("date_rule", String(256), nullable=False, default="周一至周日可用"),
    Column("phone_required", Boolean, nullable=False, default=False),
    Column("biz_line", Integer, nullable=False, default=1),
    Column("on_shelf", Boolean, nullable=False, default=True),
    Column("valid_days", Integer, nullable=True),  # voucher validity after purchase
    epoch_ms("created_at"),
    epoch_ms("updated_at"),
    CheckConstraint("stock >= 0", name="stock_not_negative"),
    CheckConstraint("price >= 0", name="price_not_negative"),
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(32), primary_key=True),
    app_ref(primary_key=True),  # 0017: the key holds app_id
    Column("out_order_no", String(64), nullable=True),
    Column("open_id", String(128), nullable=False),
    Column("goods_id", String(64), nullable=False),
    Column("goods_type", Integer, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", BigInteger, nullable=False),
    Column("total_amount", BigInteger, nullable=False),
    Column("discount_amount", BigInteger, nullable=False, default=0),
    Column("status", String(16), nullable=False),  # INIT PROCESS SUCCESS FAIL TIMEOUT
    Column("pre_order_status", String(16), nullable=False),  # PENDING OK FAILED
    Column("phone_num", String(32), nullable=True),
    Column("contact_name", String(64), nullable=True),
    Column("cp_extra", Text, nullable=True),
    Column("goods_snapshot", Text, nullable=False),  # JSON: name, photo, labels, date_rule
    Column("price_calculation_detail", Text, nullable=True),
    Column("order_entry_schema", Text, nullable=True),
    Column("delivery_type", Integer, nullable=False, default=1),
    Column("biz_line", Integer, nullable=False, default=1),
    Column("legacy", Boolean, nullable=False, default=False),
    epoch_ms("pay_expire_at"),
    Column("pay_channel", Integer, nullable=True),
    Column("channel_pay_id", String(64), nullable=True),
    Column("payment_id", String(32), nullable=True),
    epoch_ms("paid_at", nullable=True),
    Column("auto_refund_pending", Boolean, nullable=False, default=False),
    Column("message", Text, nullable=True),
    epoch_ms("created_at"),
    epoch_ms("updated_at"),
    UniqueConstraint("app_id", "out_order_no", name="uq_orders_app_out_order_no"),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    CheckConstraint("discount_amount >= 0 AND discount_amount <= total_amount", name="discount_in_range"),
    Index("ix_orders_status_expire", "status", "pay_expire_at"),
    Index("ix_orders_app_open_id", "app_id", "open_id"),
    Index("ix_orders_app_created", "app_id", "created_at"),  # 0005: the console's order list
)
# An order with a late payment to give back (the refund worker's sweep, every second); 0018 indexes only these.
AUTO_REFUND_PENDING = orders.c.auto_refund_pending.is_(True)
Index("ix_orders_auto_refund_pending", orders.c.app_id, orders.c.order_id,
      postgresql_where=AUTO_REFUND_PENDING, sqlite_where=AUTO_REFUND_PENDING)

item_orders = Table(
    "item_orders",
    metadata,
    Column("item_order_id", String(32), primary_key=True),
    Column("order_id", String(32), nullable=False, index=True),
    app_key(),
    Column("seq", Integer, nullable=False),
    Column("goods_id", String(64), nullable=False),
    Column("price", BigInteger, nullable=False),  # post-discount unit price; the items sum to the payable
    Column("status", Integer, nullable=False),  # 1 unpaid, 2 unused, 3 redeemed, 4 closed, 101 refunding, 102 refunded
    Column("refunded_amount", BigInteger, nullable=False, default=0),
    epoch_ms("created_at"),
    epoch_ms("updated_at"),
    # 0002: money in flight, the voucher and its verification
    Column("refunding_amount", BigInteger, nullable=False, server_default="0", default=0),
    Column("voucher_code", String(32), nullable=True),
    Column("certificate_id", String(32), nullable=True),
    Column("verify_id", String(32), nullable=True),
    epoch_ms("verified_at", nullable=True),
    # 0013: a locked certificate (toolkit/change_lock_status), the unit's booking (book/*: 0 none, 1 awaiting the
    # merchant, 2 confirmed, for book_date in Beijing time) and the merchant's push_service_done
    Column("locked", Integer, nullable=False, server_default="0", default=0),
    Column("book_status", Integer, nullable=False, server_default="0", default=0),
    Column("book_date", String(10), nullable=True),
    epoch_ms("service_done_at", nullable=True),
    Column("settle_id", String(32), nullable=True),  # 0011: the settle that took this unit's money (issue 21)
    CheckConstraint("refunded_amount >= 0 AND refunded_amount <= price", name="refund_within_price"),
    CheckConstraint(
        "refunding_amount >= 0 AND refunded_amount + refunding_amount <= price", name="inflight_within_price"
    ),
    app_fk("order_id", "orders"),
    UniqueConstraint("voucher_code", "app_id", name="uq_item_orders_voucher_code"),  # 0017: unique per app
    Index("ix_item_orders_certificate_id", "certificate_id"),
)

payments = Table(
    "payments",
    metadata,
    Column("payment_id", String(32), primary_key=True),
    Column("order_id", String(32), nullable=False, index=True),
    app_key(),
    Column("channel", String(16), nullable=False),
    Column("pay_channel", Integer, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("outcome", String(24), nullable=False),
    Column("channel_pay_id", String(64), nullable=True),
    Column("late", Boolean, nullable=False, default=False),
    epoch_ms("created_at"),
    # 0007: a payment is an attempt, written PROCESSING before the channel is called; payment_id is the
    # channel's out_trade_no. PROCESSING/UNKNOWN are live: at most one live attempt per order (the partial
    # unique index below). The final states are SUCCESS and CLOSED; `outcome` keeps the seed's outcome.
    Column("state", String(16), nullable=False, default=PaymentState.SUCCESS.value),
    Column("provider", String(16), nullable=False, default="sandbox"),  # the Cashier that took it
    Column("action", Text, nullable=True),  # JSON PayAction for PENDING: {"kind": "qr"|"redirect", "url": ...}
    Column("message", Text, nullable=True),
    epoch_ms("updated_at", nullable=True),
    epoch_ms("next_check_at", nullable=True),  # when the reconciler asks the channel next
    Column("checks", Integer, nullable=False, default=0),
    app_fk("order_id", "orders"),
    Index("uq_payments_live_order", "order_id", "app_id", unique=True,
          postgresql_where=text(LIVE_PAYMENT_SQL), sqlite_where=text(LIVE_PAYMENT_SQL)),
    Index("ix_payments_next_check_at", "next_check_at"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    app_key(),  # 0017 (the key on SQLite stays id alone: tables_base.AutoId)
    Column("type", String(32), nullable=False),
    Column("url", Text, nullable=True),
    Column("identify_name", String(128), nullable=False),
    Column("body", Text, nullable=False),  # the exact bytes that are signed and sent (UTF-8)
    Column("order_id", String(32), nullable=True, index=True),
    Column("refund_id", String(32), nullable=True),
    Column("schedule", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # PENDING DONE DEAD
    Column("attempts", Integer, nullable=False, default=0),
    epoch_ms("next_attempt_at"),
    epoch_ms("locked_until", nullable=True),
    Column("locked_by", String(64), nullable=True),
    Column("last_http_status", Integer, nullable=True),
    Column("last_answer_head", Text, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("answer_data", Text, nullable=True),
    epoch_ms("created_at"),
    epoch_ms("updated_at"),
    Index("ix_outbox_due", "status", "next_attempt_at"),
)

callback_attempts = Table(
    "callback_attempts",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("outbox_id", BigInteger, nullable=True, index=True),
    app_key(),
    Column("type", String(32), nullable=False),
    Column("order_id", String(32), nullable=True, index=True),  # 0005: an order's timeline
    Column("attempt", Integer, nullable=False),
    Column("url", Text, nullable=True),
    Column("logid", String(40), nullable=False),
    epoch_ms("started_at"),
    Column("duration_ms", Integer, nullable=False),
    Column("http_status", Integer, nullable=True),
    Column("ok", Boolean, nullable=False),
    Column("answer_head", Text, nullable=True),
    Column("error", Text, nullable=True),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    app_key(),
    Column("key", String(255), primary_key=True),
    Column("route", String(128), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("response_body", Text, nullable=True),
    epoch_ms("created_at"),
    # 0008: order placement only (kernel/order_keys.py): the order id the placement writes, and until when its
    # holder owns the key while response_body is NULL (after it, a retry finds that order or places it).
    Column("order_id", String(32), nullable=True),
    epoch_ms("lease_until", nullable=True),
)

refunds = Table(
    "refunds",
    metadata,
    Column("refund_id", String(32), primary_key=True),
    app_ref(primary_key=True),
    Column("order_id", String(32), nullable=False, index=True),
    Column("out_refund_no", String(64), nullable=True),  # set when pre_create_refund answers
    Column("status", String(16), nullable=False),  # PROCESSING SUCCESS FAIL
    Column("stage", String(16), nullable=False),  # ours: PRE_REFUND AUDIT READY CASHIER DONE
    Column("refund_total_amount", BigInteger, nullable=False),
    Column("source", Integer, nullable=False),  # 1 user, 2 merchant (ours), 3 expiry, 6 late payment (ours)
    Column("audit_status", String(16), nullable=False),  # INIT TOAUDIT AGREE DENY OVERTIME
    Column("need_refund_audit", Integer, nullable=False),  # 1 required, 2 not required
    epoch_ms("refund_audit_deadline", nullable=True),
    Column("deny_message", Text, nullable=True),
    Column("reason", Text, nullable=True),  # JSON list of strings
    Column("description", Text, nullable=True),
    Column("cp_extra", Text, nullable=True),
    Column("notify_url", Text, nullable=True),
    Column("order_entry_schema", Text, nullable=True),
    Column("pre_refund_outbox_id", BigInteger, nullable=True),
    epoch_ms("locked_until", nullable=True),
    Column("channel_refund_id", String(64), nullable=True),
    Column("message", Text, nullable=True),
    epoch_ms("created_at"),
    epoch_ms("refund_at", nullable=True),
    epoch_ms("updated_at"),
    # 0007: the payment attempt this refund gives money back from (the channel's out_trade_no); NULL = the
    # attempt that paid the order. A late or duplicate payment's refund names its own attempt.
    Column("payment_id", String(32), nullable=True),
    app_fk("order_id", "orders"),
    UniqueConstraint("app_id", "out_refund_no", name="uq_refunds_app_out_refund_no"),
    CheckConstraint("refund_total_amount >= 0", name="amount_not_negative"),
    Index("ix_refunds_stage", "stage", "status"),
    Index("ix_refunds_app_created", "app_id", "created_at"),  # 0005: the console's refund list
)

refund_items = Table(
    "refund_items",
    metadata,
    Column("refund_id", String(32), primary_key=True),
    Column("item_order_id", String(32), primary_key=True),
    Column("amount", BigInteger, nullable=False),
    app_key(),  # 0017: the refund's app (back-filled from refunds)
    app_fk("refund_id", "refunds"),
    app_fk("item_order_id", "item_orders"),
    CheckConstraint("amount > 0", name="amount_positive"),
    Index("ix_refund_items_item_order_id", "item_order_id"),
)

# The tables of later issues live in their own modules, on the same metadata (tables_base.py); named here too, so
# that `from paybutton.tables import …` finds every table.
RECON_COUNTS = tables_money.RECON_COUNTS
RECON_TOTALS = tables_money.RECON_TOTALS
ledger_entries = tables_money.ledger_entries
ledger_txns = tables_money.ledger_txns
recon_lines = tables_money.recon_lines
recon_runs = tables_money.recon_runs
bookings = tables_trade.bookings
dev_orders = tables_trade.dev_orders
order_cps = tables_trade.order_cps
toolkit_settings = tables_trade.toolkit_settings
audit_log = tables_ops.audit_log
receivers = tables_money.receivers
channel_shares = tables_money.channel_shares
settles = tables_money.settles
