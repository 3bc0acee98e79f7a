"""Stock taken in batches (group commit for the hot row).

Orders for the same good that arrive while an earlier batch of that good is being written wait, and go
together as the next batch: one guarded stock UPDATE for their sum and one insert of all their orders and item
orders, in one transaction. The window adapts to the load by itself: an order that finds its good idle goes at
the loop's next turn (with whatever else arrived in the same turn), so no time is added when the load is low;
under load a batch is whatever arrived during the previous batch's round trip.

`plan` decides a batch in memory, first come first served: walking the orders in arrival order, an order wins
when the sell condition (goods/selling.py, the same clauses as the SQL) holds for it against the stock the
earlier winners left; otherwise it gets the refusal the guarded statement would have given it alone. An order
too big for what is left does not stop a smaller one behind it (greedy first-come fit). Each order is still all
or nothing.

The writers (order/writer_pg.py, order/writer_sqlite.py) make the plan true in the database: SQLite holds the
write lock for the whole transaction; PostgreSQL's UPDATE is guarded by the row version the plan read (xmin),
so several server processes, each batching its own requests, stay correct together (a batch whose row changed
meanwhile reads it again and plans again)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from paybutton.errors import TradeError
from paybutton.goods.selling import SELL, refusal
from paybutton.order.rows import Goods, NewOrder
from paybutton.order.soldout import Mark, SoldOut
from paybutton.telemetry import metrics

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")
R = TypeVar("R")

MAX_BATCH = 512  # orders per statement; more wait for the next round trip

# The goods columns a plan and the rows need (the sell condition's and rows.Goods').
PLAN_COLUMNS = ("app_id", "goods_id", "on_shelf", "sale_start", "sale_end", "min_limits", "max_limits", "stock",
                "phone_required", "updated_at", "name", "photo_url", "price", "labels", "date_rule", "biz_line")


def goods_of(row: Mapping[str, Any]) -> Goods:
    return Goods(name=row["name"], photo_url=row["photo_url"], price=row["price"], labels=row["labels"],
                 date_rule=row["date_rule"], biz_line=row["biz_line"])


def plan(row: Mapping[str, Any] | None, goods_id: str, orders: Sequence[NewOrder]) -> list[TradeError | None]:
    """For each order, in arrival order: None when it wins, else its refusal. `row` is the goods row as read
    (None: no such good). Pure; the sum taken is the winners' quantities."""
    if row is None:
        return [TradeError("GOODS_NOT_FOUND", goods_id) for _ in orders]
    left = dict(row)
    out: list[TradeError | None] = []
    for o in orders:
        has_phone = o.phone_num is not None
        if all(c.holds(left, o.now, o.quantity, has_phone) for c in SELL):
            left["stock"] -= o.quantity
            out.append(None)
        else:
            out.append(refusal(left, goods_id, o.now, o.quantity, has_phone))
    return out


class Batcher(Generic[K, T, R]):
    """Concurrent `submit(key, item)` calls grouped per key. The call that finds its key idle starts a batch at
    the loop's next turn (no waiting); calls arriving while it is in flight queue and form the next one (at most
    MAX_BATCH). `run(key, items)`
    answers one result per item, in order (an exception in the list is raised to that item's caller; an
    exception raised by `run` goes to every caller of the batch)."""

    def __init__(self, run: Callable[[K, list[T]], Awaitable[Sequence[R | Exception]]],
                 max_batch: int = MAX_BATCH, kind: str = "") -> None:
        self._run = run
        self._size = metrics.STOCK_BATCH.labels(kind=kind) if kind else None
        self._max = max_batch
        self._queues: dict[K, list[tuple[T, asyncio.Future[R]]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches = 0
        self.items = 0

    async def submit(self, key: K, item: T) -> R:
        fut: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        queue = self._queues.get(key)
        if queue is not None:
            queue.append((item, fut))
        else:
            self._queues[key] = [(item, fut)]
            task = asyncio.create_task(self._drive(key))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await fut

    async def _drive(self, key: K) -> None:
        queue = self._queues[key]
        try:
            while queue:
                batch, queue[:] = queue[:self._max], queue[self._max:]
                await self._one(key, batch)
        finally:
            del self._queues[key]
            for _, fut in queue:  # only when cancelled (shutdown)
                if not fut.done():
                    fut.set_exception(TradeError("INTERNAL_ERROR", "the server is stopping"))

    async def _one(self, key: K, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        self.batches += 1
        self.items += len(batch)
        if self._size is not None:
            self._size.observe(len(batch))
        try:
            results = await self._run(key, [item for item, _ in batch])
        except BaseException as e:
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(e if isinstance(e, Exception) else TradeError("INTERNAL_ERROR"))
            if not isinstance(e, Exception):
                raise
            return
        for (_, fut), r in zip(batch, results, strict=True):
            if fut.done():
                continue  # the caller went away; its order stands (it expires unpaid like any other)
            if isinstance(r, Exception):
                fut.set_exception(r)
            else:
                fut.set_result(r)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


# ---------------------------------------------------------------------------------- the sold-out memory's side

def from_memory(sold: SoldOut, o: NewOrder) -> None:
    """GOODS_SOLD_OUT without the database, when this process knows the good is sold out (order/soldout.py)."""
    said = sold.answer(o.app_id, o.goods_id, o.quantity, o.now, o.phone_num is not None)
    if said is not None:
        raise said


def remember(sold: SoldOut, token: int, outcomes: Sequence[TradeError | None], after: Mapping[str, Any] | None) -> None:
    """After a batch: count the sold-out answers the database gave, and mark the good sold out when the row as
    the batch left it (`after`, read or written after `token = sold.begin()`) has no stock."""
    for r in outcomes:
        if r is not None and r.name == "GOODS_SOLD_OUT":
            sold.answered_by_database()
    if after is not None and after["stock"] <= 0:
        sold.mark(token, Mark.from_row(after))
