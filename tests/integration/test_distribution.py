"""The migrated schema is ready for Citus with app_id the distribution column (paybutton/distribution.py), on
SQLite and PostgreSQL. Read from the database by SQLAlchemy inspection, not from the metadata: every table is in
the plan; a distributed table has app_id NOT NULL, and app_id in its primary key, in every unique constraint and
unique index, and in every foreign key to another distributed table (mapped to that table's app_id); a reference
table's foreign keys point only to reference tables. Citus's rules:
https://docs.citusdata.com/en/stable/develop/reference_ddl.html ("Table Distribution", primary keys, unique and
foreign key constraints).

One exception, SQLite's own: a table whose key the database generates (outbox, callback_attempts, audit_log,
ledger_entries, recon_lines) keeps `id INTEGER PRIMARY KEY` there, the rowid, because SQLite generates a key only
for that single-column form (https://www.sqlite.org/lang_createtable.html#rowid); an id unique by itself makes
(id, app_id) unique too, and a SQLite database is never distributed. On PostgreSQL those keys are (id, app_id)."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from paybutton.db import alembic_config
from paybutton.distribution import DISTRIBUTED_TABLES, REFERENCE_TABLES
from paybutton.distribution import DISTRIBUTION_COLUMN as APP
from paybutton.tables import metadata

Schema = dict[str, dict[str, Any]]

# The distributed tables whose key the database generates: on SQLite, their rowid key (the exception above).
GENERATED_KEYS = {t.name for t in metadata.sorted_tables if t.autoincrement_column is not None} & DISTRIBUTED_TABLES


def _read(sync_conn: Any) -> Schema:
    i = inspect(sync_conn)
    return {t: {"columns": {c["name"]: c for c in i.get_columns(t)},
                "pk": i.get_pk_constraint(t)["constrained_columns"],
                "unique": [(u["name"], u["column_names"]) for u in i.get_unique_constraints(t)]
                + [(x["name"], x["column_names"]) for x in i.get_indexes(t)
                   if x["unique"] and not x.get("duplicates_constraint")],
                "fks": i.get_foreign_keys(t)} for t in i.get_table_names()}


async def read_schema(url: str) -> tuple[str, Schema]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return engine.dialect.name, await conn.run_sync(_read)
    finally:
        await engine.dispose()


def _rowid_key(dialect: str, table: str, t: dict[str, Any]) -> bool:
    """SQLite's exception: a generated key stays the single INTEGER rowid column there."""
    pk = t["pk"]
    return (dialect == "sqlite" and table in GENERATED_KEYS and len(pk) == 1
            and str(t["columns"][pk[0]]["type"]) == "INTEGER")


def _distributed_problems(dialect: str, table: str, t: dict[str, Any]) -> list[str]:
    out = []
    column = t["columns"].get(APP)
    if column is None or column["nullable"]:
        out.append(f"{table}: no {APP} NOT NULL column")
    if APP not in t["pk"] and not _rowid_key(dialect, table, t):
        out.append(f"{table}: primary key ({', '.join(t['pk'])}) without {APP}")
    for name, columns in t["unique"]:
        if APP not in columns:
            out.append(f"{table}: unique {name} ({', '.join(columns)}) without {APP}")
    for fk in t["fks"]:
        if fk["referred_table"] in REFERENCE_TABLES:
            continue  # distributed -> reference: allowed
        if dict(zip(fk["constrained_columns"], fk["referred_columns"], strict=True)).get(APP) != APP:
            out.append(f"{table}: foreign key {fk['name']} ({', '.join(fk['constrained_columns'])}) -> "
                       f"{fk['referred_table']} without {APP}")
    return out


def problems(dialect: str, schema: Schema) -> list[str]:
    """What keeps this schema from being distributed by app_id as planned (empty: nothing)."""
    out = [f"{name}: planned in paybutton/distribution.py but not in the database"
           for name in sorted((REFERENCE_TABLES | DISTRIBUTED_TABLES) - set(schema))]
    for table, t in sorted(schema.items()):
        if table in DISTRIBUTED_TABLES:
            out += _distributed_problems(dialect, table, t)
        elif table in REFERENCE_TABLES:
            out += [f"{table}: reference table with a foreign key to {fk['referred_table']}, not a reference table"
                    for fk in t["fks"] if fk["referred_table"] not in REFERENCE_TABLES]
        else:
            out.append(f"{table}: not in the plan (paybutton/distribution.py)")
    return out


async def test_the_migrated_schema_is_ready_for_citus(db_url: str) -> None:
    dialect, schema = await read_schema(db_url)
    assert problems(dialect, schema) == []
    if dialect == "sqlite":  # the exception is taken exactly where the database generates the key
        assert {t for t in schema if APP not in schema[t]["pk"] and t in DISTRIBUTED_TABLES} == GENERATED_KEYS
    else:
        assert all(schema[t]["pk"] == [*metadata.tables[t].primary_key.columns.keys()] for t in GENERATED_KEYS)


async def test_the_schema_before_0017_fails_the_check(db_url: str) -> None:
    """Migration 0016's schema (main's before this change) fails for each reason; 0017 is what fixes it."""
    cfg = alembic_config(db_url)
    await asyncio.to_thread(command.downgrade, cfg, "0016")
    try:
        dialect, schema = await read_schema(db_url)
    finally:
        await asyncio.to_thread(command.upgrade, cfg, "head")
    found = problems(dialect, schema)
    for expected in ("refund_items: no app_id NOT NULL column", "orders: primary key (order_id) without app_id",
                     "refund_items: primary key (refund_id, item_order_id) without app_id",
                     "item_orders: unique uq_item_orders_voucher_code (voucher_code) without app_id",
                     "payments: unique uq_payments_live_order (order_id) without app_id",
                     "channel_shares: unique uq_channel_shares_settle (settle_id) without app_id",
                     "item_orders: foreign key fk_item_orders_order_id_orders (order_id) -> orders without app_id",
                     "order_cps: foreign key fk_order_cps_item_order_id_item_orders (item_order_id) -> item_orders "
                     "without app_id"):
        assert expected in found, found
    assert ("outbox: primary key (id) without app_id" in found) == (dialect == "postgresql"), found
    assert problems(*await read_schema(db_url)) == []


def test_the_check_knows_the_plan_and_the_reference_tables() -> None:
    """The rules the migrated schema has no case of: a table outside the plan, a planned table missing, a
    reference table pointing at a distributed one, a foreign key that carries app_id under another name."""
    def table(pk: list[str]) -> dict[str, Any]:
        return {"columns": {c: {"nullable": False, "type": "VARCHAR(32)"} for c in [*pk, APP, "order_id"]},
                "pk": pk, "unique": [], "fks": []}

    schema = {name: table([APP] if name in DISTRIBUTED_TABLES else ["id"]) for name in
              REFERENCE_TABLES | DISTRIBUTED_TABLES if name != "goods"}
    schema["scratch"] = table(["id"])
    schema["apps"]["fks"] = [{"name": "fk_apps_x", "referred_table": "orders", "constrained_columns": ["app_id"],
                              "referred_columns": ["app_id"]}]
    schema["payments"]["fks"] = [{"name": "fk_payments_crossed", "referred_table": "orders",
                                  "constrained_columns": ["order_id", APP], "referred_columns": [APP, "order_id"]}]
    assert problems("postgresql", schema) == [
        "goods: planned in paybutton/distribution.py but not in the database",
        "apps: reference table with a foreign key to orders, not a reference table",
        "payments: foreign key fk_payments_crossed (order_id, app_id) -> orders without app_id",
        "scratch: not in the plan (paybutton/distribution.py)",
    ]
