"""Console: an app's real payment channels (WeChat Pay, Alipay) on the settings page. A secret field left empty
keeps the saved value; saved secrets are shown only as "set (…last 4)"; "remove" goes back to the sandbox."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from paybutton.apps import service as app_service
from paybutton.cashier import payconfig
from paybutton.console import forms
from paybutton.console.routes import _post, _settings
from paybutton.context import CtxDep
from paybutton.errors import TradeError

router = APIRouter(include_in_schema=False)


@router.post("/console/settings/pay/{channel}", response_class=HTMLResponse)
async def pay_settings_save(channel: str, request: Request, ctx: CtxDep) -> Response:
    got = await _post(request, ctx)
    if isinstance(got, Response):
        return got
    c, form = got
    assert c.app is not None
    if channel not in payconfig.FIELDS:
        return c.not_found()
    edit = {name: str(form.get(name) or "").strip() for name in payconfig.FIELDS[channel]}
    try:
        async with ctx.db.tx() as conn:
            await app_service.set_pay_channel(conn, ctx.clock, c.app_id, channel,
                                              None if form.get("clear") == "on" else edit)
    except TradeError as e:
        return await _settings(c, forms.settings_form_of(c.app), {}, 400,
                               pay_errors={channel: forms.error_text(e, c.lang)})
    ctx.apps.forget(c.app_id)
    return c.redirect(f"/console/settings?ok=pay_saved#pay-{channel}")
