"""The schema's base: the MetaData every table module registers its tables on, and the key type they share.
paybutton/tables.py re-exports every table, so `from paybutton.tables import X` finds any of them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, ForeignKeyConstraint, Integer, MetaData, String

from paybutton.distribution import DISTRIBUTION_COLUMN

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# A 64-bit autoincrementing key that is a true ROWID alias on SQLite. Since 0017 a distributed table's key is
# (id, app_id) (paybutton/distribution.py): on PostgreSQL id is still filled by its sequence; SQLite can only
# generate a single-column INTEGER PRIMARY KEY (the rowid), so there the migrations keep id alone as the key, which
# is unique by itself (and so is (id, app_id)); SQLAlchemy takes id from RETURNING or the rowid on both.
AutoId = BigInteger().with_variant(Integer(), "sqlite")

# An app's id: apps' key, and in every other table the column that names the app, which on Citus is the distribution
# column (paybutton/distribution.py). Co-located tables must give it one type, so it is written here alone.
AppId = String(32)


def epoch_ms(name: str, *, nullable: bool = False, **kw: Any) -> Column[int]:
    """A time: epoch milliseconds in a BIGINT (the schema holds no SQL dates or times); NOT NULL unless told."""
    return Column(name, BigInteger, nullable=nullable, **kw)


def app_key() -> Column[str]:
    """A table's app_id as (part of) its primary key: apps', and every distributed table's since 0017."""
    return Column(DISTRIBUTION_COLUMN, AppId, primary_key=True)


def app_ref(**kw: Any) -> Column[str]:
    """A table's app_id as a foreign key to apps (`primary_key=True`, or `nullable=False` for a reference table)."""
    return Column(DISTRIBUTION_COLUMN, AppId, ForeignKey("apps.app_id"), **kw)


def app_fk(column: str, table: str) -> ForeignKeyConstraint:
    """A foreign key between distributed tables: `column` and app_id, to the same two columns of `table` (Citus
    requires the distribution column in it: https://docs.citusdata.com/en/stable/develop/reference_ddl.html).
    Named by the naming convention after `column`, as the single-column key before 0017 was."""
    return ForeignKeyConstraint([column, DISTRIBUTION_COLUMN], [f"{table}.{column}", f"{table}.{DISTRIBUTION_COLUMN}"])
