"""payments become attempts (state, provider, action, reconciler schedule; one live attempt per order by a partial
unique index); apps.pay_config for the real WeChat Pay and Alipay channels; refunds.payment_id (the attempt a
refund gives money back from)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

LIVE = sa.text("state IN ('PROCESSING', 'UNKNOWN')")


def upgrade() -> None:
    with op.batch_alter_table("payments") as b:
        b.add_column(sa.Column("state", sa.String(16), nullable=False, server_default="SUCCESS"))
        b.add_column(sa.Column("provider", sa.String(16), nullable=False, server_default="sandbox"))
        b.add_column(sa.Column("action", sa.Text(), nullable=True))
        b.add_column(sa.Column("message", sa.Text(), nullable=True))
        b.add_column(sa.Column("updated_at", sa.BigInteger(), nullable=True))
        b.add_column(sa.Column("next_check_at", sa.BigInteger(), nullable=True))
        b.add_column(sa.Column("checks", sa.Integer(), nullable=False, server_default="0"))
    # Attempts written before this migration ended at once: SUCCESS stays SUCCESS, anything else is CLOSED.
    op.execute("UPDATE payments SET state = CASE WHEN outcome = 'SUCCESS' THEN 'SUCCESS' ELSE 'CLOSED' END, "
               "updated_at = created_at")
    op.create_index("uq_payments_live_order", "payments", ["order_id"], unique=True,
                    postgresql_where=LIVE, sqlite_where=LIVE)
    op.create_index("ix_payments_next_check_at", "payments", ["next_check_at"])
    with op.batch_alter_table("apps") as b:
        b.add_column(sa.Column("pay_config", sa.Text(), nullable=True))
    with op.batch_alter_table("refunds") as b:
        b.add_column(sa.Column("payment_id", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("refunds") as b:
        b.drop_column("payment_id")
    with op.batch_alter_table("apps") as b:
        b.drop_column("pay_config")
    op.drop_index("ix_payments_next_check_at", "payments")
    op.drop_index("uq_payments_live_order", "payments")
    with op.batch_alter_table("payments") as b:
        for c in ("checks", "next_check_at", "updated_at", "message", "action", "provider", "state"):
            b.drop_column(c)
