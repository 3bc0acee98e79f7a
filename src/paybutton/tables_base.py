"""The schema's base: the MetaData every table module registers its tables on, and the key type they share.
paybutton/tables.py re-exports every table, so `from paybutton.tables import X` finds any of them."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKeyConstraint, Integer, MetaData

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


def app_fk(column: str, table: str) -> ForeignKeyConstraint:
    """A foreign key between distributed tables: `column` and app_id, to the same two columns of `table` (Citus
    requires the distribution column in it: https://docs.citusdata.com/en/stable/develop/reference_ddl.html).
    Named by the naming convention after `column`, as the single-column key before 0017 was."""
    return ForeignKeyConstraint([column, DISTRIBUTION_COLUMN], [f"{table}.{column}", f"{table}.{DISTRIBUTION_COLUMN}"])
