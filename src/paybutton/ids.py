"""Identifiers: platform order, item order, refund and payment numbers, log ids, nonces, tokens."""

from __future__ import annotations

import secrets
import time
from typing import Any

_second = [-1, "", ""]  # the last second seen, and its two stamps (formatting the time costs more than the ids)


def _stamps() -> list[Any]:
    now = int(time.time())
    if now != _second[0]:
        _second[:] = [now, time.strftime("%y%m%d%H%M%S", time.gmtime(now)),
                      time.strftime("%Y%m%d%H%M%S", time.gmtime(now))]
    return _second


def _stamp() -> str:
    return str(_stamps()[1])


def _digits(n: int) -> str:
    """n uniformly random decimal digits (one draw: leading zeros kept)."""
    return f"{secrets.randbelow(10**n):0{n}d}"


def order_id() -> str:
    return f"ot{_stamp()}{_digits(10)}"


def item_order_id() -> str:
    return f"it{_stamp()}{_digits(10)}"


def item_order_ids(n: int) -> list[str]:
    stamp = _stamp()
    return [f"it{stamp}{_digits(10)}" for _ in range(n)]


def refund_id() -> str:
    return f"rf{_stamp()}{_digits(10)}"


def payment_id() -> str:
    return f"py{_stamp()}{_digits(10)}"


def ledger_txn_id() -> str:
    return f"lx{_stamp()}{_digits(10)}"


def app_id() -> str:
    return "tt" + secrets.token_hex(8)


def secret() -> str:
    return secrets.token_hex(20)


def logid() -> str:
    """Like the platform's: 20230504163800ABA7347CE4F5 (UTC time + 12 hex)."""
    return str(_stamps()[2]) + secrets.token_hex(6).upper()


def nonce() -> str:
    return secrets.token_hex(16)


def access_token() -> str:
    return "clt." + secrets.token_urlsafe(32)


def voucher_code() -> str:
    return _digits(12)


def book_id() -> str:
    return f"bk{_stamp()}{_digits(10)}"


def settle_id() -> str:
    return f"st{_stamp()}{_digits(10)}"


def merchant_uid() -> str:
    """A seller's uid, as Douyin's (19 digits, starting with 7)."""
    return "7" + _digits(18)
