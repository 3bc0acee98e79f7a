"""A merchant call with a body of 1 MiB or more goes out whole, without aiohttp's ResourceWarning (an error under
this suite's filterwarnings; schemathesis found it as a 500 on a pre-order of a huge order)."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestServer

from paybutton.kernel.outbound import CallbackClient


async def test_a_large_body_is_sent_whole() -> None:
    got: list[int] = []

    async def echo(request: web.Request) -> web.Response:
        got.append(len(await request.read()))
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=4 * 2**20)
    app.router.add_post("/x", echo)
    async with TestServer(app) as server:
        client = CallbackClient()
        try:
            body = b"x" * (2**20 + 5)
            answer = await client.post(str(server.make_url("/x")), content=body,
                                       headers={"Content-Type": "application/json"}, budget=10)
        finally:
            await client.aclose()
    assert answer.status_code == 200 and got == [2**20 + 5]
