"""The two example merchant servers against `paybutton demo`, real HTTP both ways: an app made by the CLI
points its callbacks at the example; a buyer (token minted by the example's /login) buys two units and pays;
one unit is refunded by the buyer (pre_create_refund, then the example agrees to the audit through the
OpenAPI client), the other by the merchant (create_refund through the client); every callback the example
received verified with paybutton.merchant, and a forged one is refused."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from merchant_world import Platform, Process, listening

from paybutton import buyer_token
from paybutton.merchant import OpenAPIClient

pytestmark = pytest.mark.slow

EXAMPLES = {"flask": ("examples/flask_merchant.py", "FLASK"), "fastapi": ("examples/fastapi_merchant.py", "FASTAPI")}


def wait_for(what: str, get: Callable[[], Any], timeout: float = 45) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = get()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_example_merchant_against_the_demo(example: str, platform: Platform,
                                           start_process: Callable[..., Process]) -> None:
    script, prefix = EXAMPLES[example]
    sock, port = listening()
    merchant = f"http://127.0.0.1:{port}"
    app = platform.cli("app", "create", "--name", f"{example} shop", "--refund-audit",
                       "--pre-order-url", f"{merchant}/callbacks/pre_create_order",
                       "--payment-notify-url", f"{merchant}/callbacks/payment",
                       "--refund-url", f"{merchant}/callbacks/refund", "--login-url", f"{merchant}/login",
                       "--marketing-url", f"{merchant}/callbacks/marketing")
    app_id, secret = app["app_id"], app["secret"]
    server = start_process([sys.executable, script, "--platform-url", platform.url, "--app-id", app_id,
                            "--secret", secret, "--fd", str(sock.fileno())], example, [sock])
    server.wait_http(f"{merchant}/received")

    def received() -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(f"{merchant}/received", timeout=5).json()
        return body

    def of_type(kind: str, **match: Any) -> list[dict[str, Any]]:
        return [c for c in received()["callbacks"]
                if c.get("type") == kind and all(c["msg"].get(k) == v for k, v in match.items())]

    with OpenAPIClient(platform.url, app_id, secret) as client, httpx.Client(base_url=platform.url, timeout=30) as http:
        client.goods_create({"goods_id": "hotpot", "name": "火锅", "price": 1001, "stock": 10,
                             "labels": [{"type": "REFUND_ANYTIME"}]})
        # the buyer logs in at the merchant, whose token the trade server accepts
        login = httpx.post(f"{merchant}/login?open_id=buyer-{example}", timeout=5).json()
        assert buyer_token.peek_app(login["token"]) == app_id
        auth = {"Authorization": f"Bearer {login['token']}"}

        r = http.post("/api/buyer/v1/orders", headers=auth, json={"goods_id": "hotpot", "goods_type": 1, "quantity": 2})
        assert r.status_code == 200, r.text
        order = r.json()
        order_id = order["order_id"]
        assert order["out_order_no"] == f"{prefix}-{order_id}"  # the example's pre_create_order answer
        r = http.post(f"/api/buyer/v1/orders/{order_id}/pay", headers=auth, json={"channel": "douyin"})
        assert r.status_code == 200 and r.json()["outcome"] == "SUCCESS", r.text
        paid = wait_for("the payment notify", lambda: of_type("payment", order_id=order_id))
        assert paid[0]["msg"]["status"] == "SUCCESS" and paid[0]["msg"]["total_amount"] == 2002

        # marketing-ready with nothing on offer: both protocol versions answer "no offer, full price", accepted
        for version in (1, 2):
            r = http.post("/api/buyer/v1/marketing/offers", headers=auth,
                          json={"goods_id": "hotpot", "goods_type": 1, "quantity": 2, "version": version})
            assert r.status_code == 200, r.text
            quote = r.json()
            assert (quote["available"], quote["offers"], quote["discount_amount"], quote["payable"]) == (
                True, [], 0, 2002), quote

        first, second = (i["item_order_id"] for i in order["item_orders"])
        r = http.post(f"/api/buyer/v1/orders/{order_id}/refunds", headers=auth,
                      json={"item_order_list": [{"item_order_id": first}], "reason": "plans changed"})
        assert r.status_code == 200, r.text
        buyer_refund = r.json()["refund_id"]
        merchant_refund = client.create_refund(f"{prefix}-{order_id}", f"{prefix}-M-{order_id}"[:64],
                                               item_order_detail=[{"item_order_id": second, "refund_amount": 1001}],
                                               idempotency_key=f"refund-{order_id}")["refund_id"]

        done = wait_for("both refund notifies", lambda: len(of_type("refund", status="SUCCESS")) == 2 and
                        of_type("refund", status="SUCCESS"))
        assert {c["msg"]["refund_id"] for c in done} == {buyer_refund, merchant_refund}
        pre = of_type("pre_create_refund", refund_id=buyer_refund)
        assert pre and pre[0]["msg"]["need_refund_audit"] == 1
        assert received()["audits"] == [{"out_refund_no": f"{prefix}R-{buyer_refund}", "agreed": True}]
        assert client.query_order(order_id=order_id)["refund_amount"] == 2002
        refunds = client.query_refund(order_id=order_id)["refund_list"]
        assert {(x["refund_id"], x["refund_status"]) for x in refunds} == {(buyer_refund, "SUCCESS"),
                                                                           (merchant_refund, "SUCCESS")}
        assert client.token_requests == 1

    got = received()["callbacks"]
    assert {c["type"] for c in got} == {"pre_create_order", "payment", "pre_create_refund", "refund",
                                        "query_marketing_info", "query_and_calculate"}
    assert all(c["verified"] for c in got), [c for c in got if not c["verified"]]

    # and a callback that is not paybutton's is refused, not answered
    forged = httpx.post(f"{merchant}/callbacks/payment", content=b'{"version":"2.0","type":"payment","msg":"{}"}',
                        headers={"Byte-Timestamp": str(int(time.time())), "Byte-Nonce-Str": "n" * 32,
                                 "Byte-Signature": "AAAA"}, timeout=5)
    assert forged.status_code == 401 and forged.json()["err_no"] == 40001
    assert received()["callbacks"][-1] == {"path": "/callbacks/payment", "verified": False, "reason": "bad_signature"}
    huge = httpx.post(f"{merchant}/callbacks/payment", content=b"{}", timeout=5,
                      headers={"Byte-Timestamp": "9" * 5000, "Byte-Nonce-Str": "n", "Byte-Signature": "AAAA"})
    assert huge.status_code == 401 and received()["callbacks"][-1]["reason"] == "bad_timestamp"
