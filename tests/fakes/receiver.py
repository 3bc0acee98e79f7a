"""A notify endpoint for the adapters' unit tests: it does what the trade server's /pay/notify routes do with a
cashier (parse_notify, then notify_answer), and keeps what it accepted and what it refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from paybutton.cashier.base import NotifyEvent, NotifyRejected


@dataclass
class Receiver:
    cashier: Any = None
    events: list[NotifyEvent] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    async def notify(self, req: Request) -> Response:
        kind = "refund" if req.url.path.endswith("/refund") else "payment"
        try:
            event = self.cashier.parse_notify(kind, dict(req.headers), await req.body())
        except NotifyRejected as e:
            self.refused.append(e.reason)
            a = self.cashier.notify_answer(False)
        else:
            self.events.append(event)
            a = self.cashier.notify_answer(True)
        return Response(a.body, status_code=a.status, media_type=a.content_type)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/notify", self.notify, methods=["POST"]),
                                 Route("/notify/refund", self.notify, methods=["POST"])])
