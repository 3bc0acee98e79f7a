"""A small synchronous client for the platform OpenAPI (reference §12, §16): gets and caches the client_token,
sends it as `access-token`, unwraps the `{data, extra}` envelope and raises OpenAPIError on an error code.
httpx is imported when a client is made, so verifying callbacks needs only `cryptography`."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

PREFIX = "/api/apps/trade/v2/"
TOKEN_ERRORS = frozenset({2190002, 2190008})  # bad or expired access-token: fetch a new one and try once more
REFRESH_MARGIN_SECONDS = 300


class OpenAPIError(Exception):
    """The platform answered with an error code (HTTP 200, `extra.error_code` != 0) or not with the envelope."""

    def __init__(self, err_no: int, err_msg: str, logid: str = "", sub_error_code: int = 0,
                 sub_description: str = "", body: Any = None) -> None:
        super().__init__(f"{err_no}: {err_msg} (logid {logid or '-'})")
        self.err_no = err_no
        self.err_msg = err_msg
        self.logid = logid
        self.sub_error_code = sub_error_code
        self.sub_description = sub_description
        self.body = body


def _error(body: Any, http_status: int) -> OpenAPIError | None:
    """The error in an answer, None when it is a success."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        return OpenAPIError(-1, f"not an OpenAPI envelope (HTTP {http_status})", body=body)
    data: dict[str, Any] = body["data"]
    extra: dict[str, Any] = body["extra"] if isinstance(body.get("extra"), dict) else {}
    code = extra.get("error_code") or data.get("error_code") or 0
    if code == 0 and http_status == 200:
        return None
    return OpenAPIError(int(code) or -1, str(extra.get("description") or data.get("description") or
                                             f"HTTP {http_status}"),
                        str(extra.get("logid", "")), int(extra.get("sub_error_code") or 0),
                        str(extra.get("sub_description", "")), body)


class OpenAPIClient:
    """`OpenAPIClient("http://127.0.0.1:8000", app_id, secret)`; `call(path, body)` or the named wrappers, each
    returning the envelope's `data`. Thread-safe; one token request serves every call until it nears expiry."""

    def __init__(self, base_url: str, app_id: str, secret: str, *, timeout: float = 5.0,
                 transport: httpx.BaseTransport | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        import httpx

        self.app_id = app_id
        self._secret = secret
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)
        self._lock = threading.Lock()
        self._token: str | None = None
        self._token_expires = 0.0
        self._clock = clock
        self.token_requests = 0

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OpenAPIClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ the token

    def client_token(self, *, fresh: bool = False) -> str:
        """The cached client_token, fetched again when it is within 5 minutes of expiry (or `fresh`)."""
        with self._lock:
            if fresh or self._token is None or self._clock() >= self._token_expires:
                resp = self._http.post("/oauth/client_token/", json={
                    "grant_type": "client_credential", "client_key": self.app_id, "client_secret": self._secret})
                self.token_requests += 1
                body = self._json(resp)
                err = _error(body, resp.status_code)
                if err is not None:
                    raise err
                data = body["data"]
                self._token = str(data["access_token"])
                ttl = int(data.get("expires_in", 7200))
                self._token_expires = self._clock() + max(ttl - REFRESH_MARGIN_SECONDS, ttl / 2)
            return self._token

    # ------------------------------------------------------------ any route

    def call(self, path: str, body: dict[str, Any] | None = None, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST `body` to `path` (relative to /api/apps/trade/v2/, e.g. "order/query_order") and return `data`.
        Writes may carry an Idempotency-Key: the same key and body answer the stored result."""
        url = path if path.startswith("/") else PREFIX + path
        for attempt in (1, 2):
            headers = {"access-token": self.client_token(fresh=attempt == 2)}
            if idempotency_key is not None:
                headers["Idempotency-Key"] = idempotency_key
            resp = self._http.post(url, json=body or {}, headers=headers)
            answer = self._json(resp)
            err = _error(answer, resp.status_code)
            if err is None:
                data: dict[str, Any] = answer["data"]
                return data
            if err.err_no not in TOKEN_ERRORS or attempt == 2:
                raise err
        raise AssertionError("unreachable")

    @staticmethod
    def _json(resp: httpx.Response) -> Any:
        try:
            return resp.json()
        except ValueError:
            raise OpenAPIError(-1, f"HTTP {resp.status_code}, not JSON: {resp.text[:200]!r}") from None

    # ------------------------------------------------------------ orders

    def query_order(self, *, order_id: str | None = None, out_order_no: str | None = None) -> dict[str, Any]:
        return self.call("order/query_order", _given(order_id=order_id, out_order_no=out_order_no))

    def query_item_order_info(self, order_id: str, item_order_id_list: list[str] | None = None) -> dict[str, Any]:
        return self.call("order/query_item_order_info",
                         _given(order_id=order_id, item_order_id_list=item_order_id_list))

    def close_order(self, order_id: str, idempotency_key: str | None = None) -> dict[str, Any]:
        return self.call("order/close_order", {"order_id": order_id}, idempotency_key)

    # ------------------------------------------------------------ refunds

    def create_refund(self, out_order_no: str, out_refund_no: str, *,
                      item_order_detail: list[dict[str, Any]] | None = None, refund_total_amount: int | None = None,
                      idempotency_key: str | None = None, **extra: Any) -> dict[str, Any]:
        """Refund what `item_order_detail` ([{item_order_id, refund_amount}]) names, or the whole order."""
        body = _given(out_order_no=out_order_no, out_refund_no=out_refund_no, item_order_detail=item_order_detail,
                      refund_total_amount=refund_total_amount, **extra)
        return self.call("refund/create_refund", body, idempotency_key)

    def query_refund(self, *, refund_id: str | None = None, out_refund_no: str | None = None,
                     order_id: str | None = None) -> dict[str, Any]:
        return self.call("refund/query_refund", _given(refund_id=refund_id, out_refund_no=out_refund_no,
                                                       order_id=order_id))

    def merchant_audit_callback(self, out_refund_no: str, agree: bool, deny_message: str | None = None,
                                idempotency_key: str | None = None) -> dict[str, Any]:
        """Agree to (or deny, with a message) a refund waiting for the merchant's audit."""
        return self.call("refund/merchant_audit_callback", _given(
            out_refund_no=out_refund_no, refund_audit_status=1 if agree else 2, deny_message=deny_message),
            idempotency_key)

    # ------------------------------------------------------------ vouchers

    def create_settle(self, out_order_no: str, out_settle_no: str, *, settle_desc: str = "",
                      receivers: list[dict[str, Any]] | None = None, item_order_id: str | None = None,
                      idempotency_key: str | None = None, **extra: Any) -> dict[str, Any]:
        """Settle a paid (and, where the app settles after 核销, redeemed) order or one unit: `receivers`
        ([{merchant_uid, amount}], fen) are paid besides the seller, who gets the rest less the rake."""
        params = None if receivers is None else json.dumps(receivers, separators=(",", ":"))
        body = _given(out_order_no=out_order_no, out_settle_no=out_settle_no, settle_desc=settle_desc,
                      settle_params=params, item_order_id=item_order_id, **extra)
        return self.call("settle/create_settle", body, idempotency_key)

    def query_settle(self, *, settle_id: str | None = None, order_id: str | None = None,
                     out_settle_no: str | None = None, out_order_no: str | None = None) -> dict[str, Any]:
        return self.call("settle/query_settle", _given(settle_id=settle_id, order_id=order_id,
                                                       out_settle_no=out_settle_no, out_order_no=out_order_no))

    def delivery_prepare(self, *, code: str | None = None, encrypted_data: str | None = None) -> dict[str, Any]:
        return self.call("fulfillment/delivery_prepare", _given(code=code, encrypted_data=encrypted_data))

    def delivery_verify(self, verify_token: str, order_id: str, certificates: list[dict[str, Any]],
                        idempotency_key: str | None = None, **extra: Any) -> dict[str, Any]:
        return self.call("fulfillment/delivery_verify", {"verify_token": verify_token, "order_id": order_id,
                                                         "certificates": certificates, **extra}, idempotency_key)

    def verify_cancel(self, order_id: str, certificate_id: str, verify_id: str,
                      idempotency_key: str | None = None) -> dict[str, Any]:
        return self.call("fulfillment/verify_cancel", {"order_id": order_id, "certificate_id": certificate_id,
                                                       "verify_id": verify_id}, idempotency_key)

    def push_delivery(self, out_order_no: str, item_order_list: list[dict[str, Any]], *, use_all: bool = False,
                      idempotency_key: str | None = None, **extra: Any) -> dict[str, Any]:
        return self.call("fulfillment/push_delivery", {"out_order_no": out_order_no, "item_order_list": item_order_list,
                                                       "use_all": use_all, **extra}, idempotency_key)

    # ------------------------------------------------------------ goods library

    def goods_create(self, good: dict[str, Any], idempotency_key: str | None = None) -> dict[str, Any]:
        return self.call("goods/create", good, idempotency_key)

    def goods_update(self, goods_id: str, changes: dict[str, Any],
                     idempotency_key: str | None = None) -> dict[str, Any]:
        return self.call("goods/update", {"goods_id": goods_id, **changes}, idempotency_key)

    def goods_query(self, goods_id: str) -> dict[str, Any]:
        return self.call("goods/query", {"goods_id": goods_id})

    def goods_list(self, **paging: Any) -> dict[str, Any]:
        return self.call("goods/list", paging)


def _given(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}
