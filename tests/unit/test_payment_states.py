"""The live payment states are defined once (paybutton/payment_state.py): the partial unique index of tables.py
is built from them, and migration 0007, which keeps its own literal (a migration is frozen), says the same."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from paybutton.payment_state import LIVE_PAYMENT_SQL, LIVE_PAYMENT_STATES, PaymentState
from paybutton.tables import payments

VERSIONS = Path(__file__).resolve().parents[2] / "src" / "paybutton" / "migrations" / "versions"


def test_migration_0007_index_is_the_live_states() -> None:
    spec = importlib.util.spec_from_file_location("m0007", VERSIONS / "0007_payment_attempts.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert str(module.LIVE) == LIVE_PAYMENT_SQL == "state IN ('PROCESSING', 'UNKNOWN')"


def test_table_index_is_the_live_states() -> None:
    (index,) = [i for i in payments.indexes if i.name == "uq_payments_live_order"]
    for dialect in ("postgresql", "sqlite"):
        assert str(index.dialect_options[dialect]["where"]) == LIVE_PAYMENT_SQL


def test_live_states_are_payment_states() -> None:
    assert set(LIVE_PAYMENT_STATES) == {PaymentState.PROCESSING, PaymentState.UNKNOWN}
    assert payments.c.state.default is not None and payments.c.state.default.arg == PaymentState.SUCCESS
