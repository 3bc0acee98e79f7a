"""What a truthful /openapi.json has, for tests/unit/test_openapi_truthful.py and the schemathesis run: no
operation whose 200 answer or request body is an object without properties (ReDoc draws one as `{}` and samples
it as property1/property2), and examples that fit their schemas."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema_rs


def _resolve(schema: Any, schemas: dict[str, Any]) -> Any:
    while isinstance(schema, dict) and "$ref" in schema:
        schema = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return schema


def _bare(schema: Any, schemas: dict[str, Any]) -> bool:
    """An object without properties (or no schema at all), following $ref, anyOf and oneOf (null aside)."""
    schema = _resolve(schema, schemas)
    if not isinstance(schema, dict):
        return True
    branches = [b for b in schema.get("anyOf", []) + schema.get("oneOf", []) if b.get("type") != "null"]
    if branches:
        return any(_bare(b, schemas) for b in branches)
    return bool(schema.get("type", "object") == "object" and not schema.get("properties"))


def _parts(op: dict[str, Any], every_status: bool = False) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(what, media type, media object) of the 200 answer (every answer) and the request body."""
    answers = op.get("responses", {}) if every_status else {"200": op.get("responses", {}).get("200", {})}
    for what, part in [*((f"{status} answer", a) for status, a in answers.items()),
                       ("request body", op.get("requestBody") or {})]:
        for media_type, media in part.get("content", {}).items():
            yield what, media_type, media


def bare_schemas(spec: dict[str, Any]) -> list[str]:
    """Every operation whose 200 answer or request body is an object without properties, as `METHOD path: what`."""
    schemas = spec.get("components", {}).get("schemas", {})
    return [f"{method.upper()} {path}: {what} ({media_type})"
            for path, ops in spec.get("paths", {}).items() for method, op in ops.items()
            for what, media_type, media in _parts(op) if _bare(media.get("schema"), schemas)]


def example_problems(spec: dict[str, Any]) -> list[str]:
    """JSON 200 answers and request bodies without an example, and examples (of any answer) that do not fit their
    schema."""
    problems = []
    for path, ops in spec.get("paths", {}).items():
        for method, op in ops.items():
            for what, media_type, media in _parts(op, every_status=True):
                if media_type != "application/json":
                    continue
                schema = _resolve(media.get("schema"), spec["components"]["schemas"])
                examples = [media["example"]] if "example" in media else schema.get("examples", [])
                if not examples and what in ("200 answer", "request body"):
                    problems.append(f"{method.upper()} {path}: {what} has no example")
                answer = schema.get("anyOf", [media["schema"]])[0]  # the OpenAPI surface: not OpenApiError
                for ex in examples:
                    problems.extend(f"{method.upper()} {path}: {what} example: {e.message} at {e.instance_path}"
                                    for e in _errors(answer, spec, ex))
    return problems


def _errors(schema: dict[str, Any], spec: dict[str, Any], instance: Any) -> list[Any]:
    validator = jsonschema_rs.Draft202012Validator({**schema, "components": spec["components"]})
    return list(validator.iter_errors(instance))
