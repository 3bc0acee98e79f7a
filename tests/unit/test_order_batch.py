"""order/batch.py: the plan of a batch (first come, greedy fit, the sell condition's refusals) and the Batcher
(an idle key runs at once; calls that arrive meanwhile form the next batch; per-item errors)."""

from __future__ import annotations

import asyncio

from paybutton.errors import TradeError
from paybutton.order.batch import Batcher, plan
from paybutton.order.rows import NewOrder

ROW = {"app_id": "a", "goods_id": "g", "on_shelf": True, "sale_start": None, "sale_end": None, "min_limits": 1,
       "max_limits": 5, "stock": 5, "phone_required": False, "price": 100, "updated_at": 1}


def order(q: int, phone: str | None = None, now: int = 1000) -> NewOrder:
    return NewOrder(order_id=f"o{q}", app_id="a", open_id="b", goods_id="g", goods_type=1, quantity=q,
                    phone_num=phone, contact_name=None, cp_extra=None, out_order_no=None, pre_order_status="OK",
                    delivery_type=0, pay_expire_ms=1, item_ids=[f"i{n}" for n in range(q)], now=now)


def names(outcomes: list[TradeError | None]) -> list[str]:
    return ["ok" if r is None else r.name for r in outcomes]


def test_first_come_greedy_fit() -> None:
    batch = [order(2), order(4), order(3), order(1), order(1)]
    out = plan(ROW, "g", batch)
    # 2 wins (3 left), 4 does not fit, 3 fits exactly, then nothing is left
    assert names(out) == ["ok", "GOODS_SOLD_OUT", "ok", "GOODS_SOLD_OUT", "GOODS_SOLD_OUT"]
    assert sum(o.quantity for o, r in zip(batch, out, strict=True) if r is None) == 5
    assert out[1] is not None and out[1].message == "only 3 left"
    assert out[3] is not None and out[3].message is None  # stock 0: plain sold out
    assert ROW["stock"] == 5  # the row given is not changed


def test_refusals_follow_the_sell_condition() -> None:
    assert names(plan(None, "g", [order(1)])) == ["GOODS_NOT_FOUND"]
    assert names(plan({**ROW, "on_shelf": False}, "g", [order(1)])) == ["GOODS_OFF_SHELF"]
    assert names(plan({**ROW, "sale_start": 2000}, "g", [order(1)])) == ["GOODS_NOT_STARTED"]
    assert names(plan({**ROW, "sale_end": 1000}, "g", [order(1)])) == ["GOODS_SALE_ENDED"]
    assert names(plan(ROW, "g", [order(6), order(1)])) == ["QUANTITY_OUT_OF_LIMITS", "ok"]
    required = {**ROW, "phone_required": True}
    assert names(plan(required, "g", [order(1), order(1, "13800138000")])) == ["PHONE_REQUIRED", "ok"]


async def test_an_idle_key_runs_alone_and_the_rest_batch() -> None:
    seen: list[tuple[str, list[int]]] = []

    async def run(key: str, items: list[int]) -> list[int | Exception]:
        seen.append((key, list(items)))
        await asyncio.sleep(0.01)
        return [i * 10 if i >= 0 else TradeError("GOODS_SOLD_OUT") for i in items]

    async def later(i: int) -> int:
        await asyncio.sleep(0.005)  # while the first batch of "k" is in flight
        return await b.submit("k", i)

    b: Batcher[str, int, int] = Batcher(run)
    calls = [b.submit("k", i) for i in (1, 2, 3, -1, 4)] + [b.submit("other", 7), later(5), later(6)]
    got = await asyncio.gather(*calls, return_exceptions=True)
    assert got[:3] == [10, 20, 30] and got[4:] == [40, 70, 50, 60]
    assert isinstance(got[3], TradeError) and got[3].name == "GOODS_SOLD_OUT"
    # what arrived in the same turn of the loop goes at once; what arrived during its round trip goes next
    assert seen == [("k", [1, 2, 3, -1, 4]), ("other", [7]), ("k", [5, 6])]
    assert (b.batches, b.items) == (3, 8)
    assert await b.submit("k", 9) == 90  # idle again: alone


async def test_a_failing_run_fails_its_batch_only() -> None:
    async def run(key: str, items: list[int]) -> list[int | Exception]:
        await asyncio.sleep(0)
        if 2 in items:
            raise RuntimeError("database went away")
        return list(items)

    async def later(i: int) -> int:
        await asyncio.sleep(0)
        return await b.submit("k", i)

    b: Batcher[str, int, int] = Batcher(run)
    got = await asyncio.gather(b.submit("k", 1), later(2), later(3), return_exceptions=True)
    assert got[0] == 1  # its batch went before 2 and 3 arrived
    assert isinstance(got[1], RuntimeError) and isinstance(got[2], RuntimeError)
    assert await b.submit("k", 4) == 4


async def test_max_batch() -> None:
    sizes: list[int] = []

    async def run(key: str, items: list[int]) -> list[int | Exception]:
        sizes.append(len(items))
        await asyncio.sleep(0)
        return list(items)

    b: Batcher[str, int, int] = Batcher(run, max_batch=3)
    assert await asyncio.gather(*(b.submit("k", i) for i in range(8))) == list(range(8))
    assert sizes == [3, 3, 2]
