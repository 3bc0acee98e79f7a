"""refunds, refund items, vouchers and verification

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 20:10:00

Hand-written; batch operations so it runs on SQLite (table copy) and PostgreSQL (plain ALTER)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("item_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refunding_amount", sa.BigInteger(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("voucher_code", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("certificate_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("verify_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("verified_at", sa.BigInteger(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_item_orders_inflight_within_price"),
            "refunding_amount >= 0 AND refunded_amount + refunding_amount <= price",
        )
        batch_op.create_unique_constraint(op.f("uq_item_orders_voucher_code"), ["voucher_code"])
        batch_op.create_index("ix_item_orders_certificate_id", ["certificate_id"], unique=False)

    op.create_table(
        "refunds",
        sa.Column("refund_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("out_refund_no", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("refund_total_amount", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.Integer(), nullable=False),
        sa.Column("audit_status", sa.String(length=16), nullable=False),
        sa.Column("need_refund_audit", sa.Integer(), nullable=False),
        sa.Column("refund_audit_deadline", sa.BigInteger(), nullable=True),
        sa.Column("deny_message", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("cp_extra", sa.Text(), nullable=True),
        sa.Column("notify_url", sa.Text(), nullable=True),
        sa.Column("order_entry_schema", sa.Text(), nullable=True),
        sa.Column("pre_refund_outbox_id", sa.BigInteger(), nullable=True),
        sa.Column("locked_until", sa.BigInteger(), nullable=True),
        sa.Column("channel_refund_id", sa.String(length=64), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("refund_at", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("refund_total_amount >= 0", name=op.f("ck_refunds_amount_not_negative")),
        sa.ForeignKeyConstraint(["app_id"], ["apps.app_id"], name=op.f("fk_refunds_app_id_apps")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.order_id"], name=op.f("fk_refunds_order_id_orders")),
        sa.PrimaryKeyConstraint("refund_id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("app_id", "out_refund_no", name="uq_refunds_app_out_refund_no"),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refunds_order_id"), ["order_id"], unique=False)
        batch_op.create_index("ix_refunds_stage", ["stage", "status"], unique=False)

    op.create_table(
        "refund_items",
        sa.Column("refund_id", sa.String(length=32), nullable=False),
        sa.Column("item_order_id", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_refund_items_amount_positive")),
        sa.ForeignKeyConstraint(
            ["item_order_id"], ["item_orders.item_order_id"], name=op.f("fk_refund_items_item_order_id_item_orders")
        ),
        sa.ForeignKeyConstraint(["refund_id"], ["refunds.refund_id"], name=op.f("fk_refund_items_refund_id_refunds")),
        sa.PrimaryKeyConstraint("refund_id", "item_order_id", name=op.f("pk_refund_items")),
    )
    with op.batch_alter_table("refund_items", schema=None) as batch_op:
        batch_op.create_index("ix_refund_items_item_order_id", ["item_order_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("refund_items", schema=None) as batch_op:
        batch_op.drop_index("ix_refund_items_item_order_id")
    op.drop_table("refund_items")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index("ix_refunds_stage")
        batch_op.drop_index(batch_op.f("ix_refunds_order_id"))
    op.drop_table("refunds")
    with op.batch_alter_table("item_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_item_orders_certificate_id")
        batch_op.drop_constraint(op.f("uq_item_orders_voucher_code"), type_="unique")
        batch_op.drop_constraint(op.f("ck_item_orders_inflight_within_price"), type_="check")
        batch_op.drop_column("verified_at")
        batch_op.drop_column("verify_id")
        batch_op.drop_column("certificate_id")
        batch_op.drop_column("voucher_code")
        batch_op.drop_column("refunding_amount")
