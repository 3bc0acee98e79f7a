"""The statement's CSV: one row per ledger line, for a spreadsheet. UTF-8 with a BOM (so Excel reads Chinese
goods names as such), CRLF rows (RFC 4180), times in Beijing time, amounts in fen and in yuan (the yuan as exact
text, never a float). A cell a spreadsheet would take for a formula (=, +, -, @ first) is quoted with a leading
apostrophe, except the amounts, which are numbers."""

from __future__ import annotations

import csv
import io

from paybutton.i18n import N_, table
from paybutton.ledger.accounts import PAY, REFUND, SETTLE, SHARE
from paybutton.ledger.statement import Statement, line_row

BOM = "\ufeff"
COLUMNS = dict((
    ("time", N_("Time (Beijing)")),
    ("kind", N_("Type")),
    ("order_id", N_("Order id")),
    ("item_order_id", N_("Item order id")),
    ("goods_name", N_("Goods")),
    ("payment_id", N_("Payment id")),
    ("refund_id", N_("Refund id")),
    ("settle_id", N_("Settle id")),
    ("account", N_("Account")),
    ("amount_fen", N_("Amount (fen)")),
    ("amount_yuan", N_("Amount (yuan)")),
    ("txn_id", N_("Ledger txn")),
))
KIND_NAMES = {PAY: N_("Payment"), REFUND: N_("Refund"), SETTLE: N_("Settle"), SHARE: N_("Profit sharing")}
NUMBERS = ("amount_fen", "amount_yuan")


def _safe(value: object) -> str:
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def kind_name(kind: str, lang: str) -> str:
    return table(KIND_NAMES, lang).get(kind, kind)


def to_csv(st: Statement, lang: str) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(table(COLUMNS, lang).values())
    for line in st.lines:
        row = line_row(line)
        row["kind"] = kind_name(line.kind, lang)
        w.writerow([row[k] if k in NUMBERS else _safe(row[k]) for k in COLUMNS])
    return (BOM + out.getvalue()).encode("utf-8")
