"""The merchant server of the crash drill (`make chaos`), run as its own process so that it outlives every kill of
the trade server. It verifies every callback with the merchant library (`paybutton.merchant.verify_callback`:
signature and timestamp), answers the extension points (`pre_create_order` with out_order_no "B"+order_id,
`pre_create_refund` with out_refund_no "R"+refund_id: the same answer for a redelivery) and acknowledges the
notifications; and it appends one JSON line per callback it receives to a log, *before* answering:

    {"t": unix seconds, "type": "payment", "sha256": <of the raw body>, "ok": true, "logid": "...", "key": "..."}

`sha256` identifies the exact bytes (an outbox row's body is stored and resent byte for byte); `key` names the
business event (payment:ORDER:STATUS, refund:REFUND:STATUS, pre_create_refund:REFUND, ...). GET /stats counts.

    python -m bench.chaos_merchant --port P (or --fd N) --public-key-file platform.pem --log callbacks.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import time
from pathlib import Path
from typing import IO, Any

from bench.stub_merchant import serve
from paybutton.merchant import (
    CallbackVerificationError,
    ack,
    load_public_key,
    pre_create_order_answer,
    pre_create_refund_answer,
    verify_callback,
)


def event_key(kind: str, msg: dict[str, Any]) -> str:
    """The business event a callback reports (two callbacks with one key tell the merchant the same thing)."""
    if kind == "payment":
        return f"payment:{msg.get('order_id')}:{msg.get('status')}"
    if kind == "refund":
        return f"refund:{msg.get('refund_id')}:{msg.get('status')}"
    if kind == "pre_create_refund":
        return f"pre_create_refund:{msg.get('refund_id')}"
    if kind == "pre_create_order":
        return f"pre_create_order:{msg.get('order_id')}"
    return f"{kind}:{hashlib.sha256(json.dumps(msg, sort_keys=True).encode()).hexdigest()[:16]}"


class ChaosMerchant:
    """What HttpStub needs: `answer(headers, raw)` and `stats`."""

    def __init__(self, public_pem: str, log: IO[str]) -> None:
        self.key = load_public_key(public_pem)
        self.log = log
        self.stats: dict[str, int] = {"requests": 0, "good_signatures": 0, "bad_signatures": 0}

    def answer(self, headers: dict[bytes, bytes], raw: bytes) -> dict[str, Any]:
        self.stats["requests"] += 1
        h = {k.decode("latin-1"): v.decode("latin-1") for k, v in headers.items()}
        record: dict[str, Any] = {"t": round(time.time(), 3), "sha256": hashlib.sha256(raw).hexdigest(),
                                  "logid": h.get("byte-logid", ""), "identify": h.get("byte-identifyname", "")}
        try:
            cb = verify_callback(raw, h, self.key)
        except CallbackVerificationError as e:
            self.stats["bad_signatures"] += 1
            self._write({**record, "ok": False, "type": "?", "key": "", "error": f"{e.reason}: {e}"})
            return {"err_no": 1, "err_tips": f"bad signature: {e.reason}"}
        self.stats["good_signatures"] += 1
        kind = cb.type
        msg = cb.msg if isinstance(cb.msg, dict) else {}
        self.stats[kind] = self.stats.get(kind, 0) + 1
        self._write({**record, "ok": True, "type": kind, "key": event_key(kind, msg)})
        if kind == "pre_create_order":
            return pre_create_order_answer("B" + str(msg.get("order_id", "")))
        if kind == "pre_create_refund":
            return pre_create_refund_answer("R" + str(msg.get("refund_id", "")))
        return ack()

    def _write(self, record: dict[str, Any]) -> None:
        self.log.write(json.dumps(record, separators=(",", ":")) + "\n")
        self.log.flush()  # on disk before the answer leaves: a delivery is counted even if we are stopped next


def read_log(path: Path) -> list[dict[str, Any]]:
    """Every record of a merchant log (a torn last line, if the merchant was stopped mid-write, is skipped)."""
    out = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--port", type=int)
    where.add_argument("--fd", type=int, help="serve on this inherited listening socket")
    parser.add_argument("--public-key-file", required=True, help="the platform public key, PEM")
    parser.add_argument("--log", required=True, help="append one JSON line per callback here")
    args = parser.parse_args()
    with open(args.log, "a", encoding="utf-8") as log:
        merchant = ChaosMerchant(Path(args.public_key_file).read_text(), log)
        asyncio.run(serve(merchant, args.host, args.port, args.fd))


if __name__ == "__main__":
    main()
