"""channel shares are asked about on a schedule: channel_shares.next_check_at, and the sweep's index on it (the
share worker asked the channel about every PROCESSING share every sweep, each second, in every process)

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0: every share that is already PROCESSING is due at once, as it was before
    op.add_column("channel_shares", sa.Column("next_check_at", sa.BigInteger(), nullable=False, server_default="0"))
    op.drop_index("ix_channel_shares_state", table_name="channel_shares")
    op.create_index("ix_channel_shares_due", "channel_shares", ["state", "next_check_at"])


def downgrade() -> None:
    op.drop_index("ix_channel_shares_due", table_name="channel_shares")
    op.create_index("ix_channel_shares_state", "channel_shares", ["state", "updated_at"])
    with op.batch_alter_table("channel_shares") as batch:
        batch.drop_column("next_check_at")
