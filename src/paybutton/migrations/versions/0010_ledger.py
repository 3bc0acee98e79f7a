"""ledger_txns and ledger_entries: the double-entry ledger (issue 21), back-filled with a `pay` txn for every
payment attempt already paid and a `refund` txn for every refund already succeeded, so balances are right on an
existing database (paybutton/ledger/trade.py posts the same lines from now on).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The back-fill: txn ids 'lb' + the ref id (payment and refund ids are 24 characters), at the row's own time.
PAY_TXNS = """
INSERT INTO ledger_txns (txn_id, app_id, kind, ref_id, created_at, memo)
SELECT 'lb' || p.payment_id, p.app_id, 'pay', p.payment_id, COALESCE(p.updated_at, p.created_at), 'back-fill'
FROM payments p WHERE p.state = 'SUCCESS'"""
PAY_ENTRIES = """
INSERT INTO ledger_entries (txn_id, app_id, account, order_id, item_order_id, amount)
SELECT 'lb' || p.payment_id, p.app_id, {account}, p.order_id, NULL, {amount}
FROM payments p WHERE p.state = 'SUCCESS' AND p.amount <> 0"""
REFUND_TXNS = """
INSERT INTO ledger_txns (txn_id, app_id, kind, ref_id, created_at, memo)
SELECT 'lb' || r.refund_id, r.app_id, 'refund', r.refund_id, COALESCE(r.refund_at, r.updated_at), 'back-fill'
FROM refunds r WHERE r.status = 'SUCCESS'"""
REFUND_UNITS = """
INSERT INTO ledger_entries (txn_id, app_id, account, order_id, item_order_id, amount)
SELECT 'lb' || r.refund_id, r.app_id, 'held:' || r.app_id, r.order_id, ri.item_order_id, ri.amount
FROM refunds r JOIN refund_items ri ON ri.refund_id = r.refund_id WHERE r.status = 'SUCCESS'"""
REFUND_REST = """
INSERT INTO ledger_entries (txn_id, app_id, account, order_id, item_order_id, amount)
SELECT 'lb' || r.refund_id, r.app_id, 'held:' || r.app_id, r.order_id, NULL,
       r.refund_total_amount - COALESCE((SELECT SUM(ri.amount) FROM refund_items ri
                                         WHERE ri.refund_id = r.refund_id), 0)
FROM refunds r WHERE r.status = 'SUCCESS' AND r.refund_total_amount <> COALESCE(
    (SELECT SUM(ri.amount) FROM refund_items ri WHERE ri.refund_id = r.refund_id), 0)"""
REFUND_CHANNEL = """
INSERT INTO ledger_entries (txn_id, app_id, account, order_id, item_order_id, amount)
SELECT 'lb' || r.refund_id, r.app_id, 'channel:' || COALESCE(
           (SELECT p.provider FROM payments p
            WHERE p.payment_id = COALESCE(r.payment_id, (SELECT o.payment_id FROM orders o
                                                         WHERE o.order_id = r.order_id))), 'sandbox'),
       r.order_id, NULL, -r.refund_total_amount
FROM refunds r WHERE r.status = 'SUCCESS' AND r.refund_total_amount <> 0"""


def upgrade() -> None:
    op.create_table(
        "ledger_txns",
        sa.Column("txn_id", sa.String(32), nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("txn_id", name="pk_ledger_txns"),
        sa.UniqueConstraint("app_id", "kind", "ref_id", name="uq_ledger_txns_app_kind_ref"),
    )
    op.create_index("ix_ledger_txns_app_created", "ledger_txns", ["app_id", "created_at"])
    op.create_table(
        "ledger_entries",
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                  nullable=False),
        sa.Column("txn_id", sa.String(32), nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("account", sa.String(96), nullable=False),
        sa.Column("order_id", sa.String(32), nullable=True),
        sa.Column("item_order_id", sa.String(32), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["txn_id"], ["ledger_txns.txn_id"], name="fk_ledger_entries_txn_id_ledger_txns"),
        sa.PrimaryKeyConstraint("entry_id", name="pk_ledger_entries"),
    )
    op.create_index("ix_ledger_entries_txn_id", "ledger_entries", ["txn_id"])
    op.create_index("ix_ledger_entries_order_id", "ledger_entries", ["order_id"])
    op.create_index("ix_ledger_entries_account", "ledger_entries", ["account"])
    _back_fill()


def _back_fill() -> None:
    op.execute(PAY_TXNS)
    op.execute(PAY_ENTRIES.format(account="'channel:' || p.provider", amount="p.amount"))
    op.execute(PAY_ENTRIES.format(account="'held:' || p.app_id", amount="-p.amount"))
    op.execute(REFUND_TXNS)
    op.execute(REFUND_UNITS)
    op.execute(REFUND_REST)
    op.execute(REFUND_CHANNEL)


def downgrade() -> None:
    op.drop_table("ledger_entries")
    op.drop_table("ledger_txns")
