"""channel profit sharing (issue 20): receivers' channel accounts and channel_shares, one sharing order per settle
that sends receivers' shares through WeChat Pay's or Alipay's own profit sharing

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("receivers") as b:
        b.add_column(sa.Column("wechat_account", sa.String(64), nullable=True))
        b.add_column(sa.Column("alipay_account", sa.String(64), nullable=True))
    op.create_table(
        "channel_shares",
        sa.Column("out_order_no", sa.String(64), nullable=False),
        sa.Column("settle_id", sa.String(32), sa.ForeignKey("settles.settle_id", name="fk_channel_shares_settle_id_settles"),
                  nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column("payment_id", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("channel_pay_id", sa.String(64), nullable=False),
        sa.Column("receivers", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("finish", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("sent", sa.Boolean(), nullable=False),
        sa.Column("channel_order_id", sa.String(64), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("out_order_no", name="pk_channel_shares"),
        sa.UniqueConstraint("settle_id", name="uq_channel_shares_settle"),
    )
    op.create_index("ix_channel_shares_state", "channel_shares", ["state", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_channel_shares_state", table_name="channel_shares")
    op.drop_table("channel_shares")
    with op.batch_alter_table("receivers") as b:
        b.drop_column("alipay_account")
        b.drop_column("wechat_account")
