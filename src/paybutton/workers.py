"""Background jobs inside `serve` and `demo`: the order-expiry sweeper and the callback dispatcher."""

from __future__ import annotations

import asyncio

from paybutton.context import Ctx


def start(ctx: Ctx) -> list[asyncio.Task[None]]:
    return []
