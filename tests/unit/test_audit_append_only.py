"""The audit trail is append-only in the code too (issue 23): no module under src/paybutton updates or deletes an
audit_log row, by SQLAlchemy Core or by SQL text (the migration's triggers refuse it in the database, and
tests/api/test_audit.py shows they do). Plus what `audit.mask` keeps of a secret: nothing but that it was set."""

from __future__ import annotations

import re
from pathlib import Path

from paybutton import audit

SRC = Path(__file__).resolve().parents[2] / "src" / "paybutton"
WRITES = re.compile(
    r"(update|delete)\(\s*(tables\.)?audit_log\b"  # update(audit_log) / delete(tables.audit_log)
    r"|audit_log\.(update|delete)\("  # audit_log.update() / audit_log.delete()
    r"|\bUPDATE\s+audit_log\b|\bDELETE\s+FROM\s+audit_log\b|\bTRUNCATE\b[^\"'\n]*\baudit_log\b",
    re.IGNORECASE,
)


def offending(text: str) -> list[str]:
    return [m.group(0) for m in WRITES.finditer(text)]


def test_no_code_path_updates_or_deletes_an_audit_row() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if path.parent.name == "versions":  # the migration names the verbs in its refusing triggers
            continue
        found += [f"{path.relative_to(SRC)}: {hit}" for hit in offending(path.read_text(encoding="utf-8"))]
    assert not found, "the audit trail is append-only:\n" + "\n".join(found)


def test_the_scan_catches_each_spelling() -> None:
    for bad in ("await conn.execute(update(audit_log).values(actor='x'))", "delete(tables.audit_log)",
                "audit_log.delete().where(1 == 1)", "text('UPDATE audit_log SET actor = 1')",
                "text(\"delete from audit_log\")", "TRUNCATE audit_log"):
        assert offending(bad), bad
    assert not offending("await conn.execute(audit_log.insert().values(app_id='tt'))")


def test_secrets_are_masked_at_any_depth() -> None:
    kept = audit.mask({"secret": "s3cr3t", "name": "Shop", "pay_config": {"wechat": {
        "mchid": "1900", "api_v3_key": "k" * 32, "private_key": "-----BEGIN", "serial_no": "ab"}},
        "console_password": "", "theme": None, "items": [{"client_secret": "x"}]})
    assert kept == {"secret": audit.MASKED, "name": "Shop", "pay_config": {"wechat": {
        "mchid": "1900", "api_v3_key": audit.MASKED, "private_key": audit.MASKED, "serial_no": "ab"}},
        "console_password": None, "theme": None, "items": [{"client_secret": audit.MASKED}]}
