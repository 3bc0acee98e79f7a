"""Callback operations for the merchant (API, CLI, console): the log of callbacks with their attempts,
replaying a dead letter, and a signed test callback sent through the outbox like every other callback.

Each function takes a connection and never commits: the caller owns the transaction."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Mapping
from typing import Any, Unpack

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from paybutton import audit
from paybutton.apps import service as app_service
from paybutton.callbacks import outbox
from paybutton.callbacks.schedules import SCHEDULES, max_attempts
from paybutton.clock import Clock
from paybutton.errors import TradeError
from paybutton.tables import outbox as outbox_t

STATUSES = outbox.STATUSES
MAX_ID = 2**63 - 1  # ids and cursors are BIGINT
TEST_TYPE = "test"
TEST_MESSAGE = "paybutton test callback: verify Byte-Signature, then answer err_no 0"

# Which of the app's URLs a test callback goes to, per target: the URL that callback type is sent to.
TEST_TARGETS: dict[str, tuple[str, ...]] = {
    "pre_create_order": ("pre_order_url",),
    "payment": ("payment_notify_url",),
    "pre_create_refund": ("refund_url",),
    "refund": ("refund_url", "payment_notify_url"),  # the refund notify falls back to the payment URL
    "marketing": ("marketing_url",),
    "settle": ("settle_url",),  # issue 21: a settle's own notify_url is per call
}


def _page_args(limit: int, cursor: int | None) -> None:
    if not 1 <= limit <= outbox.MAX_PAGE:
        raise TradeError("INVALID_PARAMETER", f"limit must be 1..{outbox.MAX_PAGE}")
    if cursor is not None and not 1 <= cursor <= MAX_ID:
        raise TradeError("INVALID_PARAMETER", "cursor must be a next_cursor of a previous page")


def _known_id(callback_id: int) -> int:
    if not 1 <= callback_id <= MAX_ID:
        raise TradeError("CALLBACK_NOT_FOUND", str(callback_id))
    return callback_id


def summary(row: Any) -> dict[str, Any]:
    """One line of the callback log: what it is, where it stands, what the merchant last answered."""
    r = dict(row)
    pending = r["status"] == outbox.PENDING
    return {
        "id": int(r["id"]),
        "type": r["type"],
        "order_id": r["order_id"],
        "refund_id": r["refund_id"],
        "url": r["url"],
        "status": r["status"],
        "attempts": r["attempts"],
        "max_attempts": max_attempts(r["schedule"]) if r["schedule"] in SCHEDULES else None,
        "next_attempt_at": r["next_attempt_at"] if pending else None,
        "last_http_status": r["last_http_status"],
        "last_answer_head": r["last_answer_head"],
        "last_error": r["last_error"],
        "created_at": r["created_at"],
        "updated_at": r["updated_at"],
    }


def _attempt(a: dict[str, Any]) -> dict[str, Any]:
    return {k: a[k] for k in ("attempt", "started_at", "duration_ms", "url", "logid", "http_status", "ok",
                              "answer_head", "error")}


def detail(row: dict[str, Any]) -> dict[str, Any]:
    """A callback with the exact body sent, the merchant's answer data and every attempt (oldest first)."""
    answer = row.get("answer_data")
    return {
        **summary(row),
        "identify_name": row["identify_name"],
        "schedule": row["schedule"],
        "body": row["body"],
        "answer_data": None if answer is None else json.loads(answer),
        "attempt_log": [_attempt(a) for a in row.get("attempt_log", [])],
    }


async def list_callbacks(
    conn: AsyncConnection, app_id: str, *, limit: int = 50, cursor: int | None = None,
    **flt: Unpack[outbox.CallbackFilter],
) -> dict[str, Any]:
    """One page of the app's callbacks, newest first: `{callback_list, next_cursor, has_more}`."""
    status = flt.get("status")
    if status is not None and status not in STATUSES:
        raise TradeError("INVALID_PARAMETER", f"status must be one of {', '.join(STATUSES)}")
    _page_args(limit, cursor)
    page = await outbox.list_callbacks(conn, app_id, limit=limit, cursor=cursor, **flt)
    return {"callback_list": [summary(r) for r in page.items], "next_cursor": page.next_cursor,
            "has_more": page.next_cursor is not None}


def attempt_view(a: dict[str, Any]) -> dict[str, Any]:
    """One attempt of the log: `callback_id` is its outbox row, null for a synchronous extension call."""
    return {"id": int(a["id"]), "callback_id": a["outbox_id"], "type": a["type"], "order_id": a["order_id"],
            **_attempt(a)}


async def list_attempts(
    conn: AsyncConnection, app_id: str, *, limit: int = 50, cursor: int | None = None,
    **flt: Unpack[outbox.AttemptFilter],
) -> dict[str, Any]:
    """One page of every attempt (outbox deliveries and the synchronous pre_create_order and marketing calls),
    newest first: `{attempt_list, next_cursor, has_more}`."""
    _page_args(limit, cursor)
    rows, nxt = await outbox.list_attempts(conn, app_id, limit=limit, cursor=cursor, **flt)
    return {"attempt_list": [attempt_view(a) for a in rows], "next_cursor": nxt, "has_more": nxt is not None}


async def get_callback(conn: AsyncConnection, app_id: str, callback_id: int) -> dict[str, Any]:
    """One of the app's callbacks with its attempts; CALLBACK_NOT_FOUND for none (or another app's)."""
    row = await outbox.get_callback(conn, app_id, _known_id(callback_id))
    if row is None:
        raise TradeError("CALLBACK_NOT_FOUND", str(callback_id))
    return detail(row)


async def replay(conn: AsyncConnection, clock: Clock, app_id: str, callback_id: int) -> dict[str, Any]:
    """Send a dead letter again: the same bytes, due now, with a fresh schedule, to the app's URL as it is now
    (callbacks/targets.py); its attempts are numbered on from the earlier ones.

    Only DEAD callbacks replay; a delivered, pending or never-sent (no URL) one is refused by name."""
    row = (await conn.execute(
        select(outbox_t.c.status).where(outbox_t.c.id == _known_id(callback_id), outbox_t.c.app_id == app_id)
    )).first()
    if row is None:
        raise TradeError("CALLBACK_NOT_FOUND", str(callback_id))
    why = {
        outbox.DONE: "it was delivered (the merchant answered err_no 0); send a test callback to check the endpoint",
        outbox.PENDING: "it is still being tried on its schedule",
        outbox.NO_URL: "no URL was configured when it was written, so it was never sent",
    }
    if row.status != outbox.DEAD:
        raise TradeError("CALLBACK_NOT_REPLAYABLE", f"callback {callback_id} is {row.status}: "
                         + why.get(row.status, "not a dead letter"))
    if not await outbox.replay(conn, clock, app_id, callback_id, statuses=(outbox.DEAD,)):
        raise TradeError("CALLBACK_NOT_REPLAYABLE", f"callback {callback_id} changed meanwhile")
    await audit.record(conn, app_id=app_id, action="callback.replay", target=str(callback_id),
                       before={"status": outbox.DEAD}, after={"status": outbox.PENDING}, at_ms=clock.now_ms())
    return await get_callback(conn, app_id, callback_id)


def build_test_msg(app_id: str, target: str, url: str, now_ms: int, test_id: str) -> dict[str, Any]:
    """The msg of a test callback (ours; the reference has no such type)."""
    return {"app_id": app_id, "test_id": test_id, "target": target, "url": url, "message": TEST_MESSAGE,
            "event_time": now_ms}


def url_for_test(app: Mapping[str, Any], target: str) -> str:
    """The app's URL that callbacks of `target` go to; CALLBACK_URL_NOT_CONFIGURED when it has none."""
    if target not in TEST_TARGETS:
        raise TradeError("INVALID_PARAMETER", f"kind must be one of {', '.join(TEST_TARGETS)}")
    for field in TEST_TARGETS[target]:
        if app.get(field):
            return str(app[field])
    raise TradeError("CALLBACK_URL_NOT_CONFIGURED", f"{target}: set {' or '.join(TEST_TARGETS[target])}")


async def send_test_callback(conn: AsyncConnection, clock: Clock, app_id: str, kind: str = "payment") -> int:
    """Queue a signed `test` callback to the app's URL for `kind`; return its outbox id.

    The dispatcher sends it once (schedule `test`, no retries) and logs the attempt like any other."""
    app = await app_service.get_app(conn, app_id)
    url = url_for_test(app, kind)
    now = clock.now_ms()
    msg = build_test_msg(app_id, kind, url, now, "tst" + secrets.token_hex(8))
    cid = await outbox.enqueue(conn, clock, app_id=app_id, kind=TEST_TYPE, url=url, msg=msg, schedule=TEST_TYPE)
    await audit.record(conn, app_id=app_id, action="callback.test", target=str(cid), after={"kind": kind, "url": url},
                       at_ms=now)
    return cid


async def wait_settled(engine: AsyncEngine, app_id: str, callback_id: int, seconds: float,
                       poll: float = 0.1) -> dict[str, Any]:
    """The callback once it is no longer PENDING, or as it stands after `seconds` (0: at once)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max(0.0, seconds)
    while True:
        async with engine.connect() as conn:
            found = await get_callback(conn, app_id, callback_id)
        if found["status"] != outbox.PENDING or loop.time() >= deadline:
            return found
        await asyncio.sleep(poll)
