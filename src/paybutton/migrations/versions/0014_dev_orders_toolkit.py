"""dev_orders (orders the developer's server created with order/create_order), order_cps (an order's creator
commission records, read by order/query_cps) and toolkit_settings (the fulfilment tool's settings of an app:
update_merchant_conf, update_merchant_path, button_white_setting) -- issue 22

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dev_orders",
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("out_order_no", sa.String(64), nullable=False),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.order_id"], name="fk_dev_orders_order_id_orders"),
        sa.PrimaryKeyConstraint("order_id", name="pk_dev_orders"),
        sa.UniqueConstraint("app_id", "out_order_no", name="uq_dev_orders_app_id"),
    )
    op.create_table(
        "order_cps",
        sa.Column("item_order_id", sa.String(32), nullable=False),
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("sell_amount", sa.BigInteger(), nullable=False),
        sa.Column("commission_amount", sa.BigInteger(), nullable=False),
        sa.Column("commission_rate", sa.Integer(), nullable=False),
        sa.Column("source_type", sa.Integer(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("commission_user_douyinid", sa.String(64), nullable=False),
        sa.Column("commission_user_nickname", sa.String(128), nullable=False),
        sa.Column("task_id", sa.String(64), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["item_order_id"], ["item_orders.item_order_id"],
                                name="fk_order_cps_item_order_id_item_orders"),
        sa.ForeignKeyConstraint(["order_id"], ["orders.order_id"], name="fk_order_cps_order_id_orders"),
        sa.PrimaryKeyConstraint("item_order_id", name="pk_order_cps"),
        sa.CheckConstraint("commission_amount >= 0", name=op.f("ck_order_cps_commission_not_negative")),
    )
    op.create_index("ix_order_cps_order_id", "order_cps", ["order_id"])
    op.create_table(
        "toolkit_settings",
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("merchant_conf", sa.Text(), nullable=True),
        sa.Column("merchant_paths", sa.Text(), nullable=True),
        sa.Column("button_white", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["app_id"], ["apps.app_id"], name="fk_toolkit_settings_app_id_apps"),
        sa.PrimaryKeyConstraint("app_id", name="pk_toolkit_settings"),
    )


def downgrade() -> None:
    op.drop_table("toolkit_settings")
    op.drop_index("ix_order_cps_order_id", "order_cps")
    op.drop_table("order_cps")
    op.drop_table("dev_orders")
