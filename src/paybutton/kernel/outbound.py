"""The HTTP client for callbacks to merchants (aiohttp: about a seventh of httpx's CPU per request, which
matters on the order path). One session per process, keep-alive, no proxies from the environment."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import aiohttp


class CallbackTimeout(Exception):
    """The merchant did not answer within the time budget."""


class CallbackUnreachable(Exception):
    """The merchant could not be reached (refused, reset, DNS, TLS…)."""


@dataclass(frozen=True)
class Answer:
    status_code: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


class CallbackClient:
    def __init__(self, max_connections: int = 200) -> None:
        self._max = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max, ttl_dns_cache=300),
                trust_env=False,
                auto_decompress=True,
            )
        return self._session

    async def post(self, url: str, *, content: bytes, headers: dict[str, str], budget: float) -> Answer:
        session = self._open()
        try:
            # aiohttp warns (ResourceWarning) on raw bytes of 1 MiB or more: a stream carries those instead
            data: bytes | io.BytesIO = content if len(content) < 2**20 else io.BytesIO(content)
            async with session.post(url, data=data, headers=headers,
                                    timeout=aiohttp.ClientTimeout(total=budget)) as resp:
                raw = await resp.read()
                return Answer(resp.status, raw.decode("utf-8", errors="replace"))
        except TimeoutError as e:
            raise CallbackTimeout(f"no answer within {budget}s") from e
        except aiohttp.ClientError as e:
            raise CallbackUnreachable(f"{type(e).__name__}: {e}") from e
        except ValueError as e:  # a malformed URL
            raise CallbackUnreachable(f"bad URL: {e}") from e

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
