"""The load generator of the benchmark, run in its own process: C concurrent buyers, each with its own open_id
and buyer token, POSTing /api/buyer/v1/orders over keep-alive connections. Prints one JSON object.

    python -m bench.loadgen --url http://127.0.0.1:P --app-id tt.. --secret .. --goods G1,G2 \\
        --concurrency 64 --warmup 3 --seconds 20            # loop mode: throughput and latency
    python -m bench.loadgen ... --concurrency 200 --once    # every buyer places one order, all at once
    python -m bench.loadgen --url http://127.0.0.1:P1,http://127.0.0.1:P2 ...   # buyer i goes to URL i mod N

Several URLs stand for N stateless servers behind a load balancer: the balancing is done here, by buyer.
The client is raw HTTP/1.1 over asyncio streams by default (the cheapest on CPU); `--client aiohttp|httpx`
picks a library client instead."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from paybutton import buyer_token

ORDERS_PATH = "/api/buyer/v1/orders"
REQUEST_TIMEOUT = 30.0

# post(headers, body bytes) -> (HTTP status, parsed JSON body or None)
Post = Callable[[dict[str, str], bytes], Awaitable[tuple[int, Any]]]


def have_aiohttp() -> bool:
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        return False
    return True


class AiohttpClient:
    name = "aiohttp"

    def __init__(self, base: str, concurrency: int) -> None:
        import aiohttp

        self._aiohttp = aiohttp
        self.url = base + ORDERS_PATH
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency),
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
        )

    async def post(self, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        async with self.session.post(self.url, data=body, headers=headers) as resp:
            raw = await resp.read()
            return resp.status, _loads(raw)

    async def close(self) -> None:
        await self.session.close()


class HttpxClient:
    name = "httpx"

    def __init__(self, base: str, concurrency: int) -> None:
        import httpx

        self.url = base + ORDERS_PATH
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(REQUEST_TIMEOUT),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            trust_env=False,
        )

    async def post(self, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        resp = await self.client.post(self.url, content=body, headers=headers)
        return resp.status_code, _loads(resp.content)

    async def close(self) -> None:
        await self.client.aclose()


class RawClient:
    """HTTP/1.1 over asyncio streams on keep-alive connections: a load generator that leaves the cores to the
    server (aiohttp costs about 0.3 ms of CPU a request here, this about a third of that)."""

    name = "raw"

    def __init__(self, base: str, concurrency: int) -> None:
        from urllib.parse import urlsplit

        u = urlsplit(base)
        self.host = u.hostname or "127.0.0.1"
        self.port = u.port or 80
        self.head = f"POST {ORDERS_PATH} HTTP/1.1\r\nHost: {u.netloc}\r\nConnection: keep-alive\r\n".encode()
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def warm(self, n: int) -> None:
        """Open n keep-alive connections now (a load balancer's pool is warm before a sale opens)."""
        conns = await asyncio.gather(*(asyncio.open_connection(self.host, self.port) for _ in range(n)))
        self.idle.extend(conns)

    async def post(self, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        conn = self.idle.pop() if self.idle else await asyncio.open_connection(self.host, self.port)
        reader, writer = conn
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(self.head + extra.encode() + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        try:
            status_line = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), REQUEST_TIMEOUT)
        except Exception:
            writer.close()
            raise
        head = status_line.decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        length = 0
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        raw = await reader.readexactly(length) if length else b""
        self.idle.append(conn)
        return status, _loads(raw)

    async def close(self) -> None:
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()


def _loads(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


Client = AiohttpClient | HttpxClient | RawClient


def make_client(kind: str, base: str, concurrency: int) -> Client:
    if kind in ("auto", "raw"):
        return RawClient(base, concurrency)
    if kind == "aiohttp":
        return AiohttpClient(base, concurrency)
    return HttpxClient(base, concurrency)


def make_clients(args: argparse.Namespace) -> list[Client]:
    """One client per server URL; buyer i uses clients[i % N] (client-side balancing by buyer)."""
    urls = [u for u in args.url.split(",") if u]
    per = max(1, -(-args.concurrency // len(urls)))
    return [make_client(args.client, u, per) for u in urls]


def outcome(status: int, payload: Any) -> str:
    """'ok' for a placed order, else the error name (or HTTP_<status> when the body has none)."""
    if status == 200:
        if isinstance(payload, dict) and payload.get("order_id") and payload.get("out_order_no"):
            return "ok"
        return "BAD_SUCCESS_BODY"
    if isinstance(payload, dict) and isinstance(payload.get("error"), str):
        return str(payload["error"])
    return f"HTTP_{status}"


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def buyer_headers(app_id: str, secret: str, open_id: str) -> dict[str, str]:
    return {
        "Authorization": "Bearer " + buyer_token.mint(app_id, secret, open_id),
        "Content-Type": "application/json",
    }


def order_body(goods_id: str, quantity: int) -> bytes:
    return json.dumps({"goods_id": goods_id, "goods_type": 1, "quantity": quantity}).encode()


async def run_loop(args: argparse.Namespace, goods: list[str]) -> dict[str, Any]:
    clients = make_clients(args)
    bodies = {g: order_body(g, args.quantity) for g in goods}
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    warm_outcomes: Counter[str] = Counter()
    order_ids: list[str] = []
    started = time.perf_counter()
    measure_start = started + args.warmup
    measure_end = measure_start + args.seconds
    rnd = random.Random(args.seed)

    async def buyer(i: int) -> None:
        headers = buyer_headers(args.app_id, args.secret, f"{args.open_id_prefix}{i:05d}")
        client = clients[i % len(clients)]
        while True:
            body = bodies[goods[0]] if len(goods) == 1 else bodies[rnd.choice(goods)]
            t0 = time.perf_counter()
            if t0 >= measure_end:
                return
            try:
                status, payload = await client.post(headers, body)
                result = outcome(status, payload)
            except Exception as e:  # a transport error is an error of the run, counted by kind
                payload, result = None, f"EXC_{type(e).__name__}"
            t1 = time.perf_counter()
            if t1 < measure_start:
                warm_outcomes[result] += 1
            elif t1 <= measure_end:
                latencies.append(t1 - t0)
                outcomes[result] += 1
                if result == "ok" and args.keep_ids:
                    order_ids.append(payload["order_id"])
            if result.startswith("EXC_"):
                await asyncio.sleep(0.05)  # don't spin on a refused connection

    try:
        await asyncio.gather(*(buyer(i) for i in range(args.concurrency)))
    finally:
        for c in clients:
            await c.close()
    window = args.seconds
    latencies.sort()
    ok = outcomes.get("ok", 0)
    return {
        "client": clients[0].name,
        "servers": len(clients),
        "mode": "loop",
        "concurrency": args.concurrency,
        "goods": len(goods),
        "window_s": window,
        "requests": sum(outcomes.values()),
        "orders": ok,
        "orders_per_s": round(ok / window, 1),
        "requests_per_s": round(sum(outcomes.values()) / window, 1),
        "errors": sum(outcomes.values()) - ok,
        "outcomes": dict(outcomes),
        "warmup_outcomes": dict(warm_outcomes),
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p90_ms": round(percentile(latencies, 90) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "max_ms": round((latencies[-1] if latencies else 0) * 1000, 2),
        "order_ids": order_ids,
    }


async def run_once(args: argparse.Namespace, goods: list[str]) -> dict[str, Any]:
    """Every buyer places exactly one order, all released at the same moment (the oversell check and the flash
    sale). At most --connections requests are in flight at once over all servers (a load balancer's pool of
    keep-alive connections, opened before the release); a buyer's latency counts from the release, so it
    includes its wait for a connection, as a buyer behind a busy balancer sees it."""
    clients = make_clients(args)
    n = len(clients)
    cap = max(1, args.connections // n) if args.connections else args.concurrency
    gates = [asyncio.Semaphore(cap) for _ in clients]
    go = asyncio.Event()
    outcomes: Counter[str] = Counter()
    order_ids: list[str] = []
    latencies: list[float] = []
    ok_at: list[float] = []
    t0 = 0.0
    prepared = [(buyer_headers(args.app_id, args.secret, f"{args.open_id_prefix}{i:05d}"),
                 order_body(goods[i % len(goods)], args.quantity)) for i in range(args.concurrency)]

    async def buyer(i: int) -> None:
        headers, body = prepared[i]
        await go.wait()
        async with gates[i % n]:
            try:
                status, payload = await clients[i % n].post(headers, body)
                result = outcome(status, payload)
            except Exception as e:
                payload, result = None, f"EXC_{type(e).__name__}"
        done = time.perf_counter() - t0
        latencies.append(done)
        outcomes[result] += 1
        if result == "ok":
            order_ids.append(payload["order_id"])
            ok_at.append(done)

    for c in clients:
        if isinstance(c, RawClient):
            await c.warm(min(cap, args.concurrency // n + 1))
    tasks = [asyncio.ensure_future(buyer(i)) for i in range(args.concurrency)]
    try:
        await asyncio.sleep(0)  # every buyer is waiting on the release
        t0 = time.perf_counter()
        go.set()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - t0
    finally:
        for c in clients:
            await c.close()
    latencies.sort()
    return {
        "client": clients[0].name,
        "servers": n,
        "mode": "once",
        "concurrency": args.concurrency,
        "connections": cap * n,
        "requests": sum(outcomes.values()),
        "orders": outcomes.get("ok", 0),
        "outcomes": dict(outcomes),
        "elapsed_s": round(elapsed, 3),
        "last_order_s": round(max(ok_at), 3) if ok_at else None,
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "max_ms": round((latencies[-1] if latencies else 0) * 1000, 2),
        "order_ids": order_ids,
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True,
                   help="the paybutton server(s), comma-separated, e.g. http://127.0.0.1:8000,http://127.0.0.1:8001")
    p.add_argument("--app-id", required=True)
    p.add_argument("--secret", required=True, help="the app secret that signs the buyer tokens")
    p.add_argument("--goods", required=True, help="comma-separated goods ids, one picked at random per order")
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--warmup", type=float, default=3.0)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--quantity", type=int, default=1)
    p.add_argument("--once", action="store_true", help="every buyer places one order, all at once")
    p.add_argument("--connections", type=int, default=0,
                   help="--once: requests in flight at most, over all servers (default: one per buyer)")
    p.add_argument("--open-id-prefix", default="bench-buyer-")
    p.add_argument("--client", choices=("auto", "raw", "aiohttp", "httpx"), default="auto")
    p.add_argument("--keep-ids", action="store_true", help="list the placed order ids in the output")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    goods = [g for g in args.goods.split(",") if g]
    try:
        import uvloop

        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        result = runner.run(run_once(args, goods) if args.once else run_loop(args, goods))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
