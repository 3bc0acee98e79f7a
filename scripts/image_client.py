"""The buyer's side of `make image-test` and `make compose-test`: place an order for GOODS_ID at the server in the
container and pay it through the sandbox cashier, then read it back until it is paid: from READ_URL when given (another
instance on the same database: `make compose-test`), else from BASE_URL. Standard library only (it runs on the host).

usage: python3 scripts/image_client.py BASE_URL BUYER_TOKEN GOODS_ID [READ_URL]"""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from typing import Any


def call(base: str, token: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    req = urllib.request.Request(base + path, method="POST" if body is not None else "GET",
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as answer:
        return dict(json.load(answer))


def main(base: str, token: str, goods_id: str, read: str = "") -> int:
    order = call(base, token, "/api/buyer/v1/orders", {"goods_id": goods_id, "goods_type": 1, "quantity": 2})
    oid = order["order_id"]
    paid = call(base, token, f"/api/buyer/v1/orders/{oid}/pay", {"channel": "douyin"})
    read = read or base
    deadline = time.monotonic() + 10
    while True:
        status = call(read, token, f"/api/buyer/v1/orders/{oid}")["status"]
        if status == "SUCCESS" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    print(f"order {oid}: placed at {base} ({order['total_amount']} fen), pay {paid.get('outcome')}, "
          f"status {status} (read at {read})")
    return 0 if status == "SUCCESS" else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
