"""The console's settings page: the app's URLs, origins, audit and payment windows and button theme; its console
password; rotating the app secret; and the platform public key (read only). The payment channels' forms on the
same page are pay_settings.py's."""

from __future__ import annotations

from typing import Any

from fastapi.responses import HTMLResponse, Response

from paybutton.apps import service as app_service
from paybutton.cashier import payconfig
from paybutton.console import forms, queries
from paybutton.console.deps import Form, SignedIn, console_router, sign_in
from paybutton.console.page import Console, fold
from paybutton.errors import TradeError

router = console_router()

# A refused setting in the merchant's words (console/texts.py), by the form's field; others keep the server's text.
SETTINGS_TEXTS = {**{f: "e_url" for f in app_service.URL_FIELDS}, "origins": "e_origins", "radius": "e_radius",
                  "bg_color": "e_color", "font_color": "e_color", "pay_expire": "e_pay_expire",
                  "audit_hours": "e_audit_hours", "new_password": "e_password", "settle_url": "e_url",
                  "settle_mode": "e_settle_mode", "settle_days": "e_settle_days"}
SETTINGS_FIELDS = frozenset({*app_service.URL_FIELDS, "origins", "audit_hours", "pay_expire", "radius", "bg_color",
                             "font_color", "theme", "new_password", "console_password", "rotate", "settle_mode",
                             "settle_days", "settle_url"})


async def settings_form(c: Console, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                        status_code: int = 200, new_secret: str = "",
                        pay_errors: dict[str, dict[str, str]] | None = None,
                        pay_values: dict[str, dict[str, str]] | None = None,
                        pay_retype: dict[str, list[str]] | None = None) -> Response:
    """The settings page: `values` as typed (default: as saved), with their errors; a payment channel's form as
    typed (`pay_values`, no secrets), its errors by field ("" for the form) and the secrets to type again."""
    return c.render("settings.html", status_code, nav="settings",
                    v=forms.settings_form_of(c.signed_app) if values is None else values,
                    errors=fold(errors or {}, SETTINGS_FIELDS), public_pem=await queries.public_key(c.ctx),
                    url_fields=app_service.URL_FIELDS, new_secret=new_secret, ro=c.signed_app,
                    pay_fields=payconfig.FIELDS, pay_errors=pay_errors or {}, pay_values=pay_values or {},
                    pay_retype=pay_retype or {})


def _refused(c: Console, field: str, err: TradeError) -> str:
    key = SETTINGS_TEXTS.get(field)
    return c.t[key].format(label=c.t.get(field, field)) if key else forms.error_text(err, c.lang)


@router.get("/console/settings", response_class=HTMLResponse)
async def settings_page(c: SignedIn) -> Response:
    return await settings_form(c)


@router.post("/console/settings", response_class=HTMLResponse)
async def settings_save(c: SignedIn, form: Form) -> Response:
    values = forms.settings_values(form)
    try:
        await queries.save_settings(c.ctx, c.app_id, forms.settings_changes(values))
    except forms.FormErrors as e:
        return await settings_form(c, values, {k: c.t.get(v, v) for k, v in e.errors.items()}, 400)
    except TradeError as e:
        field = forms.field_of(e)
        return await settings_form(c, values, {field: _refused(c, field, e)}, 400)
    return c.redirect("/console/settings?ok=settings_saved")


@router.post("/console/settings/password", response_class=HTMLResponse)
async def settings_password(c: SignedIn, form: Form) -> Response:
    password = form.get("new_password")
    try:
        creds = await queries.set_password(c.ctx, c.app_id, password if isinstance(password, str) else "")
    except TradeError as e:
        return await settings_form(c, errors={"new_password": _refused(c, "new_password", e)}, status_code=400)
    await sign_in(c, creds)  # every session of the app ended; this one goes on as a new sign-in
    return c.redirect("/console/settings?ok=password_saved")


@router.post("/console/settings/rotate-secret", response_class=HTMLResponse)
async def settings_rotate_secret(c: SignedIn, form: Form) -> Response:
    """A new app secret, shown on this answer only; the old one, its tokens and the app's other sessions end."""
    if form.get("confirm") != "on":
        return await settings_form(c, errors={"rotate": c.t["rotate_confirm"]}, status_code=400)
    creds = await queries.rotate_secret(c.ctx, c.app_id)
    await sign_in(c, creds)
    return await settings_form(c, new_secret=creds.secret)
