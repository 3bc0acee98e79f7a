"""WORK IN PROGRESS (not collected: rename to test_schemathesis.py when it passes). At 12 examples per
operation it still finds 4 gaps between /openapi.json and the buyer API: cross-field rules of merchant goods_info
(quantity vs minLimits/maxLimits), `note` control characters not in the schema, and free-form objects whose
declared inner types the server does not enforce (marketing offers' goods_info.validation). 0 server errors.

Schemathesis over every operation of /openapi.json against a live server: 0 server errors, 0 schema
violations. The terminal summary prints `schemathesis: N operations, M cases, ...` (tests/conftest.py).

One convention is configured away, and only for the OpenAPI surface (/api/apps/, /api/trade/, /oauth/): the
platform answers business errors -- invalid input included -- with HTTP 200 and the codes in the envelope
(docs/integration-guide.md), so schemathesis' `negative_data_rejection` (which wants a 4xx for invalid data)
does not apply there. Every other check runs on every operation, that one too on the buyer API.

The budget: PAYBUTTON_FUZZ_EXAMPLES examples per operation (default 12, a minute or two on 2 cores);
`make fuzz` runs bench/fuzz.sh with a large budget on SQLite and on PostgreSQL (PAYBUTTON_FUZZ_DB=postgresql)."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from conftest import FUZZ, LiveServer, _pg_admin, _pg_url_for
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from merchant_stub import MerchantStub
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection

from paybutton import buyer_token
from paybutton.api.guard import is_openapi
from paybutton.apps import service as app_service
from paybutton.clock import SystemClock
from paybutton.config import Settings
from paybutton.db import Database, upgrade
from paybutton.goods import service as goods_service

EXAMPLES = int(os.environ.get("PAYBUTTON_FUZZ_EXAMPLES", "12"))


async def _seed(url: str, merchant: str) -> dict[str, Any]:
    """An app whose extension points are a real merchant server (tests/merchant_stub.py), with one good."""
    db = Database(Settings(database_url=url))
    try:
        async with db.tx() as conn:
            app = await app_service.create_app(conn, SystemClock(), name="Fuzz", **{
                k: f"{merchant}/{k}" for k in app_service.URL_FIELDS})
            await goods_service.create_goods(conn, SystemClock(), app_id=app["app_id"], goods_id="g1", name="Tea",
                                             price=100, stock=1000)
        return app
    finally:
        await db.dispose()


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from paybutton.app import create_app

    pg_name = None
    if os.environ.get("PAYBUTTON_FUZZ_DB") == "postgresql":
        pg_name = f"pb_fuzz_{uuid.uuid4().hex[:10]}"
        asyncio.run(_pg_admin(f'CREATE DATABASE "{pg_name}"'))
        url = _pg_url_for(pg_name)
        upgrade(url)
    else:
        path = tmp_path_factory.mktemp("fuzz") / "pb.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(f"sqlite:///{Path(path)}")
    merchant = LiveServer(MerchantStub().asgi()).start()
    app = asyncio.run(_seed(url, merchant.url))
    server = LiveServer(create_app(Settings(database_url=url, run_workers=False))).start()
    try:
        token = httpx.post(f"{server.url}/oauth/client_token", json={
            "grant_type": "client_credential", "client_key": app["app_id"], "client_secret": app["secret"]},
        ).json()["data"]["access_token"]
        buyer = buyer_token.mint(app["app_id"], app["secret"], "fuzz-buyer", ttl_seconds=86400)
        FUZZ["database"] = "PostgreSQL" if pg_name else "SQLite"
        yield {"url": server.url, "token": token, "buyer": buyer}
    finally:
        server.stop()
        merchant.stop()
        if pg_name:
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


def _runner(operation: Any, mode: GenerationMode, url: str, headers: dict[str, str], excluded: list[Any]) -> Any:
    @given(operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(case: Any) -> None:
        FUZZ["cases"] += 1
        started = time.monotonic()
        try:
            response = case.call(base_url=url, headers=headers, timeout=30)
            if response.status_code >= 500:
                FUZZ["server_errors"] += 1
            case.validate_response(response, headers=headers, excluded_checks=excluded)
        finally:
            FUZZ["seconds"] += time.monotonic() - started

    return run


def test_every_operation_answers_as_documented(fuzz_target: dict[str, Any]) -> None:
    """Each operation, with data that fits its schema and data that does not, through every check."""
    api = schemathesis.openapi.from_url(f"{fuzz_target['url']}/openapi.json")
    # JSON Schema cannot say "no NUL in any string"; the edge refuses it everywhere (docs/integration-guide.md)
    api.config.generation.update(allow_x00=False)
    failures: list[str] = []
    for result in api.get_all_operations():
        operation = result.ok()
        path = operation.path
        headers = {"access-token": fuzz_target["token"]} if is_openapi(path) else {
            "Authorization": f"Bearer {fuzz_target['buyer']}"}
        # The OpenAPI convention: errors come with HTTP 200 (see the module docstring). Nothing else is excluded.
        excluded = [negative_data_rejection] if is_openapi(path) else []
        FUZZ["operations"].add(operation.label)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            run = _runner(operation, mode, fuzz_target["url"], headers, excluded)
            try:
                run()
            except Unsatisfiable:  # nothing in this operation can be made invalid (no parameters, no body)
                continue
            except (Exception, BaseExceptionGroup) as e:  # keep going: one report with every operation that failed
                FUZZ["violations"] += 1
                failures.append(f"{operation.label} ({mode}): {str(e)[:1500]}")
    assert FUZZ["operations"], "no operation in /openapi.json"
    assert not failures, "\n\n".join(failures)
