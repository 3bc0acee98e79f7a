"""recon_runs and recon_lines: daily reconciliation with the channels' bills (issue 20)

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_COUNTS = ("bill_lines", "matched", "long", "short", "diff", "breaks")


def upgrade() -> None:
    op.create_table(
        "recon_runs",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("bill_date", sa.String(10), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("problem", sa.String(16), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("lease_until", sa.BigInteger(), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("next_try_at", sa.BigInteger(), nullable=True),
        sa.Column("tries", sa.Integer(), nullable=False),
        *[sa.Column(c, sa.Integer() if c in _COUNTS else sa.BigInteger(), nullable=False)
          for c in ("bill_lines", "matched", "matched_amount", "long", "long_amount", "short", "short_amount",
                    "diff", "diff_amount", "breaks")],
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["app_id"], ["apps.app_id"], name="fk_recon_runs_app_id_apps"),
        sa.PrimaryKeyConstraint("run_id", name="pk_recon_runs"),
        sa.UniqueConstraint("app_id", "channel", "bill_date", name="uq_recon_runs_app_channel_day"),
    )
    op.create_index("ix_recon_runs_state", "recon_runs", ["state", "next_try_at"])
    op.create_table(
        "recon_lines",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("klass", sa.String(8), nullable=False),
        sa.Column("out_trade_no", sa.String(64), nullable=False),
        sa.Column("out_refund_no", sa.String(64), nullable=True),
        sa.Column("channel_amount", sa.BigInteger(), nullable=True),
        sa.Column("our_amount", sa.BigInteger(), nullable=True),
        sa.Column("channel_status", sa.String(32), nullable=True),
        sa.Column("our_status", sa.String(32), nullable=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["recon_runs.run_id"], name="fk_recon_lines_run_id_recon_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_recon_lines"),
    )
    op.create_index("ix_recon_lines_run_id", "recon_lines", ["run_id"])
    op.create_index("ix_recon_lines_app_state", "recon_lines", ["app_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_recon_lines_app_state", "recon_lines")
    op.drop_index("ix_recon_lines_run_id", "recon_lines")
    op.drop_table("recon_lines")
    op.drop_index("ix_recon_runs_state", "recon_runs")
    op.drop_table("recon_runs")
