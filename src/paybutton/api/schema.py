"""A truthful /openapi.json: every operation lists every status it can answer, with the error body.

A route declares only its 200 answer (kernel/answers.py); the errors are declared once here for every router:
the OpenAPI surface (/api/apps/, /api/trade/, /oauth/) answers errors in the {data, extra} envelope with HTTP 200
-- the platform's convention -- except the transport errors 405, 413 and 415; the buyer API and our other JSON
routes answer {errNo, errMsg, errLogId, error, detail} with the error's HTTP status (the statuses in errors.py).
Every answer carries one `x-tt-logid` header; a 405 carries `Allow`. On the OpenAPI surface the 200 is "the answer
or OpenApiError"; every error answer has an example, and the examples keep their nulls."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from paybutton import inputs
from paybutton.errors import REGISTRY, TradeError, api_error_envelope, buyer_error_body
from paybutton.kernel import guard, surfaces

OPENAPI_ERROR: dict[str, Any] = {
    "title": "OpenApiError",
    "type": "object",
    "description": "The platform envelope of an error: extra.error_code and sub_error_code are not 0.",
    "required": ["data", "extra"],
    "properties": {
        "data": {"type": "object", "required": ["error_code", "description"], "properties": {
            "error_code": {"type": "integer", "not": {"const": 0}}, "description": {"type": "string"}}},
        "extra": {"type": "object", "required": ["error_code", "description", "sub_error_code", "sub_description",
                                                 "logid", "now"], "properties": {
            "error_code": {"type": "integer"}, "description": {"type": "string"},
            "sub_error_code": {"type": "integer"}, "sub_description": {"type": "string"},
            "logid": {"type": "string"}, "now": {"type": "integer"}}},
    },
}
BUYER_ERROR: dict[str, Any] = {
    "title": "BuyerError",
    "type": "object",
    "description": "An error of the buyer API (the pay-button's bind:error shape plus the error's name).",
    "required": ["errNo", "errMsg", "errLogId", "error"],
    "properties": {
        "errNo": {"type": "integer"}, "errMsg": {"type": "string"}, "errLogId": {"type": "string"},
        "error": {"type": "string", "enum": sorted(REGISTRY)},
        "detail": {"anyOf": [{"type": "object"}, {"type": "null"}]},
    },
}
# What any JSON value the edge lets in looks like (paybutton/inputs.py): documented as the schema of the
# properties a body may carry beyond its declared ones (they are ignored, but checked).
CLEAN_JSON: dict[str, Any] = {
    "title": "CleanJson",
    "description": "any JSON value: strings without NUL or lone surrogates, integers within BIGINT",
    "anyOf": [
        {"type": "string", "pattern": "^[^\\u0000]*$"},
        {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1},
        {"type": "number"},
        {"type": "boolean"}, {"type": "null"},
        {"type": "array", "items": {"$ref": "#/components/schemas/CleanJson"}},
        {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/CleanJson"}},
    ],
}
LOGID = {"x-tt-logid": {"description": "this request's log id", "schema": {"type": "string"}}}
ALLOW = {"Allow": {"description": "the methods this path takes", "schema": {"type": "string"}}}
BUYER_STATUSES = sorted({s.http_status for s in REGISTRY.values()} | set(surfaces.TRANSPORT_STATUSES) | {400})


# The error each status's example shows (any error of that status otherwise).
EXAMPLE_ERRORS = ("INVALID_PARAMETER", "BUYER_TOKEN_INVALID", "ORDER_NOT_FOUND", "GOODS_SOLD_OUT",
                  "QUANTITY_OUT_OF_LIMITS", "INTERNAL_ERROR", "PRE_ORDER_SERVER_ERROR")
EXAMPLE_LOGID = "20261207024752CECDF1555DC8"


def _error_example(ref: str, status: int) -> dict[str, Any]:
    names = [n for n in EXAMPLE_ERRORS if REGISTRY[n].http_status == status]
    err = TradeError((names or [n for n, s in REGISTRY.items() if s.http_status == status])[0])
    if ref == "OpenApiError":
        return api_error_envelope(err, EXAMPLE_LOGID, 1796611672)
    return buyer_error_body(err, EXAMPLE_LOGID)


def _error(ref: str, status: int, text: str) -> dict[str, Any]:
    headers = {**LOGID, **(ALLOW if status == 405 else {})}
    return {"description": text, "headers": headers, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{ref}"}, "example": _error_example(ref, status)}}}


def error_responses(path: str, method: str) -> dict[str, dict[str, Any]]:
    """The error answers of one operation, by status."""
    body_statuses = {413, 415} if method.upper() in guard.BODY_METHODS else set()
    if surfaces.is_openapi(path):  # business errors: HTTP 200 (see the 200 answer); these keep their status
        return {str(s): _error("OpenApiError", s, REGISTRY_TEXT[s]) for s in sorted({405, 500} | body_statuses)}
    statuses = [s for s in BUYER_STATUSES if s not in (413, 415) or s in body_statuses]
    return {str(s): _error("BuyerError", s, REGISTRY_TEXT.get(s, "an error (see docs/errors.md)")) for s in statuses}


REGISTRY_TEXT: dict[int, str] = {
    400: "invalid input (INVALID_PARAMETER, PARSE_ERROR, …)",
    401: "not signed in (BUYER_TOKEN_INVALID, …)",
    402: "payment failed",
    403: "no access or no capability",
    404: "not found",
    405: "method not allowed (see Allow)",
    409: "the state does not allow it",
    413: "the body is larger than the limit (max_body_bytes)",
    415: "the Content-Type is not application/json",
    422: "the order data is refused",
    500: "internal error",
    502: "the merchant's extension point failed",
}


def _clean_free_objects(node: Any) -> None:
    """A free-form object (`dict[str, Any]`, additionalProperties: true) holds CleanJson values."""
    if isinstance(node, dict):
        if node.get("additionalProperties") is True:
            node["additionalProperties"] = {"$ref": "#/components/schemas/CleanJson"}
        for v in node.values():
            _clean_free_objects(v)
    elif isinstance(node, list):
        for v in node:
            _clean_free_objects(v)


def _edge_pattern(key: str) -> str | None:
    if key in inputs.NAME_KEYS:
        return inputs.NAME_PATTERN
    return inputs.TEXT_PATTERN if key in inputs.TEXT_KEYS else None


def _state_edge_rule(key: str, schema: Any) -> None:
    """A string named in inputs.NAME_KEYS/TEXT_KEYS gets the edge's control-character rule as its pattern (unless
    it declares a pattern of its own), wherever it is declared: the edge checks by name (inputs.check_field)."""
    pattern = _edge_pattern(key)
    if pattern is None or not isinstance(schema, dict):
        return
    for s in [schema, *schema.get("anyOf", [])]:
        if isinstance(s, dict) and s.get("type") == "string" and "pattern" not in s:
            s["pattern"] = pattern


def _state_edge_rules(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "integer" or node.get("type") == ["integer", "null"]:  # the edge: BIGINT only
            node.setdefault("minimum", inputs.BIGINT_MIN)
            node.setdefault("maximum", inputs.BIGINT_MAX)
        props = node.get("properties")
        if isinstance(props, dict):
            for key, sub in props.items():
                _state_edge_rule(key, sub)
        for v in node.values():
            _state_edge_rules(v)
    elif isinstance(node, list):
        for v in node:
            _state_edge_rules(v)


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[-1])
        for v in node.values():
            _refs(v, found)
    elif isinstance(node, list):
        for v in node:
            _refs(v, found)


def _request_schemas(spec: dict[str, Any]) -> set[str]:
    """The component schemas a request body uses, directly or through others."""
    schemas = spec["components"]["schemas"]
    todo: set[str] = set()
    for ops in spec.get("paths", {}).values():
        for op in ops.values():
            _refs(op.get("requestBody"), todo)
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas or name == "CleanJson":
            continue
        seen.add(name)
        _refs(schemas[name], todo)
    return seen


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def _models(cls: type[BaseModel]) -> Iterator[type[BaseModel]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _models(sub)


def _restore_examples(spec: dict[str, Any], routes: list[Any]) -> None:
    """FastAPI writes the document without None values (exclude_none), examples included: put every example a
    route or a model declares back whole (a null in an example is as true as any other value)."""
    for route in iter_route_contexts(routes):  # the routes of included routers too, with their full paths
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        ops = spec["paths"].get(route.path_format, {})
        for method in route.methods or ():
            op = ops.get(method.lower(), {})
            for status, declared in route.responses.items():
                for media_type, media in declared.get("content", {}).items():
                    if "example" in media:
                        op["responses"][str(status)]["content"][media_type]["example"] = media["example"]
    schemas = spec["components"]["schemas"]
    for model in _models(BaseModel):
        extra = model.model_config.get("json_schema_extra")
        examples = extra.get("examples") if isinstance(extra, dict) else None
        schema = schemas.get(model.__name__)
        if examples and schema and schema.get("examples") == _without_none(examples):
            schema["examples"] = examples


def _notify_refusals(responses: dict[str, Any]) -> None:
    """A channel's notify refused as that channel wants it (Cashier.notify_answer): the sandbox an empty 400,
    WeChat Pay a 500 with {code: FAIL, message}."""
    responses["400"]["content"]["text/plain"] = {"schema": {"type": "string", "maxLength": 0}}
    media = responses["500"]["content"]["application/json"]
    media["schema"] = {"anyOf": [media["schema"], {
        "type": "object", "title": "WechatNotifyRefusal", "required": ["code", "message"],
        "properties": {"code": {"const": "FAIL"}, "message": {"type": "string"}}}]}


def _or_error(resp: dict[str, Any]) -> None:
    """The OpenAPI surface answers a business error with HTTP 200 too: its 200 is the answer or OpenApiError."""
    media = resp.get("content", {}).get("application/json")
    if media and media.get("schema"):
        media["schema"] = {"anyOf": [media["schema"], {"$ref": "#/components/schemas/OpenApiError"}]}
    resp["description"] += "; an error answers HTTP 200 too, as the OpenApiError envelope (the platform's convention)"


class PaybuttonAPI(FastAPI):
    """FastAPI whose /openapi.json adds the error answers to every operation."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema:
            return self.openapi_schema
        spec = get_openapi(title=self.title, version=self.version, description=self.description,
                           routes=self.routes)
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        _restore_examples(spec, self.routes)
        schemas["OpenApiError"] = OPENAPI_ERROR
        schemas["BuyerError"] = BUYER_ERROR
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        for body in list(schemas.values()):
            if body.get("type") == "object" and "additionalProperties" not in body:
                body["additionalProperties"] = {"$ref": "#/components/schemas/CleanJson"}
            _clean_free_objects(body)
        schemas["CleanJson"] = CLEAN_JSON
        for name in _request_schemas(spec):  # not answers: they may quote what they refuse
            _state_edge_rules(schemas[name])
        for path, ops in spec.get("paths", {}).items():
            for method, op in ops.items():
                for param in op.get("parameters", []):
                    if param.get("in") == "query":
                        _state_edge_rule(param["name"], param.get("schema"))
                _state_edge_rules(op.get("requestBody"))
                responses = op.setdefault("responses", {})
                responses.pop("422", None)  # FastAPI's validation body: ours answers INVALID_PARAMETER instead
                for status, resp in responses.items():
                    resp.setdefault("headers", {}).update(LOGID)
                    if surfaces.is_openapi(path) and status == "200":
                        _or_error(resp)
                responses.update(error_responses(path, method))
                if surfaces.surface(path) == "notify":
                    _notify_refusals(responses)
        self.openapi_schema = spec
        return spec
