"""The hosted pages (order-confirm, sandbox cashier, refund-apply, refund-detail, the postMessage bridge) and
/static (pay-button.js, tt.js)."""

from __future__ import annotations

import html
import io
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

import segno
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.staticfiles import StaticFiles

from paybutton import i18n
from paybutton.api.buyer import PlaceOrderBody
from paybutton.api.buyer_refund import ApplyRefundBody
from paybutton.apps.service import check_theme
from paybutton.cashier import registry
from paybutton.context import CtxDep
from paybutton.errors import SEED_CODES, TradeError
from paybutton.fulfillment.service import QR_PREFIX
from paybutton.goods import rules as goods_rules
from paybutton.i18n import N_
from paybutton.pages import handover

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.add_extension("jinja2.ext.i18n")

router = APIRouter(tags=["pages"], include_in_schema=False)
PAY_BUTTON_JS = HERE / "static" / "pay-button.js"
TX_SLOT = "const TX = {zh: {}, en: {}};"


@lru_cache(maxsize=1)
def pay_button_js() -> bytes:
    """pay-button.js as served: its L('…') texts in both languages from the catalogs, written into TX."""
    texts = {k: {m: t for m, t in i18n.script_texts(str(PAY_BUTTON_JS), lang).items() if t != m}  # L(m) is m
             for k, lang in (("zh", "zh-CN"), ("en", "en"))}
    source = PAY_BUTTON_JS.read_text(encoding="utf-8")
    return source.replace(TX_SLOT, f"const TX = {json.dumps(texts, ensure_ascii=False)};", 1).encode()


@router.get("/static/pay-button.js")  # before the /static mount, which would answer first
async def pay_button() -> Response:
    return Response(pay_button_js(), media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300"})


router.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
router.include_router(handover.router)

# the pages' words: key -> English msgid (texts in the catalogs, see paybutton.i18n)
TEXTS: dict[str, str] = {
    "confirm_title": N_("Confirm order"),
    "cashier_title": N_("Cashier"),
    "qty": N_("Quantity"),
    "phone": N_("Mobile"),
    "phone_ph": N_("Your mobile number"),
    "contact": N_("Contact"),
    "contact_ph": N_("Optional"),
    "total": N_("Subtotal"),
    "discount": N_("Discount"),
    "payable": N_("To pay"),
    "pay_now": N_("Pay now"),
    "sandbox": N_("SANDBOX"),
    "sandbox_note": N_("Sandbox: no real money moves"),
    "amount": N_("Amount"),
    "left": N_("Time left to pay"),
    "channels": N_("Pay with"),
    "douyin": N_("Douyin Pay"),
    "wechat": N_("WeChat Pay"),
    "alipay": N_("Alipay"),
    "bankcard": N_("Bank card"),
    "scenario": N_("Simulated outcome"),
    "confirm_pay": N_("Pay"),
    "cancel_pay": N_("Cancel"),
    "close": N_("Close"),
    "back": N_("Back"),
    "limits": N_("{min}–{max} per order"),
    "stock": N_("{n} left"),
    "phone_bad": N_("Enter a valid mobile number"),
    "phone_need": N_("A mobile number is required"),
    "paid": N_("Paid"),
    "not_paid": N_("Not paid"),
    "loading": N_("Loading…"),
    "merchant": N_("Merchant"),
    "order_no": N_("Order no."),
    "expired": N_("The order has timed out"),
    "s_success": N_("Success"),
    "s_fail": N_("Payment fails (10000)"),
    "s_timeout": N_("Timeout"),
    "s_user_closed": N_("Buyer closes the cashier"),
    "s_cancel": N_("Buyer cancels"),
    "s_open_failed": N_("App fails to open (10001)"),
    "s_app_missing": N_("App not installed (10002)"),
    "refund_title": N_("Apply for refund"),
    "refund_units": N_("Units to refund"),
    "refund_items": N_("Item orders"),
    "refund_amount": N_("Refund amount"),
    "reason": N_("Reason"),
    "note": N_("Note"),
    "note_ph": N_("Optional, up to 500 characters"),
    "r_unwanted": N_("No longer wanted"),
    "r_merchant": N_("Merchant service"),
    "r_quality": N_("Quality problem"),
    "r_other": N_("Other"),
    "submit_refund": N_("Submit"),
    "refundable": N_("{n} refundable"),
    "detail_title": N_("Refund details"),
    "st_PROCESSING": N_("Refunding"),
    "st_SUCCESS": N_("Refunded"),
    "st_FAIL": N_("Refund failed"),
    "units": N_("Units"),
    "timeline": N_("Progress"),
    "refund_no": N_("Refund no."),
    "goods": N_("Goods"),
    "mkt_title": N_("Coupons & promotions"),
    "mkt_loading": N_("Updating…"),
    "mkt_off": N_("Discounts unavailable; full price applies"),
    "mkt_changed": N_("The discount changed; check the new amount, then pay"),
    "mkt_none": N_("No offer"),
    "mkt_empty": N_("No offers available"),
    "mkt_unusable": N_("Not usable now"),
    "mkt_coupon": N_("Coupon"),
    "mkt_promo": N_("Promotion"),
    "mkt_goods": N_("item"),
    "mkt_order": N_("order"),
    "dec": N_("Decrease quantity"),
    "inc": N_("Increase quantity"),
    "pay_failed": N_("Payment not completed"),
    "pay_again": N_("Pay again"),
    "nothing_left": N_("Nothing is left to refund on this order"),
    "settled_left": N_("This order is settled with the merchant: it can no longer be refunded here"),
}


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


def _refused(lang: str, text: str, status: int) -> HTMLResponse:
    """A hosted page that cannot be shown, in the page's language."""
    return HTMLResponse(f'<!doctype html><html lang="{lang}"><meta charset=utf-8><p>{html.escape(text)}</p>',
                        status_code=status)


NO_APP = "<!doctype html><meta charset=utf-8><p>app not found / 应用不存在</p>"


def _max_length(model: Any, field: str) -> int:
    """A body field's max_length, as the buyer API checks it: the page's input holds no more."""
    return int(next(m.max_length for m in model.model_fields[field].metadata if hasattr(m, "max_length")))


# the pages' text inputs: as long as the buyer API takes (order-confirm's contact, refund-apply's note)
INPUT_MAX = {"contact": _max_length(PlaceOrderBody, "contact_name"), "note": _max_length(ApplyRefundBody, "note")}


async def _page(request: Request, ctx: Any, template: str, app_id: str, lang: str | None,
                ret: str | None, extra: dict[str, Any]) -> HTMLResponse:
    code = i18n.lang_of_request(request)
    app = await _app(ctx, app_id)
    if app is None:
        return _refused(code, i18n.gettext(code, "This page's app does not exist."), 404)
    origins: list[str] = list(app["allowed_origins"])
    if ret and _origin(ret) not in origins:
        return _refused(code, i18n.gettext(code, "This page cannot return to that address."), 400)
    boot = {"appId": app_id, "lang": code, "origins": origins, "merchant": app["name"], "ret": ret or "",
            "sandbox": bool(ctx.cashier.sandbox), "channels": app["channels"],
            "texts": i18n.script_texts(str(HERE / "static" / "pages.js"), code), **extra}
    return templates.TemplateResponse(request, template, {
        **i18n.jinja_context(code), "t": i18n.table(TEXTS, code), "lang": code, "merchant": app["name"], "boot": boot,
        "sandbox": bool(ctx.cashier.sandbox), "channels": app["channels"], "theme_css": _theme_css(app.get("theme")),
        "input_max": INPUT_MAX, **extra,
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
                        "labels": goods_rules.label_templates(i18n.lang_of_request(request))})


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
