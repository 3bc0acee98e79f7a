"""How the schema spreads over a Citus cluster (docs/scaling.md, "Past one PostgreSQL").

`app_id` is the distribution column: every table that holds an app's rows is distributed by it and co-located with
`orders`, so an app's orders, item orders, payments, refunds, settles, callbacks and ledger rows live on one node and
join there. Citus requires every primary key, unique constraint and foreign key of a distributed table to include the
distribution column (https://docs.citusdata.com/en/stable/develop/reference_ddl.html). The tables below are shared
by all apps, or looked up by a secret before the app is known; they are reference tables (a full copy on every node).
tests/integration/test_distribution.py holds the schema to this; tests/integration/test_app_id_queries.py holds the order path's
statements to it."""

from __future__ import annotations

DISTRIBUTION_COLUMN = "app_id"

# Shared by every app, or found by a secret (a token, a session, a handover code) before its app is known.
REFERENCE_TABLES = frozenset(
    {
        "alembic_version",
        "apps",
        "platform_keys",
        "receivers",
        "access_tokens",
        "console_sessions",
        "handover_codes",
    }
)

# Every distributed table is co-located with this one.
COLOCATE_WITH = "orders"


def is_distributed(table_name: str) -> bool:
    """Whether a table is distributed by app_id (every table that is not a reference table)."""
    return table_name not in REFERENCE_TABLES
