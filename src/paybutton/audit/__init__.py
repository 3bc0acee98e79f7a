"""The audit trail (issue 23): every change a person or a key makes is one append-only `audit_log` row, written
in the same transaction as the change: when, who, what, and the fields before and after (secrets masked).

Who is the actor of the running request or command, a context variable the surfaces set once: the console's
signed-in dependency (`console:<app_id>`), the OpenAPI's access-token dependency (`openapi:<client_key>`, the app
id the client_token was issued to) and the CLI at start (`cli:<user>@<host>`). Nothing sets it for the background
workers, so a change they make would say `system`. The services call `record` with the actor left out; a caller
that knows better (a settle run by an operator) passes `actor=`.

No code path updates or deletes a row: the database refuses it too (triggers made by migration 0015), and
tests/unit/test_audit_append_only.py fails on an UPDATE or DELETE of the table anywhere under src/."""

from __future__ import annotations

import getpass
import json
import re
import socket
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.clock import SystemClock
from paybutton.tables import audit_log

SYSTEM = "system"
PLATFORM = "*"  # the app_id of an installation-wide change (the platform key)
MASKED = "•••• (masked)"
# A field whose name says it holds a secret is never stored, only whether it was set.
SECRET_FIELD = re.compile(r"secret|password|private|api_?key|(^|_)key$|cert|pay_secrets", re.I)

_actor: ContextVar[str] = ContextVar("paybutton_audit_actor", default=SYSTEM)


def current() -> str:
    """The actor of this request or command (`system` when no surface set one)."""
    return _actor.get()


def acting(actor: str) -> None:
    """Make `actor` the one every change of this request (this asyncio task and what it awaits) is recorded as."""
    _actor.set(actor[:128])


def cli_actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's arbitrary uid)
        user = "uid?"
    return f"cli:{user}@{socket.gethostname()}"


def console_actor(app_id: str) -> str:
    return f"console:{app_id}"


def openapi_actor(client_key: str) -> str:
    return f"openapi:{client_key}"


def mask(value: Any) -> Any:
    """A value safe to keep: every secret-named field of a mapping (at any depth) masked, or None when it was unset."""
    if isinstance(value, Mapping):
        return {str(k): (_masked(v) if SECRET_FIELD.search(str(k)) else mask(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v) for v in value]
    return value


def _masked(v: Any) -> Any:
    if isinstance(v, Mapping):  # a channel's settings: keep the names, mask each value
        return {str(k): _masked(x) for k, x in v.items()}
    return MASKED if v not in (None, "", False) else None


def changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields that differ, before and after (a field on one side only counts as changed)."""
    keys = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys if k in before}, {k: after.get(k) for k in keys if k in after}


def _dump(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(mask(value), ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str)


async def record(conn: AsyncConnection, *, app_id: str, action: str, target: str = "", before: Any = None,
                 after: Any = None, actor: str | None = None, at_ms: int | None = None) -> None:
    """Append one audit row in the caller's transaction (so it commits or rolls back with the change).

    `action` is a dotted name (`goods.update`, `app.rotate_secret`, `refund.audit`, `settle.create`, ...),
    `target` what it changed (a goods id, a refund id, ...), `before`/`after` JSON-able values, masked here."""
    await conn.execute(audit_log.insert().values(
        app_id=app_id, at=at_ms if at_ms is not None else SystemClock().now_ms(),
        actor=(actor or current())[:128], action=action[:64], target=target[:128],
        before=_dump(before), after=_dump(after),
    ))
