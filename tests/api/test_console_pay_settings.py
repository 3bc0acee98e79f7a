"""Console settings: the WeChat Pay and Alipay forms. Errors name the field; saved secrets come back only as
"set (…last 4)"; an empty secret keeps the saved one; "remove" goes back to the sandbox."""

from __future__ import annotations

from fakes.alipay_gateway import FakeAlipay
from fakes.wechat_gateway import FakeWechat
from test_console import PASSWORD, World, post_form, sign_in, world

from paybutton.apps import service as app_service

__all__ = ["world"]


async def test_pay_channel_forms(world: World) -> None:
    a = await world.new_app("A", console_password=PASSWORD)
    wx, ali = FakeWechat(base_url="http://127.0.0.1:9"), FakeAlipay(base_url="http://127.0.0.1:9")
    wcfg, acfg = wx.merchant_config(), ali.merchant_config()
    s = "/console/settings"
    async with world.client() as http:
        await sign_in(http, a["app_id"], PASSWORD)
        page = (await http.get(s)).text
        assert 'data-testid="pay-wechat-state">未配置:使用沙箱' in page
        bad = await post_form(http, s, f"{s}/pay/wechat", {**wcfg, "apiv3_key": "too short"})
        assert bad.status_code == 400 and "wechat.apiv3_key" in bad.text
        assert 'data-testid="pay-wechat-error"' in bad.text
        assert (await post_form(http, s, f"{s}/pay/wechat", wcfg)).status_code == 303
        assert (await post_form(http, s, f"{s}/pay/alipay", acfg)).status_code == 303
        page = (await http.get(s)).text
        for secret in (wcfg["apiv3_key"], wcfg["private_key"].splitlines()[1], acfg["app_private_key"].splitlines()[1],
                       wcfg["private_key"].splitlines()[-2][-10:]):
            assert secret not in page
        assert f"set (…{wcfg['apiv3_key'][-4:]})" in page and 'value="1900000109"' in page
        # keys left empty keep the saved ones; the other fields are changed
        edit = {**wcfg, "apiv3_key": "", "private_key": "", "platform_public_key": "", "mchid": "1900000110"}
        assert (await post_form(http, s, f"{s}/pay/wechat", edit)).status_code == 303
        async with world.ctx.db.engine.connect() as conn:
            got = (await app_service.get_app(conn, a["app_id"]))["pay_secrets"].channel("wechat")
        assert got["apiv3_key"] == wcfg["apiv3_key"] and got["mchid"] == "1900000110"
        assert got["platform_public_key"] == wcfg["platform_public_key"]
        assert (await post_form(http, s, f"{s}/pay/alipay", {"clear": "on"})).status_code == 303
        async with world.ctx.db.engine.connect() as conn:
            assert set((await app_service.get_app(conn, a["app_id"]))["pay_config"]) == {"wechat"}
        assert (await post_form(http, s, f"{s}/pay/paypal", {})).status_code == 404
