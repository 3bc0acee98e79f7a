"""How a route documents its 200 answer in /openapi.json without changing a byte of it.

A route keeps returning its plain dict; its decorator names the answer's pydantic model:

    @router.post("/query_order", summary=..., **platform_answer(QueryOrderData))   # {data, extra} envelope
    @router.get("/orders/{order_ref}", summary=..., **answer(OrderView))          # any other JSON answer

Both set `response_model=None` (FastAPI serialises the dict as before: no field is dropped, renamed or
re-ordered) and declare the model under `responses` (documentation only). The model's first example
(`model_config = example({...})`, `data_example({...})` for a platform answer's data) becomes the
answer's example, wrapped in the envelope for the OpenAPI surface.
api/schema.py adds the error answers, and on the OpenAPI surface (HTTP 200 for business errors too) makes the
200 schema "this answer or OpenApiError". tests/unit/test_openapi_truthful.py fails on an operation whose 200
answer or request body is an object without properties, or whose example does not fit its schema."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

EXTRA_EXAMPLE: dict[str, Any] = {"error_code": 0, "description": "", "sub_error_code": 0, "sub_description": "",
                                 "logid": "20261207024752CECDF1555DC8", "now": 1796611672}


def example(first: dict[str, Any], **config: Any) -> ConfigDict:
    """A model's config with one example (shown by ReDoc and Swagger UI, checked against the schema by a test)."""
    made: ConfigDict = {**config, "json_schema_extra": {"examples": [first]}}  # type: ignore[typeddict-item]
    return made


def data_example(first: dict[str, Any], **config: Any) -> ConfigDict:
    """example() for the data of a platform answer: error_code 0 and an empty description added."""
    return example({**first, "error_code": 0, "description": ""}, **config)


def example_of(model: type[BaseModel]) -> dict[str, Any]:
    extra = model.model_config.get("json_schema_extra")
    examples = extra.get("examples") if isinstance(extra, dict) else None
    if not isinstance(examples, list) or not examples:
        raise TypeError(f"{model.__name__} has no example: give it model_config = example({{...}})")
    first = examples[0]
    if not isinstance(first, dict):
        raise TypeError(f"{model.__name__}'s example is not an object")
    return first


class OpenApiData(BaseModel):
    """The `data` of a successful platform answer: error_code 0 and an empty description, plus its fields."""

    error_code: Literal[0] = Field(description="0: success (an error answers the OpenApiError envelope)")
    description: Literal[""]


class OpenApiExtra(BaseModel):
    """The platform envelope's `extra` (reference §12.4): the codes again, this request's logid and the time."""

    model_config = example(EXTRA_EXAMPLE)
    error_code: Literal[0]
    description: str
    sub_error_code: Literal[0]
    sub_description: str
    logid: str = Field(description="this request's log id (also the x-tt-logid header)")
    now: int = Field(description="the server's time, epoch seconds")


def _json(model: type[BaseModel], ex: dict[str, Any], text: str) -> dict[int | str, Any]:
    return {200: {"model": model, "description": text, "content": {"application/json": {"example": ex}}}}


def platform_answer(data: type[OpenApiData], text: str = "Success, in the platform's {data, extra} envelope"
                    ) -> dict[str, Any]:
    """Decorator arguments for a platform OpenAPI route answering envelope(request, <data>)."""
    name = data.__name__.removesuffix("Data") + "Answer"
    envelope = create_model(name, __doc__=f"The {{data, extra}} envelope around {data.__name__}.",
                            data=(data, ...), extra=(OpenApiExtra, ...))
    ex = {"data": example_of(data), "extra": EXTRA_EXAMPLE}
    return {"response_model": None, "responses": _json(envelope, ex, text)}


def answer(model: type[BaseModel], text: str = "Success") -> dict[str, Any]:
    """Decorator arguments for a route answering a plain JSON object (the buyer API, meta routes)."""
    return {"response_model": None, "responses": _json(model, example_of(model), text)}
