"""Who is calling: the app behind an OpenAPI `access-token`, the buyer behind a buyer token.

Both are FastAPI dependencies (AppId, BuyerDep); buyer_of is also called by the ASGI order shortcut."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from paybutton import audit, buyer_token
from paybutton.errors import TradeError
from paybutton.kernel import access_tokens
from paybutton.kernel.ports import KernelCtx, ctx_of


async def access_app(request: Request, access_token: Annotated[str | None, Header()] = None) -> str:
    """The app id behind the `access-token` header."""
    ctx = ctx_of(request)
    async with ctx.db.engine.connect() as conn:
        app_id = await access_tokens.check(conn, ctx.clock, access_token)
    request.state.app_id = app_id
    audit.acting(audit.openapi_actor(app_id))  # the client_key the token was issued to: the audit trail's who
    return app_id


AppId = Annotated[str, Depends(access_app)]


@dataclass(frozen=True)
class Buyer:
    app_id: str
    open_id: str


async def current_buyer(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    x_buyer_token: Annotated[str | None, Header()] = None,
) -> Buyer:
    return await buyer_of(ctx_of(request), authorization, x_buyer_token)


def token_of(authorization: str | None, x_buyer_token: str | None) -> str:
    """The buyer token a request carries (`X-Buyer-Token`, else `Authorization: Bearer`), unchecked; '' if none."""
    token = x_buyer_token
    if not token and authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    return token or ""


async def buyer_of(ctx: KernelCtx, authorization: str | None, x_buyer_token: str | None) -> Buyer:
    """The buyer behind `X-Buyer-Token` or `Authorization: Bearer`; BUYER_TOKEN_INVALID otherwise."""
    token = token_of(authorization, x_buyer_token)
    if not token:
        raise TradeError("BUYER_TOKEN_INVALID", "missing buyer token")
    app_id = buyer_token.peek_app(token)
    if not app_id:
        raise TradeError("BUYER_TOKEN_INVALID")
    try:
        app = await ctx.app(app_id)
    except TradeError as e:
        raise TradeError("BUYER_TOKEN_INVALID") from e
    claims = buyer_token.verify(token, app["secret"], now=ctx.clock.now_ms() / 1000)
    if claims is None:
        raise TradeError("BUYER_TOKEN_INVALID")
    return Buyer(*claims)


BuyerDep = Annotated[Buyer, Depends(current_buyer)]
