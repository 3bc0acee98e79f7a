"""The clients of the crash drill: C buyers streaming place -> cashier -> pay -> refund or verify, and the
merchant's auditor, all over the public HTTP APIs (buyer API, platform OpenAPI) and `paybutton verify`.

A request that dies with the server (connection refused or reset, a read that never ends) is *unknown*: the
client does not guess. It re-reads the order (or the order's refunds) once the server is back and goes on from
what it finds, and it repeats an OpenAPI write only with the same Idempotency-Key."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from paybutton.merchant import mint_buyer_token

SCENARIOS = [("success", 85), ("fail", 5), ("user_closed", 4), ("timeout", 3), ("cancel", 3)]
CHANNELS = ["douyin", "wechat", "alipay", "bankcard"]
REQUEST_TIMEOUT = 10.0
SERVER_BACK_WITHIN = 90.0  # a read waits this long for a restarted server before the flow gives up


class Unknown(Exception):
    """The request's fate is unknown: the server died (or did not answer) while it was in flight."""


@dataclass
class Tally:
    """What the clients did and saw (the database's own figures are counted separately, in chaos_report)."""

    placed: int = 0
    place_unknown: int = 0
    paid: int = 0
    pay_unknown: int = 0
    late: int = 0
    refunds_applied: int = 0
    refund_unknown: int = 0
    audits: Counter[str] = field(default_factory=Counter)
    verified_units: int = 0
    verified_by_cli: int = 0
    verify_unknown: int = 0
    unknown_resolved: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    http_5xx: Counter[str] = field(default_factory=Counter)
    gave_up: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "placed": self.placed, "place_unknown": self.place_unknown, "paid": self.paid,
            "pay_unknown": self.pay_unknown, "late_payments_seen": self.late,
            "refunds_applied": self.refunds_applied, "refund_unknown": self.refund_unknown,
            "audits": dict(self.audits), "verified_units": self.verified_units,
            "verified_by_cli": self.verified_by_cli, "verify_unknown": self.verify_unknown,
            "unknown_resolved": dict(self.unknown_resolved), "errors": dict(self.errors),
            "http_5xx": dict(self.http_5xx), "gave_up": self.gave_up,
        }


class Api:
    """One HTTP client for the drill; `call` answers (status, JSON) or raises Unknown."""

    def __init__(self, base: str, app_id: str, secret: str, tally: Tally) -> None:
        self.base = base
        self.app_id = app_id
        self.secret = secret
        self.tally = tally
        self.http = httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT, trust_env=False,
                                      limits=httpx.Limits(max_connections=64, max_keepalive_connections=32))
        self.access_token = ""

    async def close(self) -> None:
        await self.http.aclose()

    async def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                   label: str = "", wait: float = REQUEST_TIMEOUT) -> tuple[int, Any]:
        h = {"Content-Type": "application/json", **(headers or {})}
        try:
            resp = await self.http.request(method, path, headers=h, timeout=wait,
                                           content=None if body is None else json.dumps(body).encode())
        except httpx.TransportError as e:
            raise Unknown(f"{type(e).__name__}") from e
        try:
            data = resp.json()
        except ValueError:
            data = None
        if resp.status_code >= 500:
            self.tally.http_5xx[f"{label or path} {resp.status_code}"] += 1
        return resp.status_code, data

    async def read(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                   label: str = "") -> tuple[int, Any]:
        """A read (or an idempotent write): repeated until the server answers, for up to SERVER_BACK_WITHIN."""
        deadline = time.monotonic() + SERVER_BACK_WITHIN
        while True:
            try:
                return await self.call(method, path, body, headers, label)
            except Unknown:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.25)

    # ---------------------------------------------------------------- OpenAPI (the merchant)

    async def login(self) -> None:
        status, data = await self.read("POST", "/oauth/client_token/", {
            "grant_type": "client_credential", "client_key": self.app_id, "client_secret": self.secret})
        token = (data or {}).get("data", {}).get("access_token") if status == 200 else None
        if not token:
            raise RuntimeError(f"no client_token: HTTP {status} {data}")
        self.access_token = str(token)

    async def openapi(self, route: str, body: dict[str, Any], idem: str | None = None) -> tuple[int, dict[str, Any]]:
        """(error_code, data) of an OpenAPI call; retried through restarts (writes only with an Idempotency-Key)."""
        headers = {"access-token": self.access_token}
        if idem:
            headers["Idempotency-Key"] = idem
        path = "/api/apps/trade/v2/" + route
        if idem:
            status, env = await self.read("POST", path, body, headers, label=route)
        else:
            status, env = await self.call("POST", path, body, headers, label=route)
        if not isinstance(env, dict) or not isinstance(env.get("data"), dict):
            return -status, {}
        extra = env.get("extra") if isinstance(env.get("extra"), dict) else {}
        code = int((extra or {}).get("error_code") or env["data"].get("error_code") or 0)
        return code, env["data"]


def error_name(status: int, data: Any) -> str:
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return str(data["error"])
    return f"HTTP_{status}"


class Buyer:
    """One buyer (its own open_id and token) looping over the operation mix until `stop` is set."""

    def __init__(self, n: int, api: Api, goods: list[str], rng: random.Random, auditor: Auditor,
                 verify_cli: list[str] | None, stop: asyncio.Event, abandon: float = 0.12) -> None:
        self.api = api
        self.tally = api.tally
        self.goods = goods
        self.rng = rng
        self.auditor = auditor
        self.verify_cli = verify_cli
        self.stop = stop
        self.abandon = abandon
        self.headers = {"Authorization": "Bearer " + mint_buyer_token(api.app_id, api.secret, f"chaos-buyer-{n:03d}")}

    async def run(self) -> None:
        while not self.stop.is_set():
            try:
                await self.one_order()
            except Unknown:
                self.tally.gave_up += 1  # the server stayed away longer than SERVER_BACK_WITHIN
            except Exception as e:  # a drill must not die of one odd answer: count it and go on
                self.tally.errors[f"EXC_{type(e).__name__}"] += 1
                await asyncio.sleep(0.2)

    async def one_order(self) -> None:
        # Mostly the plentiful goods; the scarce ones (listed last) sell out and come back as orders time out.
        goods_id = self.rng.choices(self.goods, [4 if "scarce" not in g else 1 for g in self.goods])[0]
        quantity = self.rng.choice([1, 1, 1, 2, 3])
        try:
            status, data = await self.api.call("POST", "/api/buyer/v1/orders", {
                "goods_id": goods_id, "goods_type": 1, "quantity": quantity}, self.headers, "place")
        except Unknown:
            # No order id to look for: the database tells at the end (the stock check counts every order).
            self.tally.place_unknown += 1
            await asyncio.sleep(0.3)
            return
        if status != 200 or not isinstance(data, dict) or not data.get("order_id"):
            self.tally.errors["place:" + error_name(status, data)] += 1
            await asyncio.sleep(0.1)
            return
        self.tally.placed += 1
        order_id = str(data["order_id"])
        if self.rng.random() < self.abandon:
            return  # left unpaid: the sweeper times it out and gives its stock back
        if not await self.pay(order_id):
            return
        roll = self.rng.random()
        if roll < 0.35:
            await self.refund(order_id)
        elif roll < 0.7:
            await self.verify(order_id)

    async def order(self, order_id: str) -> dict[str, Any]:
        status, data = await self.api.read("GET", f"/api/buyer/v1/orders/{order_id}", headers=self.headers,
                                           label="order")
        if status != 200 or not isinstance(data, dict):
            raise RuntimeError(f"order {order_id}: HTTP {status}")
        return data

    async def pay(self, order_id: str) -> bool:
        """Open the cashier and pay; after an unknown answer, the order says whether the payment landed."""
        try:
            status, data = await self.api.call("POST", f"/api/buyer/v1/orders/{order_id}/cashier", {},
                                               self.headers, "cashier")
            if status != 200:
                self.tally.errors["cashier:" + error_name(status, data)] += 1
        except Unknown:
            pass  # opening the cashier is idempotent; pay checks the order anyway
        scenario = self.rng.choices([s for s, _ in SCENARIOS], [w for _, w in SCENARIOS])[0]
        body = {"channel": self.rng.choice(CHANNELS), "scenario": scenario}
        for _ in range(6):
            try:
                status, data = await self.api.call("POST", f"/api/buyer/v1/orders/{order_id}/pay", body,
                                                   self.headers, "pay")
            except Unknown:
                self.tally.pay_unknown += 1
                o = await self.order(order_id)
                if o["status"] == "SUCCESS":
                    self.tally.unknown_resolved["pay:paid"] += 1
                    self.tally.paid += 1
                    return True
                if o["status"] not in ("INIT", "PROCESS"):
                    self.tally.unknown_resolved[f"pay:{o['status']}"] += 1
                    return False
                self.tally.unknown_resolved["pay:retried"] += 1
                continue
            if status == 200 and isinstance(data, dict):
                if data.get("late"):
                    self.tally.late += 1
                    return False
                if data.get("outcome") == "SUCCESS":
                    self.tally.paid += 1
                    return True
                if data.get("outcome") in ("PENDING", "UNKNOWN"):
                    return await self.await_paid(order_id)
                self.tally.errors[f"pay:{data.get('outcome')}"] += 1
                return False
            name = error_name(status, data)
            if name == "PAYMENT_PENDING":
                return await self.await_paid(order_id)
            self.tally.errors["pay:" + name] += 1
            return False
        return False

    async def await_paid(self, order_id: str, seconds: float = 20.0) -> bool:
        """A payment being confirmed (the reconciler's): watch the order for a while."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            o = await self.order(order_id)
            if o["status"] == "SUCCESS":
                self.tally.paid += 1
                return True
            if o["status"] not in ("INIT", "PROCESS"):
                return False
            await asyncio.sleep(0.5)
        self.tally.errors["pay:still_pending"] += 1
        return False

    async def refund(self, order_id: str) -> None:
        """The buyer applies (the whole order or one unit); the merchant's audit follows (Auditor)."""
        body: dict[str, Any] = {"reason": "chaos drill"}
        if self.rng.random() < 0.5:
            body["quantity"] = 1
        for _ in range(3):
            try:
                status, data = await self.api.call("POST", f"/api/buyer/v1/orders/{order_id}/refunds", body,
                                                   self.headers, "refund")
            except Unknown:
                self.tally.refund_unknown += 1
                _, listed = await self.api.read("GET", f"/api/buyer/v1/orders/{order_id}/refunds",
                                                headers=self.headers, label="refunds")
                refunds = (listed or {}).get("refunds") or []
                if refunds:  # the apply landed before the crash: we only ever apply once per order
                    self.tally.unknown_resolved["refund:landed"] += 1
                    self.tally.refunds_applied += 1
                    self.auditor.add(str(refunds[0]["refund_id"]))
                    return
                self.tally.unknown_resolved["refund:retried"] += 1
                continue
            if status == 200 and isinstance(data, dict) and data.get("refund_id"):
                self.tally.refunds_applied += 1
                self.auditor.add(str(data["refund_id"]))
            else:
                self.tally.errors["refund:" + error_name(status, data)] += 1
            return

    async def verify(self, order_id: str) -> None:
        """Redeem the unused units: through the OpenAPI (prepare + verify, with an Idempotency-Key), or now and
        then one unit with `paybutton verify CODE`."""
        _, data = await self.api.read("GET", f"/api/buyer/v1/orders/{order_id}/vouchers", headers=self.headers,
                                      label="vouchers")
        unused = [v for v in (data or {}).get("vouchers") or [] if v.get("status") == 2 and v.get("code")]
        if not unused:
            self.tally.errors["verify:no_unused_unit"] += 1
            return
        if self.verify_cli and self.rng.random() < 0.08:
            await self.verify_by_cli(str(unused[0]["code"]))
            return
        try:
            code, prep = await self.api.openapi("fulfillment/delivery_prepare", {"code": unused[0]["code"]})
        except Unknown:
            self.tally.verify_unknown += 1  # a read: nothing happened; this order is left unverified
            return
        if code != 0:
            self.tally.errors[f"delivery_prepare:{code}"] += 1
            return
        certs = prep.get("certificates") or []
        take = certs if self.rng.random() < 0.5 else certs[:1]
        if not take:
            return
        body = {"verify_token": prep["verify_token"], "order_id": order_id,
                "certificates": [{"encrypted_code": c["encrypted_code"], "certificate_id": c["certificate_id"]}
                                 for c in take]}
        idem = "verify-" + "-".join(sorted(c["certificate_id"] for c in take))
        try:
            code, result = await self.api.openapi("fulfillment/delivery_verify", body, idem)
        except Unknown:
            self.tally.verify_unknown += 1
            return
        if code != 0:
            self.tally.errors[f"delivery_verify:{code}"] += 1
            return
        self.tally.verified_units += sum(1 for r in result.get("verify_results") or [] if r.get("result_code") == 0)

    async def verify_by_cli(self, code: str) -> None:
        assert self.verify_cli is not None
        proc = await asyncio.to_thread(subprocess.run, [*self.verify_cli, code, "--json"], capture_output=True,
                                       text=True, timeout=120)
        if proc.returncode == 0:
            self.tally.verified_units += 1
            self.tally.verified_by_cli += 1
        else:
            self.tally.errors[f"paybutton verify: exit {proc.returncode}"] += 1


class Auditor:
    """The merchant's side of the audit: agree (most) or deny each refund the buyers applied for, with
    refund/merchant_audit_callback and an Idempotency-Key per refund. A refund not yet waiting for the audit
    (pre_create_refund still on its way) is tried again later."""

    def __init__(self, api: Api, rng: random.Random, deny_share: float = 0.15) -> None:
        self.api = api
        self.rng = rng
        self.deny_share = deny_share
        self.queue: asyncio.Queue[tuple[str, float]] = asyncio.Queue()
        self.seen: set[str] = set()

    def add(self, refund_id: str) -> None:
        if refund_id not in self.seen:
            self.seen.add(refund_id)
            self.queue.put_nowait((refund_id, time.monotonic()))

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set and the queue is empty."""
        while not (stop.is_set() and self.queue.empty()):
            try:
                rid, due = await asyncio.wait_for(self.queue.get(), 0.5)
            except TimeoutError:
                continue
            if due > time.monotonic():
                await asyncio.sleep(min(0.5, due - time.monotonic()))
            try:
                again = await self.audit(rid)
            except Unknown:
                again = True
            except Exception as e:
                self.api.tally.audits[f"EXC_{type(e).__name__}"] += 1
                again = False
            if again:
                self.queue.put_nowait((rid, time.monotonic() + 0.5))

    async def audit(self, refund_id: str) -> bool:
        """True when the refund should be tried again later."""
        code, found = await self.api.openapi("refund/query_refund", {"refund_id": refund_id})
        if code != 0 or not found.get("refund_list"):
            return code != 0  # a lost answer: again; no such refund: nothing to audit
        r = found["refund_list"][0]
        audit = (r.get("merchant_audit_detail") or {}).get("audit_status")
        if r.get("refund_status") != "PROCESSING" or audit in ("AGREE", "DENY", "OVERTIME"):
            return False
        if audit != "TOAUDIT":
            return True  # pre_create_refund not answered yet
        agree = self.rng.random() >= self.deny_share
        body: dict[str, Any] = {"out_refund_no": r["out_refund_no"], "refund_audit_status": 1 if agree else 2}
        if not agree:
            body["deny_message"] = "chaos drill: denied"
        code, _ = await self.api.openapi("refund/merchant_audit_callback", body, f"audit-{refund_id}")
        self.api.tally.audits[("agree" if agree else "deny") if code == 0 else f"error {code}"] += 1
        return False
