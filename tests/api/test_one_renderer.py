"""One error renderer and one language choice (kernel/render.py) for the edge, the ASGI order shortcut and the
FastAPI routes: the `lang` query parameter first, then Accept-Language."""

from __future__ import annotations

from typing import Any

from paybutton import buyer_token
from paybutton.apps import service as app_service
from paybutton.kernel.render import lang_of


def test_lang_of_prefers_the_query_then_the_header() -> None:
    def scope(qs: bytes, header: bytes | None) -> dict[str, Any]:
        return {"query_string": qs, "headers": [(b"accept-language", header)] if header else []}

    assert lang_of(scope(b"", None)) == "zh-CN"
    assert lang_of(scope(b"", b"en-US,en;q=0.9")) == "en"
    assert lang_of(scope(b"lang=en", None)) == "en"
    assert lang_of(scope(b"lang=zh-CN", b"en")) == "zh-CN"
    assert lang_of(scope(b"lang=", b"en")) == "en"  # an empty lang falls back to the header
    assert lang_of(scope(b"lang=zh&lang=en", None)) == "en"  # the last one, as Starlette's query_params


async def test_the_shortcut_and_the_routes_choose_the_language_alike(running: Any) -> None:
    async with running.ctx.db.tx() as conn:
        a = await app_service.create_app(conn, running.ctx.clock, name="A")
    auth = {"Authorization": "Bearer " + buyer_token.mint(a["app_id"], a["secret"], "u1")}
    body = {"goods_id": "none", "goods_type": 1}
    for params, headers, english in (({"lang": "en"}, {}, True), ({}, {"Accept-Language": "en"}, True),
                                     ({}, {}, False), ({"lang": "zh-CN"}, {"Accept-Language": "en"}, False)):
        shortcut = await running.client.post("/api/buyer/v1/orders", params=params, headers={**auth, **headers},
                                             json=body)
        route = await running.client.get("/api/buyer/v1/orders/none", params=params, headers={**auth, **headers})
        assert shortcut.status_code == 404 and route.status_code == 404
        assert shortcut.json()["errMsg"].startswith("goods not found") is english
        assert route.json()["errMsg"].startswith("order not found") is english
        assert shortcut.headers["x-tt-logid"] == shortcut.json()["errLogId"]
        assert route.headers["x-tt-logid"] == route.json()["errLogId"]


async def test_the_edge_chooses_the_language_alike(running: Any) -> None:
    def refused(params: dict[str, str], headers: dict[str, str]) -> Any:
        return running.client.post("/api/buyer/v1/orders", params=params, content=b"x",
                                   headers={"Content-Type": "text/plain", **headers})

    by_query = await refused({"lang": "en"}, {})
    by_header = await refused({}, {"Accept-Language": "en"})
    default = await refused({}, {})
    assert by_query.status_code == by_header.status_code == default.status_code == 415
    assert by_query.json()["errMsg"] == by_header.json()["errMsg"] != default.json()["errMsg"]
