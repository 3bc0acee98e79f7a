"""bookings (预约单, book/*) and, on item_orders, the certificate lock (toolkit/change_lock_status), the unit's
booking state and date, and push_service_done's time (issue 22)

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_NEW_ITEM_COLUMNS = ("locked", "book_status", "book_date", "service_done_at")


def upgrade() -> None:
    with op.batch_alter_table("item_orders") as batch:
        batch.add_column(sa.Column("locked", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("book_status", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("book_date", sa.String(10), nullable=True))
        batch.add_column(sa.Column("service_done_at", sa.BigInteger(), nullable=True))
    op.create_table(
        "bookings",
        sa.Column("book_id", sa.String(32), nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column("out_book_no", sa.String(64), nullable=False),
        sa.Column("open_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("book_date", sa.String(10), nullable=False),
        sa.Column("book_start_time", sa.BigInteger(), nullable=False),
        sa.Column("book_end_time", sa.BigInteger(), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("cancel_policy", sa.Integer(), nullable=False),
        sa.Column("cancel_advance_hour", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("cancelled_by", sa.String(16), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.order_id"], name="fk_bookings_order_id_orders"),
        sa.PrimaryKeyConstraint("book_id", name="pk_bookings"),
        sa.UniqueConstraint("app_id", "out_book_no", name="uq_bookings_app_out_book_no"),
    )
    op.create_index("ix_bookings_order_id", "bookings", ["order_id"])
    op.create_index("ix_bookings_app_created", "bookings", ["app_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_bookings_app_created", "bookings")
    op.drop_index("ix_bookings_order_id", "bookings")
    op.drop_table("bookings")
    with op.batch_alter_table("item_orders") as batch:
        for name in _NEW_ITEM_COLUMNS:
            batch.drop_column(name)
