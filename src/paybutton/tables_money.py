"""The money after the pay (issues 20 and 21): the double-entry ledger, daily reconciliation and settlement.
Times are epoch milliseconds; money is integer fen."""

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
)

from paybutton.tables_base import AutoId, app_fk, app_key, app_ref, epoch_ms, metadata

# 0010: the double-entry ledger (issue 21). A txn is one posting, idempotent by (app_id, kind, ref_id); its
# entries sum to 0 (debit positive). Accounts are strings: channel:<provider>, held:<app_id>, merchant:<uid>,
# receiver:<uid>, platform:fees (paybutton/ledger/accounts.py).
ledger_txns = Table(
    "ledger_txns",
    metadata,
    Column("txn_id", String(32), primary_key=True),
    app_key(),
    Column("kind", String(16), nullable=False),  # pay refund settle share
    Column("ref_id", String(64), nullable=False),  # the payment, refund, settle or sharing order it records
    epoch_ms("created_at"),
    Column("memo", Text, nullable=False, default=""),
    UniqueConstraint("app_id", "kind", "ref_id", name="uq_ledger_txns_app_kind_ref"),
    Index("ix_ledger_txns_app_created", "app_id", "created_at"),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("entry_id", AutoId, primary_key=True, autoincrement=True),
    Column("txn_id", String(32), nullable=False, index=True),
    app_key(),
    Column("account", String(96), nullable=False),
    Column("order_id", String(32), nullable=True, index=True),
    Column("item_order_id", String(32), nullable=True),
    Column("amount", BigInteger, nullable=False),  # signed fen, debit positive
    app_fk("txn_id", "ledger_txns"),
    Index("ix_ledger_entries_account", "account"),
)

# 0012: daily reconciliation (recon/): one run per app, channel (the provider: sandbox, wechatpay, alipay) and
# Beijing day, claimed with a guarded update (so several instances, or a second run, act once), and the lines of its
# bill that did not simply match (long, short, amount or status differences), with what was done about each.
RECON_COUNTS = ("bill_lines", "matched", "long", "short", "diff", "breaks")
RECON_TOTALS = ("bill_lines", "matched", "matched_amount", "long", "long_amount", "short", "short_amount", "diff",
                "diff_amount", "breaks")
recon_runs = Table(
    "recon_runs",
    metadata,
    Column("run_id", String(32), primary_key=True),
    app_ref(primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("bill_date", String(10), nullable=False),  # YYYY-MM-DD, Beijing
    Column("state", String(16), nullable=False),  # RUNNING DONE FAILED (FAILED: tried again at next_try_at)
    Column("problem", String(16), nullable=True),  # FAILED: not_ready download hash format encoding
    Column("message", Text, nullable=True),
    epoch_ms("lease_until", nullable=True),  # RUNNING: the claim; after it another instance may take it
    Column("claimed_by", String(64), nullable=True),
    epoch_ms("next_try_at", nullable=True),  # FAILED: when the worker tries the day again
    Column("tries", Integer, nullable=False, default=0),
    # the bill's lines; per class (matched, long, short, diff) the count and the sum (fen); the breaks at the end
    *[Column(c, Integer if c in RECON_COUNTS else BigInteger, nullable=False, default=0) for c in RECON_TOTALS],
    epoch_ms("created_at"),
    epoch_ms("updated_at"),
    epoch_ms("finished_at", nullable=True),
    UniqueConstraint("app_id", "channel", "bill_date", name="uq_recon_runs_app_channel_day"),
    Index("ix_recon_runs_state", "state", "next_try_at"),
)

recon_lines = Table(
    "recon_lines",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("run_id", String(32), nullable=False, index=True),
    app_key(),
    Column("kind", String(8), nullable=False),  # pay refund
    Column("klass", String(8), nullable=False),  # long short diff
    Column("out_trade_no", String(64), nullable=False),  # our attempt id (the channel's out_trade_no)
    Column("out_refund_no", String(64), nullable=True),  # our refund id (the channel's out_refund_no)
    Column("channel_amount", BigInteger, nullable=True),
    Column("our_amount", BigInteger, nullable=True),
    Column("channel_status", String(32), nullable=True),
    Column("our_status", String(32), nullable=True),
    Column("action", String(16), nullable=False),  # paid late none waiting resolved
    Column("state", String(8), nullable=False),  # ok (settled) pending (short: until the next bill) break resolved
    Column("note", Text, nullable=True),
    epoch_ms("resolved_at", nullable=True),
    app_fk("run_id", "recon_runs"),
    Index("ix_recon_lines_app_state", "app_id", "state"),
)


# 0011: settle receivers besides the seller (settle_params' merchant_uid), registered by the operator.
# 0016: a receiver's account at each real channel (WeChat Pay MERCHANT_ID, Alipay userId 2088...), for the channel's
# own profit sharing (settle/sharing.py); NULL: the receiver cannot be paid through that channel.
receivers = Table("receivers", metadata, Column("merchant_uid", String(64), primary_key=True),
                  Column("name", String(128), nullable=False), epoch_ms("created_at"),
                  Column("wechat_account", String(64), nullable=True),
                  Column("alipay_account", String(64), nullable=True))

# 0011: a settle (结算/分账) of an order or one unit: held money to the seller, the receivers and the rake.
settles = Table(
    "settles",
    metadata,
    Column("settle_id", String(32), primary_key=True),
    app_ref(primary_key=True),
    Column("order_id", String(32), nullable=False, index=True),
    Column("out_order_no", String(64), nullable=True),
    Column("out_settle_no", String(64), nullable=False),
    Column("item_order_id", String(32), nullable=True),  # NULL: the whole order
    Column("settle_desc", Text, nullable=False),
    Column("settle_params", Text, nullable=False),  # JSON [{merchant_uid, amount}], the other receivers
    Column("cp_extra", Text, nullable=True),
    Column("notify_url", Text, nullable=True),
    Column("status", String(16), nullable=False),  # SUCCESS: written once its money moved
    Column("is_auto", Boolean, nullable=False),
    Column("total_amount", BigInteger, nullable=False),  # fen out of the app's held funds
    Column("rake", BigInteger, nullable=False), Column("commission", BigInteger, nullable=False),
    Column("settle_amount", BigInteger, nullable=False),  # the seller's part
    Column("merchant_uid", String(64), nullable=False),  # the seller
    epoch_ms("created_at"), epoch_ms("settled_at", nullable=True),
    app_fk("order_id", "orders"),
    UniqueConstraint("app_id", "out_settle_no", name="uq_settles_app_out_settle_no"),
    CheckConstraint("total_amount > 0 AND rake >= 0 AND commission >= 0 AND settle_amount >= 0", name="amounts"),
)


# 0016: a settle's receivers' shares sent through the channel's own profit sharing (settle/sharing.py): one sharing
# order per settle (out_order_no, ours), PROCESSING until the channel confirms it (FINISHED, and the `share` ledger txn
# posts with the change) or refuses it (FAILED, with the channel's reason).
channel_shares = Table(
    "channel_shares",
    metadata,
    Column("out_order_no", String(64), primary_key=True),
    Column("settle_id", String(32), nullable=False),
    app_key(),
    Column("order_id", String(32), nullable=False),
    Column("payment_id", String(32), nullable=False),
    Column("channel", String(16), nullable=False),  # the provider: wechatpay alipay
    Column("channel_pay_id", String(64), nullable=False),  # WeChat transaction_id / Alipay trade_no
    Column("receivers", Text, nullable=False),  # JSON [{merchant_uid, account, amount}]
    Column("amount", BigInteger, nullable=False),  # fen, the receivers' total
    Column("finish", Boolean, nullable=False),  # the last share of the payment: the rest is unfrozen
    Column("state", String(16), nullable=False),  # PROCESSING FINISHED FAILED
    Column("sent", Boolean, nullable=False),  # the sharing request was accepted by the channel
    Column("channel_order_id", String(64), nullable=True),  # WeChat order_id / Alipay settle_no
    Column("message", Text, nullable=True),
    Column("tries", Integer, nullable=False, default=0),
    epoch_ms("created_at"),
    epoch_ms("updated_at"),
    # 0019: when the worker asks the channel next (settle/sharing.py: the reconciler's schedule, and a lease while
    # one instance asks)
    Column("next_check_at", BigInteger, nullable=False, server_default="0", default=0),
    app_fk("settle_id", "settles"),
    UniqueConstraint("settle_id", "app_id", name="uq_channel_shares_settle"),
    Index("ix_channel_shares_due", "state", "next_check_at"),
)
