"""The console's settlement settings (issue 21): the merchant picks how orders settle and N, and sees the platform's
fee read-only (a posted rake is ignored: only the operator sets it)."""

from __future__ import annotations

from test_console import PASSWORD, World, post_form, sign_in, world

from paybutton.apps import service as app_service
from paybutton.clock import SystemClock

__all__ = ["world"]

FORM = {"pre_order_url": "", "payment_notify_url": "", "refund_url": "", "marketing_url": "", "login_url": "",
        "origins": "", "audit_hours": "72", "pay_expire": "300", "radius": "8", "bg_color": "#FE2C55",
        "font_color": "#ffffff", "settle_url": "https://shop.example/cb/settle"}


async def test_settle_mode_and_days_from_the_console(world: World) -> None:
    a = await world.new_app("A", console_password=PASSWORD)
    async with world.ctx.db.tx() as conn:
        await app_service.update_app(conn, SystemClock(), a["app_id"], rake_bps=60)
    async with world.client() as http:
        await sign_in(http, a["app_id"], PASSWORD)
        s = "/console/settings"
        page = (await http.get(s)).text
        assert 'data-testid="rake"' in page and "60 bps (0.60%)" in page and 'name="rake_bps"' not in page
        for bad in ({"settle_mode": "weekly", "settle_days": "1"}, {"settle_mode": "pay", "settle_days": "-1"}):
            r = await post_form(http, s, s, {**FORM, **bad})
            assert r.status_code == 400 and 'data-testid="error-settle_' in r.text, bad
        saved = await post_form(http, s, s, {**FORM, "settle_mode": "verify", "settle_days": "2", "rake_bps": "0"})
        assert saved.status_code == 303
    async with world.ctx.db.engine.connect() as conn:
        got = await app_service.get_app(conn, a["app_id"])
    assert (got["settle_mode"], got["settle_days"], got["rake_bps"]) == ("verify", 2, 60)
    assert got["settle_url"] == "https://shop.example/cb/settle"
