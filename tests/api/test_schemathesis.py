"""Schemathesis over every operation of /openapi.json against a live server (SQLite by default): 0 server errors,
0 schema violations, and every operation exercised (one that got no case fails the run). The terminal summary
prints `schemathesis: N operations, M cases, S server errors, V schema violations` (tests/conftest.py).

One convention is configured away, and only that one, and only for the OpenAPI surface (/api/apps/, /api/trade/,
/oauth/): the platform answers business errors -- invalid input included -- with HTTP 200 and the codes in the
envelope (docs/integration-guide.md), so schemathesis' `negative_data_rejection` (which wants a 4xx for invalid
data) does not apply there. Every other check runs on every operation, that one too on the buyer API and every
other route. Valid data may get the buyer API's documented 422, the answer to a rule across fields that JSON Schema
cannot state (quantity vs goods_info.maxLimits; malformed input is always a 400). (Hypothesis drives
schemathesis' `operation.as_strategy`: its pytest integration crashes on pytest 9.)

The budget: PAYBUTTON_FUZZ_EXAMPLES examples per operation and mode (default 12: well under 2 minutes on 2 cores),
one deterministic round. With PAYBUTTON_FUZZ_SECONDS set, rounds with fresh seeds run until that many seconds are
spent (at least one round). PAYBUTTON_FUZZ_DB=postgresql runs it on PostgreSQL (PAYBUTTON_TEST_PG_URL).
`make fuzz` runs the long version on SQLite, then on PostgreSQL (README.md, bench/README.md)."""

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
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from merchant_stub import MerchantStub
from openapi_truth import bare_schemas
from root_conftest import FUZZ, LiveServer, _check, _checked, _pg_admin, _pg_url_for
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection

from paybutton import buyer_token
from paybutton.apps import service as app_service
from paybutton.clock import SystemClock
from paybutton.config import Settings
from paybutton.db import Database, upgrade
from paybutton.goods import service as goods_service
from paybutton.kernel.surfaces import is_openapi

EXAMPLES = int(os.environ.get("PAYBUTTON_FUZZ_EXAMPLES", "12"))
SECONDS = float(os.environ.get("PAYBUTTON_FUZZ_SECONDS", "0"))


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
        try:  # whatever the fuzzing wrote ends with `paybutton check`, as every database test (tests/conftest.py)
            problems = asyncio.run(_check(url))
            _checked["databases"] += 1
            _checked["problems"].extend(f"schemathesis ({FUZZ['database']}): {p}" for p in problems)
        finally:
            if pg_name:
                asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


def _runner(operation: Any, mode: GenerationMode, url: str, headers: dict[str, str], excluded: list[Any],
            round_no: int, counts: dict[str, int]) -> Any:
    @given(operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=round_no == 0, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(case: Any) -> None:
        FUZZ["cases"] += 1
        counts[operation.label] = counts.get(operation.label, 0) + 1
        started = time.monotonic()
        try:
            response = case.call(base_url=url, headers=headers, timeout=30)
            if response.status_code >= 500:
                FUZZ["server_errors"] += 1
            case.validate_response(response, headers=headers, excluded_checks=excluded)
        finally:
            FUZZ["seconds"] += time.monotonic() - started

    return run if round_no == 0 else seed(round_no)(run)


def test_every_operation_answers_as_documented(fuzz_target: dict[str, Any]) -> None:
    """Each operation, with data that fits its schema and data that does not, through every check."""
    spec = httpx.get(f"{fuzz_target['url']}/openapi.json", timeout=60).json()
    # A 200 answer or request body documented as an object without properties would let any answer pass: the
    # served document must say what each operation really takes and answers (tests/openapi_truth.py).
    bare = bare_schemas(spec)
    assert not bare, "operations whose 200 answer or request body is an object without properties:\n" + "\n".join(bare)
    api = schemathesis.openapi.from_url(f"{fuzz_target['url']}/openapi.json")
    # JSON Schema cannot say "no NUL in any string"; the edge refuses it everywhere (docs/integration-guide.md)
    api.config.generation.update(allow_x00=False)
    # A rule across fields of one body (a merchant good's quantity within its goods_info limits) is not JSON Schema:
    # such a body fits the schema and gets the documented 422 (QUANTITY_OUT_OF_LIMITS, a business refusal; input
    # that is malformed is always 400). The buyer API's 422 is therefore an acceptable answer to valid data.
    api.config.checks.positive_data_acceptance.expected_statuses.append("422")
    operations = [result.ok() for result in api.get_all_operations()]  # one that does not load raises here
    assert operations, "no operation in /openapi.json"
    failures: dict[str, str] = {}  # one per operation and mode, however many rounds found it
    counts: dict[str, int] = {}
    stop = time.monotonic() + SECONDS
    round_no = 0
    while True:
        for operation in operations:
            path = operation.path
            headers = {"access-token": fuzz_target["token"]} if is_openapi(path) else {
                "Authorization": f"Bearer {fuzz_target['buyer']}"}
            # The OpenAPI convention: errors come with HTTP 200 (the module docstring). Nothing else is excluded.
            excluded = [negative_data_rejection] if is_openapi(path) else []
            FUZZ["operations"].add(operation.label)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                key = f"{operation.label} ({mode.value})"
                run = _runner(operation, mode, fuzz_target["url"], headers, excluded, round_no, counts)
                try:
                    run()
                except Unsatisfiable:  # nothing in it can be made invalid (no parameters, no body): positive only
                    if mode is GenerationMode.POSITIVE:
                        failures.setdefault(key, "no valid case could be generated")
                except (Exception, BaseExceptionGroup) as e:  # keep going: one report with every failure
                    failures.setdefault(key, str(e)[:1500])
                FUZZ["violations"] = len(failures)
        round_no += 1
        FUZZ["rounds"] = round_no
        if time.monotonic() >= stop:
            break
    missed = sorted(op.label for op in operations if not counts.get(op.label))
    assert not missed, f"operations not exercised: {missed}"
    assert FUZZ["server_errors"] == 0, f"{FUZZ['server_errors']} answers with a 5xx status"
    assert not failures, "\n\n".join(f"{k}: {v}" for k, v in failures.items())
