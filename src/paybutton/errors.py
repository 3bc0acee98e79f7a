"""THE error registry: every error by name, with its component code (errNo), its OpenAPI codes, its HTTP
status for our own JSON APIs and pages, and its zh-CN / en messages. Code raises TradeError("NAME");
only this file knows the numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorSpec:
    name: str
    err_no: int | None  # the pay-button / page code (seed table), None when the component never sees it
    error_code: int  # OpenAPI extra.error_code (reference §18)
    sub_error_code: int  # OpenAPI extra.sub_error_code (reference §18)
    http_status: int  # status on our own JSON APIs (buyer API, console); the OpenAPI answers 200
    zh: str
    en: str


# Parent codes (reference §18)
OK = 0
BUSY = 2100004
BAD_PARAM = 2100005
NO_PERMISSION = 2100007
TOKEN_INVALID = 2190002
NO_CAPABILITY = 2190004
TOKEN_EXPIRED = 2190008
INTERNAL = 2191000
FORWARD = 2191003
VERIFY = 2191004
REVERSE = 2191005
EXTENSION = 2191007
SETTLE = 2191009  # 分账类错误 (the self-operated trade system's error-code page)

_E = ErrorSpec
_SPECS: list[ErrorSpec] = [
    # --- the seed's bind:error table (21500-21547, 10000-10002); meanings are the seed's ---
    _E("MODE_INVALID", 21500, BAD_PARAM, 10000, 400, "mode 非法", "mode is invalid"),
    _E("GOODS_ID_INVALID", 21501, BAD_PARAM, 10000, 400, "goods-id 非法", "goods-id is invalid"),
    _E("GOODS_TYPE_INVALID", 21502, BAD_PARAM, 10000, 400, "goods-type 非法", "goods-type is invalid"),
    _E("NO_GETGOODSINFO", 21503, BAD_PARAM, 10000, 400, "无 bind:getgoodsinfo", "no bind:getgoodsinfo"),
    _E("NO_PLACEORDER", 21504, BAD_PARAM, 10000, 400, "无 bind:placeorder", "no bind:placeorder"),
    _E("GOODS_INFO_SERVER_ERROR", 21505, INTERNAL, 13000, 500,
       "商品库商品获取商品信息,服务端内部错误", "library goods: fetching goods info failed, server error"),
    _E("GOODS_INFO_PARAM_INVALID", 21506, FORWARD, 20002, 404,
       "商品库商品获取商品信息,服务端校验参数不通过",
       "library goods: fetching goods info failed, server rejected the parameters"),
    _E("PAY_CAPABILITY_SERVER_ERROR", 21507, INTERNAL, 13000, 500,
       "支付能力查询,服务端内部错误", "payment capability query failed, server error"),
    _E("PAY_CAPABILITY_PARAM_INVALID", 21508, BAD_PARAM, 10000, 404,
       "支付能力查询,服务端校验参数不通过", "payment capability query: server rejected the parameters"),
    _E("GETGOODSINFO_FAILED", 21509, BAD_PARAM, 10000, 400,
       "开发者 bind:getgoodsinfo 调用失败", "the developer's bind:getgoodsinfo failed"),
    _E("PLACEORDER_FAILED", 21510, BAD_PARAM, 10000, 400,
       "开发者 bind:placeorder 调用失败", "the developer's bind:placeorder failed"),
    _E("GOODS_LABELS_INVALID", 21511, BAD_PARAM, 10000, 400,
       "非商品库商品,商品标签校验不通过", "goods labels failed validation"),
    _E("GOODS_INFO_TYPE_INVALID", 21512, BAD_PARAM, 10000, 400,
       "bind:getgoodsinfo 传入数据类型错误", "bind:getgoodsinfo returned data of the wrong type"),
    _E("GOODS_INFO_LOADING", 21513, BAD_PARAM, 10000, 409,
       "点击按钮后触发,获取商品信息中", "tapped while goods info is still loading"),
    _E("GOODS_INFO_LOAD_FAILED", 21514, BAD_PARAM, 10000, 409,
       "点击按钮后触发,获取商品信息失败", "tapped after fetching goods info failed"),
    _E("NO_PAY_CAPABILITY", 21515, NO_CAPABILITY, 10000, 403,
       "点击按钮后触发,无支付能力", "tapped, but the app has no payment capability"),
    _E("NO_PAY_HOOK", 21516, BAD_PARAM, 10000, 400, "无 bind:pay 方法", "no bind:pay handler"),
    _E("PRE_ORDER_SERVER_ERROR", 21517, EXTENSION, 13000, 502,
       "创建订单(预下单),服务端错误", "creating the order (pre-order) failed: server error"),
    _E("ORDER_DATA_INVALID", 21518, FORWARD, 10000, 422,
       "订单数据错误,无法生成订单", "the order data is wrong; the order cannot be created"),
    _E("ORDER_STATUS_INVALID", 21521, BAD_PARAM, 10000, 400, "order-status 非法", "order-status is invalid"),
    _E("ORDER_ID_INVALID", 21522, BAD_PARAM, 10000, 404, "order-id 非法", "order-id is invalid"),
    _E("REFUND_ID_INVALID", 21523, BAD_PARAM, 10000, 400, "refund-id 非法", "refund-id is invalid"),
    _E("LEGACY_REFUND_AMOUNT_MISSING", 21524, BAD_PARAM, 10000, 400,
       "订单为 1.0 版本,但缺少 refund-total-amount", "a 1.0 (legacy) order needs refund-total-amount"),
    _E("CONTINUE_PAY_SERVER_ERROR", 21526, INTERNAL, 13000, 500,
       "继续支付获取订单信息失败,服务端内部错误", "continue paying: fetching the order failed, server error"),
    _E("CONTINUE_PAY_PARAM_INVALID", 21527, FORWARD, 20001, 409,
       "继续支付获取订单信息失败,服务端参数校验不通过",
       "continue paying: the server rejected the order (not payable)"),
    _E("REFUND_ORDER_SERVER_ERROR", 21528, INTERNAL, 13000, 500,
       "申请退款获取订单信息失败,服务端内部错误", "apply refund: fetching the order failed, server error"),
    _E("REFUND_ORDER_PARAM_INVALID", 21529, REVERSE, 10000, 400,
       "申请退款获取订单信息失败,服务端参数校验不通过",
       "apply refund: fetching the order failed, the server rejected the parameters"),
    _E("REFUND_ORDER_NO_GOODS", 21530, REVERSE, 20005, 422,
       "申请退款获取订单信息失败,服务端返回数据缺少商品信息",
       "apply refund: the order has no goods information"),
    _E("NOTHING_REFUNDABLE", 21531, REVERSE, 20001, 409,
       "申请退款获取订单信息失败,订单无可退款订单,订单可退份数等于0",
       "apply refund: nothing in this order can be refunded (refundable units = 0)"),
    _E("REFUND_DETAIL_FAILED", 21532, REVERSE, 20000, 404,
       "查看退款详情 获取退款详情失败", "refund detail: fetching the refund failed"),
    _E("APPLYREFUND_FAILED", 21533, BAD_PARAM, 10000, 400,
       "bind:applyrefund 调用失败", "the developer's bind:applyrefund failed"),
    _E("APPLYREFUND_BAD_TYPE", 21534, BAD_PARAM, 10000, 400,
       "bind:applyrefund 返回类型错误", "bind:applyrefund returned the wrong type"),
    _E("REFUND_APPLY_SERVER_ERROR", 21535, REVERSE, 13000, 500,
       "申请退款失败,服务端错误", "applying for the refund failed: server error"),
    _E("APP_NAME_SERVER_ERROR", 21536, INTERNAL, 13000, 500,
       "获取小程序主体名称失败,服务端错误", "fetching the merchant's name failed: server error"),
    _E("REFUND_QUERY_SERVER_ERROR", 21537, INTERNAL, 13000, 500,
       "查询退款详情失败,服务端错误", "querying the refund failed: server error"),
    _E("DIRECT_LINK_LOGIN_FAILED", 21546, BAD_PARAM, 10000, 401,
       "直跳提单页userLogin调用失败", "direct link to order-confirm: userLogin failed"),
    _E("DIRECT_LINK_EXTRA_FAILED", 21547, BAD_PARAM, 10000, 400,
       "直跳提单页getExtraInfo调用失败", "direct link to order-confirm: getExtraInfo failed"),
    _E("PAY_FAILED", 10000, FORWARD, 20001, 402, "支付失败", "payment failed"),
    _E("CHANNEL_OPEN_FAILED", 10001, FORWARD, 20001, 502, "调起微信失败", "could not open the payment app"),
    _E("CHANNEL_NOT_INSTALLED", 10002, FORWARD, 20001, 409, "微信未安装", "the payment app is not installed"),
    # --- server-side errors (reference §18 codes); the component sees the nearest seed code ---
    _E("INVALID_PARAMETER", None, BAD_PARAM, 10000, 400, "参数错误", "invalid parameter"),
    _E("PARSE_ERROR", None, BAD_PARAM, 10002, 400, "参数解析错误", "the request body could not be parsed"),
    _E("CLIENT_CREDENTIALS_INVALID", None, BAD_PARAM, 11004, 401,
       "client_key 或 client_secret 错误", "client_key or client_secret is wrong"),
    _E("ACCESS_TOKEN_INVALID", None, TOKEN_INVALID, 11002, 401,
       "access_token 无效", "access_token is missing or invalid"),
    _E("ACCESS_TOKEN_EXPIRED", None, TOKEN_EXPIRED, 11002, 401, "access_token 已过期", "access_token has expired"),
    _E("NO_ACCESS", None, NO_PERMISSION, 11001, 403, "无权访问该数据", "this data does not belong to you"),
    _E("BUYER_TOKEN_INVALID", None, NO_PERMISSION, 11005, 401,
       "用户未登录或登录已过期", "the buyer is not signed in or the sign-in has expired"),
    _E("HANDOVER_CODE_INVALID", None, NO_PERMISSION, 11005, 410, "页面链接已使用或已过期",
       "this page link was already used or has expired"),
    _E("APP_NOT_FOUND", None, BAD_PARAM, 10000, 404, "应用不存在", "no such app"),
    _E("APP_SUSPENDED", 21515, NO_CAPABILITY, 10000, 403, "应用已停用", "the app is suspended"),
    _E("ORDER_NOT_FOUND", 21527, FORWARD, 20000, 404, "订单不存在", "order not found"),
    _E("ORDER_STATUS_CONFLICT", 21527, FORWARD, 20001, 409,
       "订单状态不允许该操作", "the order's status does not allow this operation"),
    _E("ITEM_ORDER_NOT_IN_ORDER", None, FORWARD, 21000, 400,
       "商品单不属于该订单", "the item order does not belong to this order"),
    _E("ITEM_ORDER_ID_INVALID", None, FORWARD, 21047, 400, "item_order_id 无效", "invalid item_order_id"),
    _E("GOODS_NOT_FOUND", 21506, FORWARD, 20002, 404, "商品不存在", "goods not found"),
    _E("GOODS_EXISTS", None, BAD_PARAM, 10000, 409, "商品已存在", "goods with this id already exist"),
    _E("GOODS_LIMITS_INVALID", 21512, BAD_PARAM, 10000, 400,
       "起购/限购份数错误:须为 1-99999 的整数且起购不大于限购",
       "minLimits/maxLimits must be integers in 1..99999 with minLimits <= maxLimits"),
    _E("GOODS_OFF_SHELF", 21518, FORWARD, 20002, 409, "商品已下架", "the goods are off the shelf"),
    _E("GOODS_NOT_STARTED", 21518, FORWARD, 20001, 409, "商品尚未开售", "the sale has not started"),
    _E("GOODS_SALE_ENDED", 21518, FORWARD, 20001, 409, "商品已结束售卖", "the sale has ended"),
    _E("GOODS_SOLD_OUT", 21518, FORWARD, 20001, 409, "商品已售罄", "sold out"),
    _E("QUANTITY_OUT_OF_LIMITS", 21518, FORWARD, 10000, 422,
       "购买份数超出起购/限购范围", "the quantity is outside the purchase limits"),
    # money.MAX_AMOUNT: a price, or quantity x price, or a total over the ceiling (the order cannot be made)
    _E("AMOUNT_TOO_LARGE", 21518, BAD_PARAM, 10000, 422, "金额超出上限", "the amount is over the ceiling"),
    _E("PHONE_REQUIRED", 21518, FORWARD, 10000, 422, "请填写手机号", "a phone number is required"),
    _E("PHONE_INVALID", 21518, FORWARD, 10000, 422, "手机号格式错误", "the phone number is not a valid mobile number"),
    _E("PRE_ORDER_REFUSED", 21518, EXTENSION, 13000, 422,
       "开发者预下单扩展点拒绝了订单", "the merchant's pre_create_order refused the order"),
    _E("PRE_ORDER_NOT_CONFIGURED", 21517, EXTENSION, 13000, 502,
       "未配置预下单扩展点", "the merchant has no pre_create_order URL configured"),
    _E("OUT_ORDER_NO_DUPLICATE", 21518, EXTENSION, 13000, 422,
       "开发者返回的 out_order_no 重复", "the merchant's out_order_no is already used by another order"),
    _E("PAYMENT_CHANNEL_INVALID", 10000, BAD_PARAM, 10000, 400, "支付渠道不可用", "no such payment channel"),
    _E("RETURN_TO_NOT_ALLOWED", None, BAD_PARAM, 10000, 422, "返回页面不在应用允许的来源中",
       "return_to is not a page on one of the app's allowed origins"),
    _E("IDEMPOTENCY_KEY_REUSED", None, BAD_PARAM, 10000, 422,
       "Idempotency-Key 已用于另一个请求体", "this Idempotency-Key was used with a different request body"),
    _E("IDEMPOTENCY_IN_PROGRESS", None, BUSY, 12001, 409,
       "相同 Idempotency-Key 的请求正在处理", "a request with this Idempotency-Key is still in progress"),
    _E("PAYMENT_PENDING", None, BUSY, 12002, 409, "支付结果确认中,请稍后查看订单",
       "the payment's result is being confirmed with the channel; look at the order again shortly"),
    _E("NOTIFY_PROVIDER_UNKNOWN", None, BAD_PARAM, 10000, 404, "未知的支付渠道", "no such payment provider"),
    _E("REFUND_NOT_FOUND", 21532, REVERSE, 20000, 404, "退款单不存在", "refund not found"),
    _E("REFUND_STATUS_CONFLICT", None, REVERSE, 20001, 409,
       "退款单状态不允许该操作", "the refund's status does not allow this operation"),
    _E("REFUND_AMOUNT_INVALID", 21529, REVERSE, 10000, 400,
       "退款金额错误:须大于 0 且不超过可退金额", "the refund amount must be positive and within the refundable amount"),
    _E("ITEM_NOT_REFUNDABLE", 21531, REVERSE, 20001, 409,
       "商品单不可退款(已核销、退款中或已退款)", "the item order cannot be refunded (used, refunding or refunded)"),
    _E("OUT_REFUND_NO_DUPLICATE", None, REVERSE, 10000, 409,
       "out_refund_no 已被使用", "this out_refund_no is already used by another refund"),
    _E("ITEM_SETTLED", 21531, REVERSE, 20001, 409,
       "商品单已结算,不能退款", "the item order is settled; it can no longer be refunded"),
    # --- settle/create_settle (issue 21): Douyin's sub codes, docs/openapi.md "## settle" gives each source ---
    _E("SETTLE_ORDER_NOT_FOUND", None, SETTLE, 23101, 404, "订单不存在", "order not found"),
    _E("SETTLE_ORDER_NOT_PAID", None, SETTLE, 23102, 409, "订单未支付", "the order is not paid"),
    _E("SETTLE_NOT_FINISHED", None, SETTLE, 23107, 409, "订单未完成,核销后才能结算",
       "the order is not finished: a unit settles after it is redeemed"),
    _E("OUT_SETTLE_NO_DUPLICATE", None, SETTLE, 23111, 409, "out_settle_no 已存在,请用 query_settle 查询",
       "this out_settle_no is taken by another settle; query it with query_settle"),
    _E("SETTLE_NOTHING_LEFT", None, SETTLE, 23112, 409, "无可分账金额", "nothing is left to settle"),
    _E("SETTLE_OVER_LEFT", None, SETTLE, 23112, 422, "分账金额超过可分账金额",
       "the receivers' amounts are more than is left to settle"),
    _E("SETTLE_NO_UNIT", None, SETTLE, 23113, 409, "没有可结算的商品单",
       "no settlable item order (refunding, refunded or closed)"),
    _E("SETTLE_AUTOMATIC", None, SETTLE, 23117, 409, "应用已配置自动结算,不能调用结算接口",
       "the app settles automatically; create_settle is refused"),
    _E("SETTLE_WHOLE_AFTER_UNIT", None, SETTLE, 23118, 409, "订单已按商品单结算,不能整单结算",
       "a unit of this order was settled alone; the whole order can no longer be settled in one call"),
    _E("SETTLE_PARAMS_INVALID", None, SETTLE, 23003, 422, "settle_params 错误",
       "settle_params must be a JSON string of [{merchant_uid, amount}], amounts integers of at least 1 fen"),
    _E("SETTLE_RECEIVER_UNKNOWN", None, SETTLE, 23003, 422, "分账方不存在", "no such receiver (merchant_uid)"),
    _E("SETTLE_ITEM_NOT_IN_ORDER", None, SETTLE, 23025, 422, "item_order_id 不属于该订单",
       "the item_order_id is not a unit of this order"),
    _E("VOUCHER_NOT_FOUND", None, VERIFY, 20000, 404, "券码不存在", "no such voucher code"),
    _E("VOUCHER_NOT_VERIFIABLE", None, VERIFY, 21001, 409,
       "券码不在可核销状态", "the voucher is not in a redeemable state"),
    _E("VERIFY_TOKEN_INVALID", None, VERIFY, 10000, 400, "verify_token 无效", "verify_token is invalid or expired"),
    _E("VERIFY_RECORD_NOT_FOUND", None, VERIFY, 20001, 409,
       "核销记录不存在或已撤销", "no such verification, or it was already cancelled"),
    _E("PUSH_DELIVERY_DOUYIN_CODE", None, VERIFY, 20001, 409,
       "push_delivery 仅用于三方码订单(delivery_type=0);抖音码订单请用 delivery_prepare + delivery_verify 核销",
       "push_delivery is only for third-party-code orders (delivery_type 0); verify a Douyin-code order "
       "with delivery_prepare + delivery_verify"),
    # --- reservations (book/*) and the fulfilment tools (toolkit/*), issue 22 ---
    _E("BOOK_NOT_FOUND", None, FORWARD, 22000, 404, "预约单不存在", "no such booking"),
    _E("BOOK_NOT_SUPPORTED", None, FORWARD, 22001, 409, "该订单的商品不需要预约(无「提前x日预约」标签)",
       "the order's goods take no booking (no BOOK_IN_ADVANCE label)"),
    _E("BOOK_DATE_NOT_ALLOWED", None, BAD_PARAM, 22002, 422, "预约日期不可选", "the booking's date is not allowed"),
    _E("BOOK_UNIT_UNAVAILABLE", None, FORWARD, 22003, 409, "商品单不可预约(已预约、已核销、退款中、已退款或已锁定)",
       "the item order cannot be booked (already booked, used, refunding, refunded or locked)"),
    _E("OUT_BOOK_NO_DUPLICATE", None, BAD_PARAM, 22004, 409, "out_book_no 已用于另一个预约",
       "this out_book_no is already used by another booking"),
    _E("BOOK_STATUS_CONFLICT", None, FORWARD, 22005, 409, "预约单状态不允许该操作",
       "the booking's status does not allow this operation"),
    _E("BOOK_CANCEL_NOT_ALLOWED", None, FORWARD, 22006, 409, "已超过取消政策允许的时间,不能取消预约",
       "the cancel policy no longer allows cancelling this booking"),
    _E("CERTIFICATE_LOCKED", None, VERIFY, 21002, 409, "券码已锁定,解锁后才能核销或退款",
       "the certificate is locked: unlock it before redeeming or refunding it"),
    _E("CERTIFICATE_NOT_LOCKABLE", None, VERIFY, 21003, 409, "券码已核销、退款中或已退款,不能加锁",
       "the certificate is redeemed, being refunded or refunded, and cannot be locked"),
    _E("SERVICE_NOT_DONE", None, VERIFY, 21004, 409, "商品单未核销,不能推送服务完成",
       "the item order is not redeemed, so its service cannot be done"),
    _E("CALLBACK_NOT_FOUND", None, BAD_PARAM, 10000, 404, "回调记录不存在", "no such callback"),
    _E("CALLBACK_NOT_REPLAYABLE", None, BAD_PARAM, 20001, 409,
       "只有已放弃(DEAD)的回调可以重放", "only a dead callback (status DEAD) can be replayed"),
    _E("CALLBACK_URL_NOT_CONFIGURED", None, BAD_PARAM, 10000, 409,
       "应用未配置该回调地址", "the app has no URL configured for this callback"),
    # --- issue 22: developer-created orders (order/create_order) and the fulfilment tool's settings ---
    _E("DEV_ORDER_ONE_GOODS", None, BAD_PARAM, 10000, 422, "goods_list 须恰好包含一个商品(一单一商品)",
       "goods_list must hold exactly one goods (one goods per order)"),
    _E("DEV_ORDER_TOTAL_MISMATCH", None, BAD_PARAM, 10000, 422, "total_amount 与商品价格×数量之和不符",
       "total_amount is not the sum of the goods' price times quantity"),
    _E("DEV_ORDER_PRICE_MISMATCH", None, BAD_PARAM, 10000, 422, "商品价格与商品库中的价格不符",
       "the goods' price is not its price in the goods library"),
    _E("DEV_ORDER_DISCOUNT_INVALID", None, BAD_PARAM, 10000, 422, "优惠金额错误",
       "the discount does not fit the order (more than the total, or not what price_calculation_detail says)"),
    _E("OUT_ORDER_NO_REUSED", None, BAD_PARAM, 10000, 409, "out_order_no 已用于另一个下单请求",
       "this out_order_no was already used by another create_order request"),
    _E("TOOLKIT_TEXT_UNKNOWN", None, BAD_PARAM, 10000, 422, "文案 ID 不存在或类型不符(见 query_text)",
       "no such text id for this use (see toolkit/query_text)"),
    _E("NOT_FOUND", None, BAD_PARAM, 10000, 404, "接口不存在", "no such route"),
    # transport errors: these three carry their HTTP status on every surface, the OpenAPI included
    _E("BODY_TOO_LARGE", None, BAD_PARAM, 10000, 413, "请求体过大", "the request body is too large"),
    _E("UNSUPPORTED_MEDIA_TYPE", None, BAD_PARAM, 10000, 415,
       "Content-Type 须为 application/json", "the Content-Type must be application/json"),
    _E("METHOD_NOT_ALLOWED", None, BAD_PARAM, 10000, 405, "请求方法不支持", "method not allowed"),
    _E("INTERNAL_ERROR", None, INTERNAL, 13000, 500, "系统内部错误", "internal error"),
]

REGISTRY: dict[str, ErrorSpec] = {s.name: s for s in _SPECS}
assert len(REGISTRY) == len(_SPECS), "duplicate error name"

# The seed's own codes, each once: used for the component's table and tests.
SEED_CODES: dict[int, ErrorSpec] = {}
for _s in _SPECS:
    if _s.err_no is not None and _s.err_no not in SEED_CODES:
        SEED_CODES[_s.err_no] = _s


class TradeError(Exception):
    """An expected business error, raised by name. `message` overrides the registry text."""

    def __init__(self, name: str, message: str | None = None, **detail: Any) -> None:
        if name not in REGISTRY:
            raise KeyError(f"unknown error name {name!r}")
        self.spec = REGISTRY[name]
        self.name = name
        self.message = message
        self.detail = detail
        super().__init__(f"{name}: {message or self.spec.en}")

    def text(self, lang: str = "zh-CN") -> str:
        base = self.spec.en if lang.startswith("en") else self.spec.zh
        return f"{base}: {self.message}" if self.message else base


def api_error_envelope(err: TradeError, logid: str, now_s: int) -> dict[str, Any]:
    """The platform OpenAPI envelope for an error (reference §12.4)."""
    s = err.spec
    return {
        "data": {"error_code": s.error_code, "description": err.text("zh-CN")},
        "extra": {
            "error_code": s.error_code,
            "description": err.text("zh-CN"),
            "sub_error_code": s.sub_error_code,
            "sub_description": err.text("en"),
            "logid": logid,
            "now": now_s,
        },
    }


def buyer_error_body(err: TradeError, logid: str, lang: str = "zh-CN") -> dict[str, Any]:
    """Our own JSON APIs: the bind:error shape {errNo, errMsg, errLogId} plus the name."""
    return {
        "errNo": err.spec.err_no if err.spec.err_no is not None else err.spec.error_code,
        "errMsg": err.text(lang),
        "errLogId": logid,
        "error": err.name,
        "detail": err.detail or None,
    }


def registry_json() -> dict[str, Any]:
    """The registry as served to the browser side."""
    return {
        "errors": [
            {
                "name": s.name,
                "errNo": s.err_no,
                "error_code": s.error_code,
                "sub_error_code": s.sub_error_code,
                "http_status": s.http_status,
                "zh": s.zh,
                "en": s.en,
            }
            for s in _SPECS
        ],
        "seed": {str(k): {"name": v.name, "zh": v.zh, "en": v.en} for k, v in sorted(SEED_CODES.items())},
    }
