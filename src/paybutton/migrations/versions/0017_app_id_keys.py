"""app_id in every key of a distributed table (issue 23, "Past one PostgreSQL"): ready for Citus with app_id the
distribution column (paybutton/distribution.py). Citus requires every primary key and unique constraint of a
distributed table, and every foreign key between two of them, to include the distribution column
(https://docs.citusdata.com/en/stable/develop/reference_ddl.html). refund_items gains app_id (its refund's).

Each key keeps its own column first and gains app_id after it: PK (order_id, app_id), UNIQUE (voucher_code, app_id),
the live-payment partial unique (order_id, app_id), FK (order_id, app_id) -> orders (order_id, app_id). So every
statement that finds a row by its own id, with or without app_id, still uses the same index.

Autoincrement keys: PostgreSQL's become (id, app_id), id still filled by its sequence. SQLite generates a key only
for a single-column INTEGER PRIMARY KEY (the rowid alias), so there they stay id alone, unique by itself; SQLite is
never distributed (https://www.sqlite.org/lang_createtable.html#rowid).

SQLite checks the new foreign keys once at the end (PRAGMA foreign_key_check), as PostgreSQL does while adding
them: a row whose app_id is not its parent's stops the migration. The downgrade puts the old keys back; it fails
if two apps meanwhile got the same voucher code (unique per app only since this revision).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

APP = "app_id"
# Each distributed table whose key lacked app_id: its key before this revision.
KEYS = {
    "orders": ["order_id"], "item_orders": ["item_order_id"], "payments": ["payment_id"], "refunds": ["refund_id"],
    "refund_items": ["refund_id", "item_order_id"], "ledger_txns": ["txn_id"], "recon_runs": ["run_id"],
    "settles": ["settle_id"], "channel_shares": ["out_order_no"], "dev_orders": ["order_id"],
    "order_cps": ["item_order_id"], "bookings": ["book_id"],
}
# Autoincrement keys: (id, app_id) on PostgreSQL only (see above).
AUTO_KEYS = {"outbox": ["id"], "callback_attempts": ["id"], "audit_log": ["id"], "ledger_entries": ["entry_id"],
             "recon_lines": ["id"]}
# Foreign keys between distributed tables: (table, column, referred table), the referred column of the same name.
FKS = [
    ("item_orders", "order_id", "orders"), ("payments", "order_id", "orders"), ("refunds", "order_id", "orders"),
    ("refund_items", "refund_id", "refunds"), ("refund_items", "item_order_id", "item_orders"),
    ("ledger_entries", "txn_id", "ledger_txns"), ("recon_lines", "run_id", "recon_runs"),
    ("settles", "order_id", "orders"), ("channel_shares", "settle_id", "settles"), ("dev_orders", "order_id", "orders"),
    ("order_cps", "item_order_id", "item_orders"), ("order_cps", "order_id", "orders"),
    ("bookings", "order_id", "orders"),
]
UNIQUES = {"item_orders": ("uq_item_orders_voucher_code", ["voucher_code"]),
           "channel_shares": ("uq_channel_shares_settle", ["settle_id"])}
LIVE = "state IN ('PROCESSING', 'UNKNOWN')"  # frozen here (paybutton/payment_state.py has the live one)


def _with(columns: list[str], app: bool) -> list[str]:
    return [*columns, APP] if app else columns


def _fk_name(table: str, column: str, referred: str) -> str:
    return f"fk_{table}_{column}_{referred}"


def _live_index(app: bool) -> None:
    op.create_index("uq_payments_live_order", "payments", _with(["order_id"], app), unique=True,
                    postgresql_where=sa.text(LIVE), sqlite_where=sa.text(LIVE))


def _postgresql(app: bool) -> None:
    """Drop the foreign keys, re-make the keys, the unique constraints and the live-payment index, add the foreign
    keys back, with or without app_id."""
    for table, column, referred in FKS:
        op.drop_constraint(_fk_name(table, column, referred), table, type_="foreignkey")
    keys = {**KEYS, **AUTO_KEYS}
    for table in keys:
        op.drop_constraint(f"pk_{table}", table, type_="primary")
    if not app:
        op.drop_column("refund_items", APP)
    for table, key in keys.items():
        op.create_primary_key(f"pk_{table}", table, _with(key, app))
    for table, (name, columns) in UNIQUES.items():
        op.drop_constraint(name, table, type_="unique")
        op.create_unique_constraint(name, table, _with(columns, app))
    op.drop_index("uq_payments_live_order", table_name="payments")
    _live_index(app)
    for table, column, referred in FKS:
        op.create_foreign_key(_fk_name(table, column, referred), table, referred, _with([column], app),
                              _with([column], app))


def _sqlite(app: bool) -> None:
    """Each table re-made once (batch mode), its key, unique constraint and foreign keys with or without app_id."""
    op.drop_index("uq_payments_live_order", table_name="payments")  # a partial index: re-made below, by hand
    for table in [*KEYS, *AUTO_KEYS]:
        fks = [(c, r) for t, c, r in FKS if t == table]
        if table in AUTO_KEYS and not fks:
            continue
        with op.batch_alter_table(table, recreate="always") as b:
            if table == "refund_items":
                if app:
                    b.alter_column(APP, existing_type=sa.String(32), nullable=False)
                else:
                    b.drop_column(APP)
            for column, referred in fks:
                b.drop_constraint(_fk_name(table, column, referred), type_="foreignkey")
                b.create_foreign_key(_fk_name(table, column, referred), referred, _with([column], app),
                                     _with([column], app))
            if table in KEYS:
                b.drop_constraint(f"pk_{table}", type_="primary")
                b.create_primary_key(f"pk_{table}", _with(KEYS[table], app))
            if table in UNIQUES:
                name, columns = UNIQUES[table]
                b.drop_constraint(name, type_="unique")
                b.create_unique_constraint(name, _with(columns, app))
    _live_index(app)
    broken = op.get_bind().exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"rows whose app_id is not their parent's (table, rowid, parent): {broken[:10]}")


def upgrade() -> None:
    op.add_column("refund_items", sa.Column(APP, sa.String(32), nullable=True))
    op.execute("UPDATE refund_items SET app_id = (SELECT r.app_id FROM refunds r WHERE r.refund_id = "
               "refund_items.refund_id)")
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("refund_items", APP, existing_type=sa.String(32), nullable=False)
        _postgresql(True)
    else:
        _sqlite(True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql(False)
    else:
        _sqlite(False)
