"""handover_codes: one-time codes that hand a buyer token to a hosted page in redirect mode (issue 18 item 4), so
the token is never in a URL

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handover_codes",
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("token", sa.Text(), nullable=True),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["app_id"], ["apps.app_id"], name="fk_handover_codes_app_id_apps"),
        sa.PrimaryKeyConstraint("code_hash", name="pk_handover_codes"),
    )
    op.create_index("ix_handover_codes_expires_at", "handover_codes", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_handover_codes_expires_at", "handover_codes")
    op.drop_table("handover_codes")
