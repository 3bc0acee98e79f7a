"""A merchant server on Flask that paybutton calls back: it verifies every callback with paybutton.merchant,
answers the extension points and notifications, agrees to refunds that wait for its audit, mints buyer
tokens for tt.login, and serves a buy page for one library good at GET / (examples/buy_page.py).

    python examples/flask_merchant.py --platform-url http://127.0.0.1:8000 --app-id tt… --secret … --port 9000 \
        --goods-id hotpot

(or MERCHANT_PLATFORM_URL, MERCHANT_APP_ID, MERCHANT_APP_SECRET, MERCHANT_PORT, MERCHANT_GOODS_ID). Point the app's
callback URLs at http://127.0.0.1:9000/callbacks/<anything>, its login URL at http://127.0.0.1:9000/login, and add
http://127.0.0.1:9000 to its allowed origins so the buy page at http://127.0.0.1:9000/ may use the button."""

from __future__ import annotations

import argparse
import os
import threading
import time
from typing import Any

import httpx
from buy_page import buy_page, goods_on_sale
from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.serving import make_server

from paybutton.merchant import (
    CallbackVerificationError,
    OpenAPIClient,
    OpenAPIError,
    ack,
    entry_schema,
    load_public_key,
    mint_buyer_token,
    no_marketing_answer,
    pre_create_order_answer,
    pre_create_refund_answer,
    refuse,
    verify_callback,
)


def create_app(platform_url: str, app_id: str, secret: str, goods_id: str = "hotpot") -> Flask:
    public_key = load_public_key(httpx.get(f"{platform_url}/api/platform/public_key", timeout=5).text)
    openapi = OpenAPIClient(platform_url, app_id, secret)
    received: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    lock = threading.Lock()
    app = Flask(__name__)

    def agree_when_ready(out_refund_no: str) -> None:
        """Audit after our answer is stored: until then the refund is not yet known by our number."""
        for _ in range(40):
            try:
                openapi.merchant_audit_callback(out_refund_no, agree=True)
                with lock:
                    audits.append({"out_refund_no": out_refund_no, "agreed": True})
                return
            except OpenAPIError as e:
                last = e
                time.sleep(0.25)
        with lock:
            audits.append({"out_refund_no": out_refund_no, "agreed": False, "error": str(last)})

    @app.post("/callbacks", defaults={"kind": ""})
    @app.post("/callbacks/<path:kind>")
    def callback(kind: str) -> ResponseReturnValue:
        try:
            cb = verify_callback(request.get_data(), dict(request.headers), public_key)
        except CallbackVerificationError as e:
            with lock:
                received.append({"path": request.path, "verified": False, "reason": e.reason})
            return jsonify(refuse(40001, str(e))), 401
        with lock:
            received.append({"path": request.path, "verified": True, "type": cb.type, "logid": cb.logid,
                             "msg": cb.msg})
        if cb.type == "pre_create_order":
            order_id = cb.msg["order_id"]
            return jsonify(pre_create_order_answer(
                f"FLASK-{order_id}"[:64],
                order_entry_schema=entry_schema("pages/orderDetail/orderDetail", {"orderId": order_id})))
        if cb.type == "pre_create_refund":
            out_refund_no = f"FLASKR-{cb.msg['refund_id']}"[:64]
            if cb.msg.get("need_refund_audit") == 1:
                threading.Thread(target=agree_when_ready, args=(out_refund_no,), daemon=True).start()
            return jsonify(pre_create_refund_answer(out_refund_no))
        if cb.type in ("query_marketing_info", "calculate_price", "query_and_calculate"):
            return jsonify(no_marketing_answer(cb.type, cb.msg))  # marketing-ready: nothing on offer yet
        return jsonify(ack())  # payment, refund, settle and any other notification: recorded above

    @app.route("/login", methods=["GET", "POST"])
    def login() -> ResponseReturnValue:
        open_id = request.args.get("open_id") or "flask-demo-user"
        return jsonify({"token": mint_buyer_token(app_id, secret, open_id), "open_id": open_id, "app_id": app_id})

    @app.get("/")
    def index() -> ResponseReturnValue:
        return buy_page(platform_url, app_id, goods_id, goods_on_sale(openapi, goods_id))

    @app.get("/received")
    def recent() -> ResponseReturnValue:
        with lock:
            return jsonify({"callbacks": list(received), "audits": list(audits)})

    return app


def main() -> None:
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--platform-url", default=env("MERCHANT_PLATFORM_URL", "http://127.0.0.1:8000"))
    p.add_argument("--app-id", default=env("MERCHANT_APP_ID"), required=not env("MERCHANT_APP_ID"))
    p.add_argument("--secret", default=env("MERCHANT_APP_SECRET"), required=not env("MERCHANT_APP_SECRET"))
    p.add_argument("--host", default=env("MERCHANT_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(env("MERCHANT_PORT", "9000")))
    p.add_argument("--goods-id", default=env("MERCHANT_GOODS_ID", "hotpot"), help="the library good of the buy page")
    p.add_argument("--fd", type=int, default=None,
                   help="serve on this inherited listening socket (systemd socket activation) instead of --port")
    a = p.parse_args()
    app = create_app(a.platform_url.rstrip("/"), a.app_id, a.secret, a.goods_id)
    if a.fd is not None:
        make_server(a.host, a.port, app, threaded=True, fd=a.fd).serve_forever()
    else:
        app.run(host=a.host, port=a.port, threaded=True)


if __name__ == "__main__":
    main()
