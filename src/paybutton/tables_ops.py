"""Operating (issue 23): the audit trail. Times are epoch milliseconds."""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table, Text

from paybutton.tables_base import AutoId, app_key, epoch_ms, metadata

# 0015 (issue 23): the audit trail, append-only (the migration's triggers refuse UPDATE and DELETE); paybutton/audit.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    app_key(),  # "*" for an installation-wide change (the platform key)
    epoch_ms("at"),
    Column("actor", String(128), nullable=False),  # console:<app_id>, cli:<user>@<host>, openapi:<client_key>, system
    Column("action", String(64), nullable=False),  # goods.update, app.rotate_secret, refund.audit, ...
    Column("target", String(128), nullable=False),
    Column("before", Text, nullable=True),  # JSON, secrets masked
    Column("after", Text, nullable=True),
    Index("ix_audit_log_app_at", "app_id", "at"),
)
