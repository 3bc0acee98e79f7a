"""goods: room for HOT updates on PostgreSQL

A sold-out race updates one goods row thousands of times a minute. With free space on its page each update is
a heap-only tuple (no index entries, pruned in place); on full pages every update also writes the primary-key
index and lookups walk dead entries until vacuum runs. SQLite has no such setting: nothing to do there.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE goods SET (fillfactor = 30, autovacuum_vacuum_scale_factor = 0.0, "
                   "autovacuum_vacuum_threshold = 2000)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE goods RESET (fillfactor, autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold)")
