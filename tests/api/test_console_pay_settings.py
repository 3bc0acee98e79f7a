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
        assert bad.status_code == 400 and "apiv3_key 是商户平台上设置的 APIv3 密钥:正好 32 个字符" in bad.text
        assert 'data-testid="pay-wechat-error"' in bad.text and 'data-testid="error-pay-wechat-apiv3_key"' in bad.text
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


async def test_a_pay_form_with_errors_keeps_what_was_typed_and_marks_every_field(world: World) -> None:
    """Issue 18 item 9: one bad field cleared every field and only the first error showed, at the top."""
    a = await world.new_app("A", console_password=PASSWORD)
    wcfg = FakeWechat(base_url="http://127.0.0.1:9").merchant_config()
    s = "/console/settings"
    async with world.client() as http:
        await sign_in(http, a["app_id"], PASSWORD)
        typed = {**wcfg, "mchid": "19000x", "cert_serial_no": "zz", "apiv3_key": "short", "gateway": "ftp://x"}
        bad = await post_form(http, s, f"{s}/pay/wechat", typed)
        assert bad.status_code == 400
        for name in ("mchid", "cert_serial_no", "apiv3_key", "gateway"):
            assert f'data-testid="error-pay-wechat-{name}"' in bad.text, name
        assert "有 4 处需要修正" in bad.text
        assert 'value="19000x"' in bad.text and 'value="zz"' in bad.text and f'value="{wcfg["appid"]}"' in bad.text
        assert wcfg["platform_public_key"].splitlines()[1] in bad.text  # a public key is no secret: kept
        assert wcfg["private_key"].splitlines()[1] not in bad.text and "short" not in bad.text  # secrets are not
        assert 'data-testid="retype-pay-wechat-private_key"' in bad.text
        await http.get("/console/lang/en")
        bad = await post_form(http, s, f"{s}/pay/wechat", typed)
        assert "mchid is digits only" in bad.text and "4 fields need fixing" in bad.text
        assert "gateway must be an http(s) address" in bad.text
        async with world.ctx.db.engine.connect() as conn:
            assert not (await app_service.get_app(conn, a["app_id"]))["pay_config"]
