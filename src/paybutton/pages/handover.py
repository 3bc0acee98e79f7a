"""The handover routes (kernel/handover.py): under /api/buyer/v1/ so that the pay-button's bridge relays them, and
outside the OpenAPI document, like the pages: they are the button's and the pages' own, not a merchant's API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from paybutton.context import CtxDep
from paybutton.kernel import handover
from paybutton.kernel.auth import BuyerDep, token_of

router = APIRouter(prefix="/api/buyer/v1/handover", include_in_schema=False)


class IssueBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    state: dict[str, Any] = Field(default_factory=dict, description="the hosted page's state, without the token")


class ExchangeBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    app_id: StrictStr = Field(min_length=1, max_length=32)
    code: StrictStr = Field(pattern=handover.CODE_PATTERN)


@router.post("")
async def issue(body: IssueBody, buyer: BuyerDep, ctx: CtxDep, response: Response,
                authorization: Annotated[str | None, Header()] = None,
                x_buyer_token: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    """A one-time code for the caller's buyer token and the page's state (the token checked by BuyerDep)."""
    token = token_of(authorization, x_buyer_token)
    async with ctx.db.tx() as conn:
        code = await handover.issue(conn, ctx.clock.now_ms(), buyer.app_id, token, body.state)
    response.headers["Cache-Control"] = "no-store"
    return {"code": code, "expires_in": handover.TTL_MS // 1000}


@router.post("/exchange")
async def exchange(body: ExchangeBody, ctx: CtxDep, response: Response) -> dict[str, Any]:
    """The token and state behind a code, once (HANDOVER_CODE_INVALID, 410, when used or expired)."""
    async with ctx.db.tx() as conn:
        got = await handover.exchange(conn, ctx.clock.now_ms(), body.app_id, body.code)
    response.headers["Cache-Control"] = "no-store"
    return {"token": got.token, "state": got.state}
