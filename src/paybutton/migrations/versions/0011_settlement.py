"""settlement (issue 21): the apps' settle rules and merchant_uid, the operator's receivers, the settles, and the
unit a settle took (item_orders.settle_id)

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("apps") as b:
        b.add_column(sa.Column("merchant_uid", sa.String(64), nullable=True))
        b.add_column(sa.Column("settle_mode", sa.String(8), nullable=False, server_default="manual"))
        b.add_column(sa.Column("settle_days", sa.Integer(), nullable=False, server_default="0"))
        b.add_column(sa.Column("rake_bps", sa.Integer(), nullable=False, server_default="0"))
        b.add_column(sa.Column("settle_url", sa.Text(), nullable=True))
    conn = op.get_bind()
    for (app_id,) in conn.execute(sa.text("SELECT app_id FROM apps")).all():
        conn.execute(sa.text("UPDATE apps SET merchant_uid = :uid WHERE app_id = :aid"),
                     {"uid": "7" + f"{secrets.randbelow(10**18):018d}", "aid": app_id})
    op.create_index("uq_apps_merchant_uid", "apps", ["merchant_uid"], unique=True)
    with op.batch_alter_table("item_orders") as b:
        b.add_column(sa.Column("settle_id", sa.String(32), nullable=True))
    op.create_table(
        "receivers",
        sa.Column("merchant_uid", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("merchant_uid", name="pk_receivers"),
    )
    op.create_table(
        "settles",
        sa.Column("settle_id", sa.String(32), nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column("out_order_no", sa.String(64), nullable=True),
        sa.Column("out_settle_no", sa.String(64), nullable=False),
        sa.Column("item_order_id", sa.String(32), nullable=True),
        sa.Column("settle_desc", sa.Text(), nullable=False),
        sa.Column("settle_params", sa.Text(), nullable=False),
        sa.Column("cp_extra", sa.Text(), nullable=True),
        sa.Column("notify_url", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("is_auto", sa.Boolean(), nullable=False),
        sa.Column("total_amount", sa.BigInteger(), nullable=False),
        sa.Column("rake", sa.BigInteger(), nullable=False),
        sa.Column("commission", sa.BigInteger(), nullable=False),
        sa.Column("settle_amount", sa.BigInteger(), nullable=False),
        sa.Column("merchant_uid", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("settled_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["app_id"], ["apps.app_id"], name="fk_settles_app_id_apps"),
        sa.ForeignKeyConstraint(["order_id"], ["orders.order_id"], name="fk_settles_order_id_orders"),
        sa.PrimaryKeyConstraint("settle_id", name="pk_settles"),
        sa.UniqueConstraint("app_id", "out_settle_no", name="uq_settles_app_out_settle_no"),
        sa.CheckConstraint("total_amount > 0 AND rake >= 0 AND commission >= 0 AND settle_amount >= 0",
                           name=op.f("ck_settles_amounts")),
    )
    op.create_index("ix_settles_order_id", "settles", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_settles_order_id", "settles")
    op.drop_table("settles")
    op.drop_table("receivers")
    with op.batch_alter_table("item_orders") as b:
        b.drop_column("settle_id")
    op.drop_index("uq_apps_merchant_uid", "apps")
    with op.batch_alter_table("apps") as b:
        for c in ("settle_url", "rake_bps", "settle_days", "settle_mode", "merchant_uid"):
            b.drop_column(c)
