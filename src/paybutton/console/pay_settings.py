"""Console: an app's real payment channels (WeChat Pay, Alipay) on the settings page. A secret field left empty
keeps the saved value; saved secrets are shown only as "set (…last 4)"; "remove" goes back to the sandbox."""

from __future__ import annotations

from fastapi.responses import HTMLResponse, Response

from paybutton.cashier import payconfig
from paybutton.console import forms, queries
from paybutton.console.deps import Form, SignedIn, console_router
from paybutton.console.settings import settings_form
from paybutton.errors import TradeError

router = console_router()


@router.post("/console/settings/pay/{channel}", response_class=HTMLResponse)
async def pay_settings_save(channel: str, c: SignedIn, form: Form) -> Response:
    if channel not in payconfig.FIELDS:
        return c.not_found()
    edit = {name: str(form.get(name) or "").strip() for name in payconfig.FIELDS[channel]}
    try:
        await queries.set_pay_channel(c.ctx, c.app_id, channel, None if form.get("clear") == "on" else edit)
    except TradeError as e:
        return await settings_form(c, status_code=400, pay_errors={channel: forms.error_text(e, c.lang)})
    return c.redirect(f"/console/settings?ok=pay_saved#pay-{channel}")
