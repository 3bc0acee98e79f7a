"""What one callback POST came to, decided once for every path that calls the merchant: the outbox's dispatcher
(asynchronous callbacks) and the extension points that wait for the answer (callbacks/merchant.py), and the
lease a sender holds on an outbox row while its POST may still be answered."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from paybutton.kernel.outbound import Answer

LEASE_SECONDS = 30
ANSWER_HEAD = 500  # how much of an answer the callback log keeps


class Fault(StrEnum):
    """Why an answer is not "the merchant answered OK"."""

    HTTP_ERROR = "http_error"  # not HTTP 200
    NOT_JSON = "not_json"
    NO_ERR_NO = "no_err_no"  # not a JSON object with an integer err_no
    REFUSED = "refused"  # err_no is not 0


@dataclass(frozen=True)
class Delivery:
    """What one POST came to, as the callback log records it."""

    ok: bool
    http_status: int | None = None
    head: str | None = None
    error: str | None = None  # the log's words for a failure
    data: Any = None  # the answer's `data` when ok
    fault: Fault | None = None  # why an answer that came is not ok
    answer: Any = None  # the parsed answer (a dict once it has an integer err_no)


def judge(resp: Answer) -> Delivery:
    """The merchant answered OK: HTTP 200 with a JSON object whose err_no is the integer 0 (the trade system's
    callback answer, reference §12–§15; docs/callbacks.md, *The answer*)."""
    status, head = resp.status_code, resp.text[:ANSWER_HEAD]
    if status != 200:
        return Delivery(False, status, head, f"HTTP {status}", fault=Fault.HTTP_ERROR)
    try:
        answer = resp.json()
    except ValueError:
        return Delivery(False, status, head, "answer is not JSON", fault=Fault.NOT_JSON)
    if not isinstance(answer, dict) or not isinstance(answer.get("err_no"), int):
        return Delivery(False, status, head, "answer has no integer err_no", fault=Fault.NO_ERR_NO)
    if answer["err_no"] != 0:
        return Delivery(False, status, head, f"err_no {answer['err_no']}: {answer.get('err_tips')}",
                        fault=Fault.REFUSED, answer=answer)
    return Delivery(True, status, head, None, answer.get("data"), answer=answer)


def lease_ms(budget_seconds: float) -> int:
    """How long a sender holds an outbox row: past its HTTP budget (twice it, at least LEASE_SECONDS), so that no
    other sender POSTs the row while this POST may still be answered, and a crash costs little waiting."""
    return int(max(LEASE_SECONDS, 2 * budget_seconds) * 1000)
