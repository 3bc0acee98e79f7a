"""Console: an app's real payment channels (WeChat Pay, Alipay) on the settings page. A secret field left empty
keeps the saved value; saved secrets are shown only as "set (…last 4)"; "remove" goes back to the sandbox. A form
with errors comes back as typed (secrets excepted: they are typed again), every error under its field."""

from __future__ import annotations

from fastapi.responses import HTMLResponse, Response

from paybutton.cashier import payconfig
from paybutton.console import forms, queries
from paybutton.console.deps import Form, SignedIn, console_router
from paybutton.console.settings import settings_form
from paybutton.errors import TradeError

router = console_router()


def _secret(channel: str, name: str) -> bool:
    return payconfig.FIELDS[channel][name][1]


@router.post("/console/settings/pay/{channel}", response_class=HTMLResponse)
async def pay_settings_save(channel: str, c: SignedIn, form: Form) -> Response:
    if channel not in payconfig.FIELDS:
        return c.not_found()
    edit = {name: str(form.get(name) or "").strip() for name in payconfig.FIELDS[channel]}
    clear = form.get("clear") == "on"
    typed = {name: v for name, v in edit.items() if not _secret(channel, name)}
    retype = [name for name, v in edit.items() if v and _secret(channel, name)]
    if not clear:  # every field checked at once, over the saved settings (an empty secret keeps the saved one)
        saved = await queries.pay_channel(c.ctx, c.app_id, channel)
        found = payconfig.field_errors(channel, payconfig.merge(saved, edit))
        if found:
            errors = {name: c.t["pe_" + rule].format(name=name) for name, rule in found.items()}
            return await settings_form(c, status_code=400, pay_errors={channel: errors},
                                       pay_values={channel: typed}, pay_retype={channel: retype})
    try:
        await queries.set_pay_channel(c.ctx, c.app_id, channel, None if clear else edit)
    except TradeError as e:
        return await settings_form(c, status_code=400, pay_errors={channel: {"": forms.error_text(e, c.lang)}},
                                   pay_values={channel: typed}, pay_retype={channel: retype})
    return c.redirect(f"/console/settings?ok=pay_saved#pay-{channel}")
