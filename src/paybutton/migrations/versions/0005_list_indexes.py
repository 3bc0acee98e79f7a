"""Indexes for the console's lists: an app's orders and refunds newest first, and an order's callback attempts

Without them the console's order and refund pages sort every row of the app, and an order's timeline scans the
whole callback_attempts table (one row per merchant call, so the largest table of a busy shop).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_orders_app_created", "orders", ["app_id", "created_at"])
    op.create_index("ix_refunds_app_created", "refunds", ["app_id", "created_at"])
    op.create_index("ix_callback_attempts_order_id", "callback_attempts", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_callback_attempts_order_id", "callback_attempts")
    op.drop_index("ix_refunds_app_created", "refunds")
    op.drop_index("ix_orders_app_created", "orders")
