"""The hosted pages (order-confirm, sandbox cashier, refund-apply, refund-detail, the postMessage bridge) and
/static (pay-button.js, tt.js)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

import segno
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.staticfiles import StaticFiles

from paybutton.apps.service import check_theme
from paybutton.cashier import registry
from paybutton.context import CtxDep
from paybutton.errors import SEED_CODES, TradeError
from paybutton.fulfillment.service import QR_PREFIX
from paybutton.goods import rules as goods_rules
from paybutton.pages import handover

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))

router = APIRouter(tags=["pages"], include_in_schema=False)
router.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
router.include_router(handover.router)

TEXTS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "confirm_title": "确认订单", "cashier_title": "收银台", "qty": "购买数量", "phone": "手机号",
        "phone_ph": "请输入手机号", "contact": "联系人", "contact_ph": "选填", "total": "商品总价",
        "discount": "优惠", "payable": "实付", "pay_now": "立即支付", "sandbox": "沙盒",
        "sandbox_note": "沙盒环境:不会产生真实扣款", "amount": "支付金额", "left": "剩余支付时间",
        "channels": "支付方式", "douyin": "抖音支付", "wechat": "微信支付", "alipay": "支付宝",
        "bankcard": "银行卡", "scenario": "模拟结果", "confirm_pay": "确认支付", "cancel_pay": "取消支付",
        "close": "关闭", "back": "返回", "limits": "限购 {min}–{max} 份", "stock": "库存 {n}",
        "phone_bad": "请输入正确的手机号",
        "phone_need": "请填写手机号", "paid": "支付成功", "not_paid": "未完成支付", "loading": "加载中…",
        "merchant": "商家", "order_no": "订单号", "expired": "订单已超时",
        "s_success": "支付成功", "s_fail": "支付失败 (10000)", "s_timeout": "超时",
        "s_user_closed": "用户关闭收银台", "s_cancel": "用户取消", "s_open_failed": "调起失败 (10001)",
        "s_app_missing": "未安装 (10002)",
        "refund_title": "申请退款", "refund_units": "退款数量", "refund_items": "退款商品单",
        "refund_amount": "退款金额", "reason": "退款原因", "note": "补充说明", "note_ph": "选填,最多 500 字",
        "r_unwanted": "不想要了", "r_merchant": "商家服务原因", "r_quality": "商品质量问题", "r_other": "其他",
        "submit_refund": "提交申请", "refundable": "可退 {n} 份", "detail_title": "退款详情",
        "st_PROCESSING": "退款中", "st_SUCCESS": "退款成功", "st_FAIL": "退款失败", "units": "退款份数",
        "timeline": "退款进度", "refund_no": "退款单号", "goods": "商品",
        "mkt_title": "优惠券与活动", "mkt_loading": "计算中…", "mkt_off": "优惠暂不可用,按原价支付",
        "mkt_changed": "优惠已变化,请确认新的实付金额后再支付", "mkt_none": "不使用优惠", "mkt_empty": "暂无可用优惠",
        "mkt_unusable": "暂不可用", "mkt_coupon": "券", "mkt_promo": "活动", "mkt_goods": "商品", "mkt_order": "订单",
        "dec": "减少数量", "inc": "增加数量", "nothing_left": "这笔订单已没有可退的份数",
        "pay_failed": "支付未成功", "pay_again": "重新支付",
    },
    "en": {
        "confirm_title": "Confirm order", "cashier_title": "Cashier", "qty": "Quantity", "phone": "Mobile",
        "phone_ph": "Your mobile number", "contact": "Contact", "contact_ph": "Optional", "total": "Subtotal",
        "discount": "Discount", "payable": "To pay", "pay_now": "Pay now", "sandbox": "SANDBOX",
        "sandbox_note": "Sandbox: no real money moves", "amount": "Amount", "left": "Time left to pay",
        "channels": "Pay with", "douyin": "Douyin Pay", "wechat": "WeChat Pay", "alipay": "Alipay",
        "bankcard": "Bank card", "scenario": "Simulated outcome", "confirm_pay": "Pay", "cancel_pay": "Cancel",
        "close": "Close", "back": "Back", "limits": "{min}–{max} per order", "stock": "{n} left",
        "phone_bad": "Enter a valid mobile number",
        "phone_need": "A mobile number is required", "paid": "Paid", "not_paid": "Not paid", "loading": "Loading…",
        "merchant": "Merchant", "order_no": "Order no.", "expired": "The order has timed out",
        "s_success": "Success", "s_fail": "Payment fails (10000)", "s_timeout": "Timeout",
        "s_user_closed": "Buyer closes the cashier", "s_cancel": "Buyer cancels",
        "s_open_failed": "App fails to open (10001)",
        "s_app_missing": "App not installed (10002)",
        "refund_title": "Apply for refund", "refund_units": "Units to refund", "refund_items": "Item orders",
        "refund_amount": "Refund amount", "reason": "Reason", "note": "Note",
        "note_ph": "Optional, up to 500 characters",
        "r_unwanted": "No longer wanted", "r_merchant": "Merchant service", "r_quality": "Quality problem",
        "r_other": "Other", "submit_refund": "Submit", "refundable": "{n} refundable", "detail_title": "Refund details",
        "st_PROCESSING": "Refunding", "st_SUCCESS": "Refunded", "st_FAIL": "Refund failed", "units": "Units",
        "timeline": "Progress", "refund_no": "Refund no.", "goods": "Goods",
        "mkt_title": "Coupons & promotions", "mkt_loading": "Updating…",
        "mkt_off": "Discounts unavailable; full price applies",
        "mkt_changed": "The discount changed; check the new amount, then pay", "mkt_none": "No offer",
        "mkt_empty": "No offers available", "mkt_unusable": "Not usable now", "mkt_coupon": "Coupon",
        "mkt_promo": "Promotion", "mkt_goods": "item", "mkt_order": "order",
        "dec": "Decrease quantity", "inc": "Increase quantity", "pay_failed": "Payment not completed",
        "pay_again": "Pay again",
        "nothing_left": "Nothing is left to refund on this order",
    },
}


def _lang(lang: str | None) -> str:
    return "en" if (lang or "").lower().startswith("en") else "zh-CN"


def _origin(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced [ in the host: no origin
        return ""
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _theme_css(theme: Any) -> str:
    """The app's stored theme (apps.theme, set in the console) as the pages' CSS variables; none: the defaults.
    The site's App({getThemeConfig}) still wins: pages.js applies it over these."""
    try:
        t = check_theme(json.loads(theme) if isinstance(theme, str) else theme)
    except (TradeError, ValueError):
        return ""
    return (f"--pb-theme:{t['backgroundColor']};--pb-ink:{t['backgroundColor']};--pb-theme-fg:{t['fontColor']};"
            f"--pb-radius:{t['borderRadius']}")


ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+")


def frame_ancestors(origins: list[str]) -> str:
    """The CSP that lets only the page itself and the app's allowed origins frame the hosted pages."""
    return " ".join(["frame-ancestors 'self'", *(o for o in origins if ORIGIN.fullmatch(o))])


async def _app(ctx: Any, app_id: str) -> dict[str, Any] | None:
    try:
        app: dict[str, Any] | None = await ctx.app(app_id, fresh=True)  # the frame policy follows a change at once
    except TradeError:
        app = None
    return app


NO_APP = "<!doctype html><meta charset=utf-8><p>app not found / 应用不存在</p>"


async def _page(request: Request, ctx: Any, template: str, app_id: str, lang: str | None,
                ret: str | None, extra: dict[str, Any]) -> HTMLResponse:
    code = _lang(lang)
    app = await _app(ctx, app_id)
    if app is None:
        return HTMLResponse(NO_APP, status_code=404)
    origins: list[str] = list(app["allowed_origins"])
    if ret and _origin(ret) not in origins:
        return HTMLResponse("<!doctype html><meta charset=utf-8><p>return URL not allowed / 返回地址不被允许</p>",
                            status_code=400)
    boot = {"appId": app_id, "lang": code, "origins": origins, "merchant": app["name"], "ret": ret or "",
            "sandbox": bool(ctx.cashier.sandbox), "channels": app["channels"], **extra}
    return templates.TemplateResponse(request, template, {
        "t": TEXTS[code], "lang": code, "merchant": app["name"], "boot": boot,
        "sandbox": bool(ctx.cashier.sandbox), "channels": app["channels"], "theme_css": _theme_css(app.get("theme")),
        **extra,
    }, headers={"Cache-Control": "no-store", "Content-Security-Policy": frame_ancestors(origins)})


def direct_link(page: str, goods_id: str, goods_type: int = 1) -> str:
    """The shareable URL that opens order-confirm for a good on the merchant's own page (one that loads tt.js and
    pay-button.js): the page with start_page=ext://microapp-trade-plugin/order-confirm?goodsId=…&goodsType=…"""
    start = f"ext://microapp-trade-plugin/order-confirm?goodsId={quote(goods_id, safe='')}&goodsType={goods_type}"
    return page.split("#")[0] + ("&" if "?" in page else "?") + "start_page=" + quote(start, safe="")


@router.get("/pages/link-qr")
async def link_qr(ctx: CtxDep, app_id: Annotated[str, Query()], goods_id: Annotated[str, Query()],
                  page: Annotated[str, Query()], goods_type: Annotated[int, Query()] = 1) -> Response:
    """A QR code (SVG) of the direct link to order-confirm for `goods_id` on `page`, one of the app's own pages;
    the link itself is in the X-Direct-Link header."""
    app = await _app(ctx, app_id)
    if app is None:
        return HTMLResponse(NO_APP, status_code=404)
    if _origin(page) not in app["allowed_origins"]:
        return HTMLResponse("<!doctype html><meta charset=utf-8><p>page is not on an allowed origin / "
                            "页面不在允许的来源</p>", status_code=400)
    if not 1 <= len(goods_id.encode()) <= 64 or goods_type not in (1, 2):
        return HTMLResponse("<!doctype html><meta charset=utf-8><p>goods_id must be 1-64 bytes, goods_type 1 or 2 / "
                            "goods_id 或 goods_type 非法</p>", status_code=400)
    link = direct_link(page, goods_id, goods_type)
    return _qr_svg(link, goods_id, scale=4, border=2, headers={"X-Direct-Link": link, "Cache-Control": "no-store"})


def _qr_svg(data: str, title: str, *, scale: int, border: int, headers: dict[str, str]) -> Response:
    buf = io.BytesIO()
    segno.make(data, error="m").save(buf, kind="svg", scale=scale, border=border, title=title)
    return Response(buf.getvalue(), media_type="image/svg+xml", headers=headers)


VOUCHER_QR = re.compile(re.escape(QR_PREFIX) + r"[0-9A-Za-z_-]{1,32}")


@router.get("/pages/voucher-qr")
async def voucher_qr(d: Annotated[str, Query(max_length=64)]) -> Response:
    """The QR (SVG) of one voucher's QR data (`pbv1:<code>`, what delivery_prepare accepts as encrypted_data), as
    the voucher card shows it per unit. Only voucher QR data is drawn: this is not a general QR service."""
    if not VOUCHER_QR.fullmatch(d):
        return HTMLResponse("<!doctype html><meta charset=utf-8><p>not voucher QR data (pbv1:CODE) / "
                            "不是券码二维码数据</p>", status_code=400)
    return _qr_svg(d, d, scale=3, border=1, headers={"Cache-Control": "public, max-age=86400"})


PAY_QR = re.compile(r"weixin://wxpay/bizpayurl\?pr=[0-9A-Za-z_-]{1,64}")


@router.get("/pages/pay-qr")
async def pay_qr(d: Annotated[str, Query(max_length=128)]) -> Response:
    """The QR (SVG) the cashier shows for a channel's scan-to-pay step: WeChat Native's `code_url`. Only such
    payment URLs are drawn: this is not a general QR service."""
    if not PAY_QR.fullmatch(d):
        return HTMLResponse("<!doctype html><meta charset=utf-8><p>not a channel payment QR (weixin://wxpay/…) / "
                            "不是支付二维码数据</p>", status_code=400)
    return _qr_svg(d, "WeChat Pay", scale=5, border=2, headers={"Cache-Control": "no-store"})


@router.get("/pages/order-confirm", response_class=HTMLResponse)
async def order_confirm(request: Request, ctx: CtxDep, app_id: Annotated[str, Query()],
                        goods_id: Annotated[str, Query()] = "", goods_type: Annotated[int, Query()] = 1,
                        lang: str | None = None, ret: str | None = None) -> HTMLResponse:
    return await _page(request, ctx, "order_confirm.html", app_id, lang, ret,
                       {"page": "confirm", "goodsId": goods_id, "goodsType": goods_type,
                        "labels": goods_rules.label_templates(_lang(lang))})


@router.get("/pages/cashier", response_class=HTMLResponse)
async def cashier(request: Request, ctx: CtxDep, app_id: Annotated[str, Query()], order: Annotated[str, Query()],
                  lang: str | None = None, ret: str | None = None) -> HTMLResponse:
    scenarios = ["success", "fail", "timeout", "user_closed", "cancel", "open_failed", "app_missing"]
    # a channel's return (returned=1) appends its own params, Alipay's own app_id among them: ours is the first
    app_id = request.query_params.getlist("app_id")[0]
    app = await _app(ctx, app_id)
    real = [c for c in (app or {}).get("channels", []) if c in registry.PROVIDERS and registry.configured(app or {}, c)]
    return await _page(request, ctx, "cashier.html", app_id, lang, ret,
                       {"page": "cashier", "order": order, "scenarios": scenarios, "realChannels": real})


@router.get("/pages/refund-apply", response_class=HTMLResponse)
async def refund_apply(request: Request, ctx: CtxDep, app_id: Annotated[str, Query()], order: Annotated[str, Query()],
                       lang: str | None = None, ret: str | None = None) -> HTMLResponse:
    reasons = ["r_unwanted", "r_merchant", "r_quality", "r_other"]
    return await _page(request, ctx, "refund_apply.html", app_id, lang, ret,
                       {"page": "refund-apply", "order": order, "reasons": reasons})


@router.get("/pages/refund-detail", response_class=HTMLResponse)
async def refund_detail(request: Request, ctx: CtxDep, app_id: Annotated[str, Query()],
                        refund_id: Annotated[str, Query(alias="refund-id")] = "", refund: str = "",
                        lang: str | None = None, ret: str | None = None) -> HTMLResponse:
    return await _page(request, ctx, "refund_detail.html", app_id, lang, ret,
                       {"page": "refund-detail", "refund": refund_id or refund})


SEED_TEXTS = {str(k): {"zh": v.zh, "en": v.en} for k, v in sorted(SEED_CODES.items())}


@router.get("/pages/bridge", response_class=HTMLResponse)
async def bridge(request: Request, ctx: CtxDep, app_id: Annotated[str, Query()]) -> HTMLResponse:
    """A hidden frame that relays the pay-button's buyer-API calls, for allowed origins only. Any page may frame it
    (it has no face, and relays nothing for an origin that is not allowed), so that it can tell a page on another
    origin at once that its origin is not allowed, with the seed's texts for the button's error event."""
    page = await _page(request, ctx, "bridge.html", app_id, None, None, {"page": "bridge", "seed": SEED_TEXTS})
    if "content-security-policy" in page.headers:
        del page.headers["content-security-policy"]
    return page
