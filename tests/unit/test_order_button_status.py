"""The pay-button's derived order-status on the refunds list (order/states.button_status)."""

from __future__ import annotations

import pytest

from paybutton.order.states import button_status
from paybutton.refund.rules import RefundStatus


@pytest.mark.parametrize(("latest", "status"), [
    (None, 1), (RefundStatus.PROCESSING.value, 2), (RefundStatus.SUCCESS.value, 3), (RefundStatus.FAIL.value, 4)])
def test_button_status_follows_the_newest_refund(latest: str | None, status: int) -> None:
    assert button_status(latest) == status


def test_every_refund_status_has_a_button_status() -> None:
    assert sorted(button_status(s.value) for s in RefundStatus) == [2, 3, 4]
