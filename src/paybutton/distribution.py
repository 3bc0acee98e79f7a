"""How the schema spreads over a Citus cluster (docs/scaling.md, "Past one PostgreSQL").

`app_id` is the distribution column: every table that holds an app's rows is distributed by it and co-located with
`orders`, so an app's orders, item orders, payments, refunds, settles, callbacks and ledger rows live on one node and
join there. Citus requires every primary key, unique constraint and foreign key of a distributed table to include the
distribution column (https://docs.citusdata.com/en/stable/develop/reference_ddl.html); migration 0017 made them so.
The tables below are shared by all apps, or looked up by a secret before the app is known; they are reference tables
(a full copy on every node). Every table is named in one of the two sets: a new table is placed deliberately.
tests/integration/test_distribution.py holds the migrated schema to this, tests/unit/test_scaling_doc.py holds
docs/scaling.md to `citus_calls`; tests/integration/test_app_id_queries.py holds the order path's statements to it."""

from __future__ import annotations

from typing import Any

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

# An app's rows, distributed by app_id. audit_log's installation-wide changes (the platform key) have app_id "*":
# one more shard key, like an app's.
DISTRIBUTED_TABLES = frozenset(
    {
        "orders", "item_orders", "payments", "refunds", "refund_items", "goods", "idempotency_keys", "outbox",
        "callback_attempts", "ledger_txns", "ledger_entries", "recon_runs", "recon_lines", "settles",
        "channel_shares", "dev_orders", "order_cps", "toolkit_settings", "bookings", "audit_log",
    }
)

# Every distributed table is co-located with this one.
COLOCATE_WITH = "orders"


def is_distributed(table_name: str) -> bool:
    """Whether a table is distributed by app_id; a table the plan does not name is an error (place it first)."""
    if table_name in DISTRIBUTED_TABLES:
        return True
    if table_name in REFERENCE_TABLES:
        return False
    raise KeyError(f"{table_name} is in neither REFERENCE_TABLES nor DISTRIBUTED_TABLES of paybutton/distribution.py")


def citus_calls(metadata: Any) -> list[str]:
    """The statements that spread a migrated database over Citus, in an order its foreign keys allow: the
    reference tables (a table after those it references), then `orders`, then every other distributed table
    co-located with it, each after the tables it references (`metadata.sorted_tables` is that order)."""
    tables = [t.name for t in metadata.sorted_tables]
    for name in tables:
        is_distributed(name)  # every table of the metadata is placed
    refs = ["alembic_version", *(n for n in tables if n in REFERENCE_TABLES)]
    dist = [COLOCATE_WITH, *(n for n in tables if n in DISTRIBUTED_TABLES and n != COLOCATE_WITH)]
    return ([f"SELECT create_reference_table('{n}');" for n in refs]
            + [f"SELECT create_distributed_table('{COLOCATE_WITH}', '{DISTRIBUTION_COLUMN}');"]
            + [f"SELECT create_distributed_table('{n}', '{DISTRIBUTION_COLUMN}', colocate_with => '{COLOCATE_WITH}');"
               for n in dist[1:]])
