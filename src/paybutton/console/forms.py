"""Reading the console's forms: yuan to fen, Beijing-time datetimes to epoch ms, the goods and settings forms.
A field that cannot be read becomes a form error; the rest goes to the services, which check the rules."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.datastructures import FormData

from paybutton.apps.service import URL_FIELDS
from paybutton.clock import BEIJING
from paybutton.console import words
from paybutton.errors import TradeError
from paybutton.goods import rules

MAX_FEN = rules.MAX_SAFE_INT
DEFAULT_THEME = {"borderRadius": "8px", "backgroundColor": "#FE2C55", "fontColor": "#ffffff"}


class FormErrors(Exception):
    """Field -> text key (console/texts.py); "" is the whole form."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def fen_to_yuan(fen: int | None) -> str:
    return "" if fen is None else f"{Decimal(fen) / 100:.2f}"


def yuan_to_fen(text: str) -> int:
    """Yuan as typed ("88.80", "¥88.8", "-1") to fen, exactly; ValueError naming what is wrong: "e_price_number"
    (not an amount), "e_price_decimals" (finer than a fen), "e_price_large". A price below 1 fen is the goods
    rule's to refuse (rules.MIN_PRICE), so 0 and negative amounts are read."""
    try:
        value = Decimal(text.strip().lstrip("¥").strip())
    except InvalidOperation:
        raise ValueError("e_price_number") from None
    if not value.is_finite():
        raise ValueError("e_price_number")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("e_price_decimals")
    fen = int(value * 100)
    if fen > MAX_FEN:
        raise ValueError("e_price_large")
    return fen


def ms_to_local(ms: int | None) -> str:
    """For <input type=datetime-local>: YYYY-MM-DDTHH:MM in Beijing time."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, BEIJING).strftime("%Y-%m-%dT%H:%M")


def show_time(ms: int | None) -> str:
    if not ms:
        return ""
    return datetime.fromtimestamp(ms / 1000, BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def local_to_ms(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            dt = datetime.strptime(text, fmt).replace(tzinfo=BEIJING)
        except ValueError:
            continue
        return int(dt.astimezone(UTC).timestamp() * 1000)
    raise ValueError("not a date and time")


def text(form: FormData, name: str) -> str:
    """A form field, stripped ("" when absent or a file)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _int_or_raw(text: str) -> int | str | None:
    """An integer when it reads as one; else the text as typed (the service names the rule it breaks)."""
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        return text


def goods_values(form: FormData, *, creating: bool) -> dict[str, Any]:
    """The goods form as the form shows it again (strings), for re-rendering after an error."""
    keys = ("goods_id", "name", "photo_url", "price", "stock", "stock_was", "sale_start", "sale_end", "min_limits",
            "max_limits", "date_rule", "valid_days")
    values: dict[str, Any] = {k: text(form, k) for k in keys}
    values["phone_required"] = form.get("phone_required") == "on"
    values["on_shelf"] = form.get("on_shelf") == "on"
    values["label_on"] = {t: form.get(f"label_{t}") == "on" for t in rules.LABEL_TYPES}
    values["label_value"] = {t: text(form, f"value_{t}") for t in rules.VALUE_LABELS}
    values["creating"] = creating
    return values


def goods_read(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The service's keyword arguments for what the form could read, and field -> text key (console/texts.py) for
    what it could not (those fields are left out)."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {"name": values["name"], "photo_url": values["photo_url"], "date_rule": values["date_rule"],
                           "phone_required": values["phone_required"], "on_shelf": values["on_shelf"]}
    try:
        out["price"] = yuan_to_fen(values["price"])
    except ValueError as e:
        errors["price"] = str(e)
    try:
        stock = int(values["stock"])
        if stock < 0:
            raise ValueError
        out["stock"] = stock
    except ValueError:
        errors["stock"] = "e_stock"
    for key in ("sale_start", "sale_end"):
        try:
            out[key] = local_to_ms(values[key])
        except ValueError:
            errors[key] = "e_time"
    out["min_limits"] = _int_or_raw(values["min_limits"])
    out["max_limits"] = _int_or_raw(values["max_limits"])
    days = values["valid_days"]
    try:
        out["valid_days"] = int(days) if days else None
    except ValueError:
        errors["valid_days"] = "e_valid_days"
    labels: list[dict[str, Any]] = []
    for t in rules.LABEL_TYPES:
        if not values["label_on"][t]:
            continue
        label: dict[str, Any] = {"type": t}
        raw = values["label_value"].get(t, "")
        if raw:
            label["value"] = _int_or_raw(raw)
        labels.append(label)
    out["labels"] = labels
    return out, errors


def goods_form_of(g: dict[str, Any]) -> dict[str, Any]:
    """A stored good as form values."""
    by_type = {label["type"]: label for label in g["labels"]}
    return {
        "goods_id": g["goods_id"], "name": g["name"], "photo_url": g["photo_url"], "price": fen_to_yuan(g["price"]),
        "stock": str(g["stock"]), "stock_was": str(g["stock"]), "sale_start": ms_to_local(g["sale_start"]),
        "sale_end": ms_to_local(g["sale_end"]), "min_limits": str(g["min_limits"]),
        "max_limits": str(g["max_limits"]), "date_rule": g["date_rule"],
        "valid_days": "" if g["valid_days"] is None else str(g["valid_days"]),
        "phone_required": g["phone_required"], "on_shelf": g["on_shelf"],
        "label_on": {t: t in by_type for t in rules.LABEL_TYPES},
        "label_value": {t: str(by_type[t].get("value", "")) if t in by_type else "" for t in rules.VALUE_LABELS},
        "creating": False,
    }


def new_goods_form() -> dict[str, Any]:
    return {
        "goods_id": "", "name": "", "photo_url": "", "price": "", "stock": "0", "stock_was": "0", "sale_start": "",
        "sale_end": "", "min_limits": str(rules.MIN_LIMITS_DEFAULT), "max_limits": str(rules.MAX_LIMITS_DEFAULT),
        "date_rule": rules.DATE_RULE_DEFAULT, "valid_days": "", "phone_required": False, "on_shelf": True,
        "label_on": {t: False for t in rules.LABEL_TYPES}, "label_value": {t: "" for t in rules.VALUE_LABELS},
        "creating": True,
    }


# --- settings ---------------------------------------------------------------------------------------


def settings_form_of(app: Mapping[str, Any]) -> dict[str, Any]:
    theme = {**DEFAULT_THEME, **(app.get("theme") or {})}
    return {
        **{f: app.get(f) or "" for f in URL_FIELDS},
        "origins": "\n".join(app["allowed_origins"]),
        "need_refund_audit": bool(app["need_refund_audit"]),
        "audit_hours": str(round(int(app["refund_audit_seconds"]) / 3600)),
        "pay_expire": str(app["pay_expire_seconds"]),
        "radius": theme["borderRadius"].removesuffix("px"),
        "bg_color": theme["backgroundColor"],
        "font_color": theme["fontColor"],
        "settle_mode": app["settle_mode"], "settle_days": str(app["settle_days"]),
        "settle_url": app["settle_url"] or "",
    }


def settings_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {f: text(form, f) for f in URL_FIELDS}
    raw_origins = form.get("origins")
    values["origins"] = raw_origins if isinstance(raw_origins, str) else ""
    values["need_refund_audit"] = form.get("need_refund_audit") == "on"
    for k in ("audit_hours", "pay_expire", "radius", "bg_color", "font_color", "settle_mode", "settle_days",
              "settle_url"):
        values[k] = text(form, k)
    return values


def settings_changes(values: dict[str, Any]) -> dict[str, Any]:
    """update_app's keyword arguments; FormErrors (field -> text key) for numbers that are not numbers."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {f: values[f] for f in URL_FIELDS}
    out["allowed_origins"] = [o.strip() for o in values["origins"].splitlines() if o.strip()]
    out["need_refund_audit"] = values["need_refund_audit"]
    try:
        out["refund_audit_seconds"] = int(values["audit_hours"]) * 3600
        if not 1 <= int(values["audit_hours"]) <= 720:
            raise ValueError
    except ValueError:
        errors["audit_hours"] = "e_audit_hours"
    try:
        out["pay_expire_seconds"] = int(values["pay_expire"])
        if not 1 <= out["pay_expire_seconds"] <= 172800:
            raise ValueError
    except ValueError:
        errors["pay_expire"] = "e_pay_expire"
    out["theme"] = {"borderRadius": values["radius"] + "px", "backgroundColor": values["bg_color"],
                    "fontColor": values["font_color"]}
    out["settle_url"] = values["settle_url"]
    mode, days = values["settle_mode"], values["settle_days"]  # "": a form without them keeps the saved ones
    if mode in ("manual", "verify", "pay"):
        out["settle_mode"] = mode
    elif mode:
        errors["settle_mode"] = "e_settle_mode"
    if days.isdigit() and int(days) <= 365:
        out["settle_days"] = int(days)
    elif days:
        errors["settle_days"] = "e_settle_days"
    if errors:
        raise FormErrors(errors)
    return out


def field_of(err: TradeError) -> str:
    """Where on a form an error from the services belongs."""
    if err.name == "GOODS_LABELS_INVALID":
        return "labels"
    if err.name == "GOODS_LIMITS_INVALID":
        return "limits"
    if err.name == "GOODS_EXISTS":
        return "goods_id"
    field = err.detail.get("field") if err.detail else None
    if field == "stock_delta":
        return "stock"
    if field in ("borderRadius",):
        return "radius"
    if field == "backgroundColor":
        return "bg_color"
    if field == "fontColor":
        return "font_color"
    if isinstance(field, str):
        return field
    message = err.message or ""
    for f in (*URL_FIELDS, "pay_expire_seconds", "refund_audit_seconds", "allowed origin"):
        if message.startswith(f):
            return {"pay_expire_seconds": "pay_expire", "refund_audit_seconds": "audit_hours",
                    "allowed origin": "origins"}.get(f, f)
    return ""


def error_text(err: TradeError, lang: str) -> str:
    """The registry's message in the console's language, with the seed's code when it has one (21511, 21512)."""
    return words.error_text(err, lang)
