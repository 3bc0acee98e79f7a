"""/openapi.json tells the truth (issue 18 item 13): every operation's 200 answer and request body has its real
schema (no object without properties: ReDoc showed `{}` for query_order and property1/property2 in request
samples), with an example that fits it. The schemathesis run (tests/api/test_schemathesis.py) then checks the real
answers against these schemas."""

from __future__ import annotations

from openapi_truth import bare_schemas, example_problems

from paybutton.app import create_app
from paybutton.config import Settings


def _spec() -> dict:  # type: ignore[type-arg]
    return create_app(Settings(database_url="sqlite+aiosqlite:///:memory:")).openapi()


def test_no_answer_or_request_body_is_an_object_without_properties() -> None:
    bare = bare_schemas(_spec())
    assert not bare, f"{len(bare)} operations document a bare object:\n" + "\n".join(bare)


def test_every_answer_and_request_body_has_an_example_that_fits_its_schema() -> None:
    problems = example_problems(_spec())
    assert not problems, "\n".join(problems)
