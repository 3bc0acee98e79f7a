"""The schema's base: the MetaData every table module registers its tables on, and the key type they share.
paybutton/tables.py re-exports every table, so `from paybutton.tables import X` finds any of them."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, MetaData

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# A 64-bit autoincrementing key that is a true ROWID alias on SQLite.
AutoId = BigInteger().with_variant(Integer(), "sqlite")
