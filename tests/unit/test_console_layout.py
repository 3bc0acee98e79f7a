"""The console's structure rules: every console route answers a refusing dependency (EarlyAnswer) through
ConsoleRoute; only the *queries modules open connections and transactions; the callback filters' allowed values
have one definition (callbacks/outbox.py) that the API and the console use."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

from fastapi.routing import APIRoute

from paybutton.callbacks import api as callbacks_api
from paybutton.callbacks import ops, outbox
from paybutton.console import auth, callbacks, goods, order_queries, orders, pay_settings, refunds, routes, settings
from paybutton.console.deps import ConsoleRoute

CONSOLE = Path(__file__).resolve().parents[2] / "src" / "paybutton" / "console"


def test_every_console_route_answers_early_answers() -> None:
    modules = (auth, callbacks, goods, orders, pay_settings, refunds, routes, settings)
    api_routes = [r for m in modules for r in m.router.routes if isinstance(r, APIRoute)]
    assert len(api_routes) >= 25
    assert all(isinstance(r, ConsoleRoute) for r in api_routes), [r.path for r in api_routes
                                                                  if not isinstance(r, ConsoleRoute)]


def test_only_the_queries_modules_open_connections() -> None:
    for path in sorted(CONSOLE.glob("*.py")):
        if path.stem.endswith("queries") or path.stem == "session":
            continue
        tree = ast.parse(path.read_text())
        opened = [n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr in ("tx", "engine")]
        assert not opened, f"{path.name} opens a connection ({opened}): move it to a *queries module"


def test_callback_filters_have_one_definition() -> None:
    assert outbox.STATUSES == ("PENDING", "DONE", "DEAD", "NO_URL") and ops.STATUSES is outbox.STATUSES
    status = callbacks_api.ListBody.model_fields["status"].annotation
    assert set(get_args(get_args(status)[0])) == set(outbox.STATUSES)
    assert set(outbox.CALLBACK_TYPES) <= set(outbox.ATTEMPT_TYPES)
    assert set(order_queries.SYNC_EVENTS) == set(outbox.SYNC_TYPES)
    assert set(outbox.CallbackFilter.__annotations__) == {"kind", "status", "order_id", "refund_id"}
