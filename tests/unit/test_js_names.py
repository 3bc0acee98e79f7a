"""The names the browser scripts compare with what the server answers are names the Python defines: error names
(errors.py), order, refund and audit statuses, the marketing refusals' reasons, goods states and voucher states.

These stay typed in the scripts (each is one word of the wire format, read where it is used; a table of them would
cost the pay-button's byte budget, test_static_scripts.py), so this test is what keeps the copies true: rename one
in the Python and the script that still says the old name fails here, not silently in a buyer's browser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from paybutton.api.buyer_marketing import GOODS_INFO_SCHEMA
from paybutton.api.models_buyer import PublicGoods
from paybutton.errors import REGISTRY
from paybutton.goods.rules import STATES
from paybutton.order import placing
from paybutton.order.states import ItemStatus, OrderStatus
from paybutton.pages import errcodes
from paybutton.refund.rules import AuditStatus, RefundStatus, voucher_state

STATIC = Path(errcodes.STATIC)
SCRIPTS = sorted(p.name for p in STATIC.glob("*.js"))
# the marketing refusals' detail.reason (order/placing.py)
REASONS = set(re.findall(r'reason="([A-Z_]+)"', Path(placing.__file__).read_text(encoding="utf-8")))
WIRE = ({*REGISTRY} | {s.value for s in OrderStatus} | {s.value for s in RefundStatus} | {s.value for s in AuditStatus}
        | REASONS)
NOT_WIRE = {"GET", "POST", "HEAD", "STYLE", "SCRIPT"}  # HTTP methods, tag names


def _text(name: str) -> str:
    text = (STATIC / name).read_text(encoding="utf-8")
    for table in errcodes.TABLES:  # the generated tables are checked by test_js_errors.py
        text = table.block.sub("", text)
    return text


def _keys(text: str, var: str) -> set[str]:
    """The keys of the object literal `var X = {...}` / `const X = {...}` (its first level)."""
    found = re.search(r"\b" + re.escape(var) + r" = \{(.*?)\};", text, re.S)
    assert found, var
    return set(re.findall(r"(?:^|[{,]\s*)'?([\w一-鿿]+)'?:", found.group(1), re.M))


@pytest.mark.parametrize("name", SCRIPTS)
def test_quoted_upper_case_names_are_the_servers(name: str) -> None:
    quoted = set(re.findall(r"'([A-Z][A-Z_]{2,})'", _text(name)))
    assert quoted - WIRE - NOT_WIRE == set(), name


def test_pages_tables_are_keyed_by_the_servers_names() -> None:
    text = _text("pages.js")
    assert _keys(text, "BY_NAME") <= set(REGISTRY)
    assert _keys(text, "ST") == {s.value for s in RefundStatus}
    assert _keys(text, "AU") <= {s.value for s in AuditStatus}
    assert REASONS >= {"MARKETING_PRICE_CHANGED", "MARKETING_UNAVAILABLE"}


def test_pay_button_states_are_the_servers() -> None:
    text = _text("pay-button.js")
    shown = set(re.findall(r"\b(upcoming|on_sale|ended|sold_out|off_shelf)\b", text))
    assert shown == set(STATES)
    inactive = re.search(r"/\^\(([a-z_|]+)\)\$/\.test\(state\)", text)
    assert inactive and set(inactive.group(1).split("|")) <= set(STATES)
    states = {voucher_state(int(s), 0) for s in ItemStatus} | {voucher_state(int(ItemStatus.UNUSED), 1)}
    assert _keys(text, "CS") <= states
    assert set(re.findall(r"'([一-鿿]{3})'", text)) <= states


def test_pay_button_reads_the_goods_fields_the_server_names() -> None:
    """The getgoodsinfo fields pay-button.js reads, and those it lays over them from a library good's GET goods/{id}
    (`'currentPrice goodsName …'.split(' ')`), are fields of the server's PublicGoods answer or of the merchant goods
    object it validates (GOODS_INFO_SCHEMA); `extra` is the seed's own, which only the button checks."""
    text = _text("pay-button.js")
    fields = set(PublicGoods.model_fields) | set(GOODS_INFO_SCHEMA["properties"])
    listed = re.search(r"'([A-Za-z ]+)'\.split\(' '\)", text)
    assert listed and set(listed.group(1).split()) <= fields
    looped = re.search(r"for \(const k of \[([^\]]+)\]\) if \(typeof info\[k\]", text)
    assert looped, "the loop over the required strings moved: update this test"
    read = set(re.findall(r"\binfo\.([A-Za-z]+)", text)) | set(re.findall(r"'(\w+)'", looped.group(1)))
    assert read - {"extra"} <= fields, read - fields
