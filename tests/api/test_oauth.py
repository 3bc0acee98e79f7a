"""client_token and the access-token checks (reference §12.1, §18: 2190002 / 2190008)."""

from __future__ import annotations

from typing import Any

from paybutton.apps import service as app_service


async def make_app(running: Any, **kw: Any) -> dict[str, Any]:
    async with running.ctx.db.tx() as conn:
        return await app_service.create_app(conn, running.ctx.clock, name=kw.pop("name", "Shop"), **kw)


async def test_client_token_issued_and_refused(running: Any) -> None:
    app = await make_app(running)
    r = await running.client.post(
        "/oauth/client_token/",
        json={"grant_type": "client_credential", "client_key": app["app_id"], "client_secret": app["secret"]},
    )
    body = r.json()
    assert r.status_code == 200
    assert body["message"] == "success"
    assert body["data"]["access_token"].startswith("clt.")
    assert body["data"]["expires_in"] == 7200
    bad = await running.client.post(
        "/oauth/client_token",
        json={"grant_type": "client_credential", "client_key": app["app_id"], "client_secret": "nope"},
    )
    assert bad.json()["extra"]["error_code"] != 0


async def test_errors_registry_served(running: Any) -> None:
    r = await running.client.get("/api/errors")
    seed = r.json()["seed"]
    assert seed["21531"]["zh"].endswith("订单可退份数等于0")
    assert "10002" in seed
