"""Where a queued callback goes now: the app's URL as it is at each attempt, not as it was when the callback was
queued, so a merchant who fixes a URL reaches the callbacks already waiting (and a replayed dead letter goes to
the fixed URL). Which URL a callback type uses is said once, here (the same fields the business code enqueues
with: order/paying.py and order/ending.py the payment notify, refund/creating.py pre_create_refund,
refund/finishing.py the refund notify)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.tables import apps, refunds

# callback type -> the app's URL fields, the first one set wins. A type not here (the console's test callback,
# whose body names its URL) keeps the URL it was queued with.
APP_URLS: Final[dict[str, tuple[str, ...]]] = {
    "payment": ("payment_notify_url",),
    "pre_create_refund": ("refund_url",),
    "refund": ("refund_url", "payment_notify_url"),  # after the refund's own notify_url, when it gave one
}


@dataclass(frozen=True)
class QueuedRow:
    app_id: str
    type: str
    url: str | None
    refund_id: str | None


class Queued(Protocol):
    @property
    def app_id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def url(self) -> str | None: ...
    @property
    def refund_id(self) -> str | None: ...


def url_of(row: Queued, app: Mapping[str, Any] | None, refund_notify: str | None) -> str | None:
    """The URL `row` goes to now (None: the app has none for it now)."""
    fields = APP_URLS.get(row.type)
    if fields is None or app is None:
        return row.url
    if row.type == "refund" and refund_notify:
        return refund_notify
    return next((str(app[f]) for f in fields if app.get(f)), None)


async def urls_now(conn: AsyncConnection, rows: Iterable[Queued]) -> list[str | None]:
    """The URL each row goes to now, in the rows' order: two reads for a whole batch."""
    rows = list(rows)
    app_ids = {r.app_id for r in rows if r.type in APP_URLS}
    refunds_of = {(r.app_id, r.refund_id) for r in rows if r.type == "refund" and r.refund_id}
    found: dict[str, Mapping[str, Any]] = {}
    if app_ids:
        cols = [apps.c.app_id, *(apps.c[f] for f in {f for fs in APP_URLS.values() for f in fs})]
        got = await conn.execute(select(*cols).where(apps.c.app_id.in_(app_ids)))
        found = {a.app_id: dict(a._mapping) for a in got}
    notify: dict[str, str | None] = {}
    if refunds_of:  # by their apps too: on Citus, read on those apps' nodes only
        q = select(refunds.c.refund_id, refunds.c.notify_url).where(
            refunds.c.app_id.in_({a for a, _ in refunds_of}), refunds.c.refund_id.in_({r for _, r in refunds_of}))
        notify = {r.refund_id: r.notify_url for r in await conn.execute(q)}
    return [url_of(r, found.get(r.app_id), notify.get(r.refund_id or "")) for r in rows]
