"""POST /oauth/client_token/ (reference §12.1)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from paybutton.api.models_meta import ClientToken
from paybutton.context import CtxDep
from paybutton.errors import TradeError
from paybutton.kernel import access_tokens
from paybutton.kernel.answers import answer, example

router = APIRouter(tags=["oauth"])


class ClientTokenRequest(BaseModel):
    model_config = example({"grant_type": "client_credential", "client_key": "tt07e3715e98c9aac0",
                            "client_secret": "the app's secret"})
    grant_type: str = Field(examples=["client_credential"])
    client_key: str = Field(description="the app id (tt…)")
    client_secret: str


@router.post("/oauth/client_token", summary="Get a 2-hour client_token (send it as the access-token header)",
             **answer(ClientToken))
async def client_token(body: ClientTokenRequest, ctx: CtxDep) -> dict[str, Any]:
    if body.grant_type != "client_credential":
        raise TradeError("INVALID_PARAMETER", "grant_type must be client_credential")
    async with ctx.db.tx() as conn:
        data = await access_tokens.issue(conn, ctx.clock, body.client_key, body.client_secret,
                                         ctx.settings.token_ttl_seconds)
    return {"data": {**data, "error_code": 0, "description": ""}, "message": "success"}
