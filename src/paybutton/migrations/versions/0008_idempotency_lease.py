"""idempotency_keys.order_id and lease_until: an order placement in progress holds its key for a lease; after it
(the process died mid-placement), a retry finds the order that was placed under order_id or places it

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as b:
        b.add_column(sa.Column("order_id", sa.String(32), nullable=True))
        b.add_column(sa.Column("lease_until", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as b:
        b.drop_column("lease_until")
        b.drop_column("order_id")
