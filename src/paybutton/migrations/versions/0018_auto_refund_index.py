"""the orders with a late payment to give back: a partial index, so that the refund worker's sweep (every second, in
every process) reads only them instead of every order (refund/worker._late_orders; tables.AUTO_REFUND_PENDING)

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the predicate as each dialect renders `orders.auto_refund_pending IS true` (the sweep's own WHERE: a partial
    # index serves a query whose WHERE implies its predicate, and SQLite needs the same term written the same way)
    op.create_index("ix_orders_auto_refund_pending", "orders", ["app_id", "order_id"],
                    postgresql_where=sa.text("auto_refund_pending IS true"),
                    sqlite_where=sa.text("auto_refund_pending IS 1"))


def downgrade() -> None:
    op.drop_index("ix_orders_auto_refund_pending", table_name="orders")
