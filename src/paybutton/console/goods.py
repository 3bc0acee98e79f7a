"""The console's goods pages: the list (by shelf, searched), and the form that creates and edits a good."""

from __future__ import annotations

from typing import Any

from fastapi.responses import HTMLResponse, Response

from paybutton.console import forms, goods_queries, words
from paybutton.console.deps import Form, SignedIn, console_router
from paybutton.console.page import Console, fold, number, pager
from paybutton.errors import TradeError
from paybutton.goods import rules as goods_rules

router = console_router()

GOODS_FIELDS = frozenset({"goods_id", "name", "photo_url", "price", "stock", "sale_start", "sale_end", "labels",
                          "limits", "date_rule", "valid_days", "phone_required", "on_shelf"})


@router.get("/console/goods", response_class=HTMLResponse)
async def goods_list(c: SignedIn) -> Response:
    shelf_arg = c.query.get("shelf", "")
    shelf = {"on": True, "off": False}.get(shelf_arg)
    buyable = shelf_arg == "now"  # on sale now: what the dashboard counts
    shelf_arg = shelf_arg if shelf is not None or buyable else ""
    q = c.query.get("q", "").strip()[:64]
    page = await goods_queries.goods_page(c.ctx, c.app_id, shelf=shelf, q=q, page=number(c.query.get("page"), 1),
                                          lang=c.lang, buyable=buyable)
    return c.render("goods_list.html", nav="goods", page=page, q=q, shelf=shelf_arg,
                    link=pager({"shelf": shelf_arg, "q": q}))


def _goods_form(c: Console, values: dict[str, Any], errors: dict[str, str], status: int = 200) -> Response:
    errors = fold(errors, GOODS_FIELDS)
    return c.render("goods_form.html", status, nav="goods", v=values, errors=errors, first=words.first_slot(errors),
                    label_types=goods_rules.LABEL_TYPES, value_labels=goods_rules.VALUE_LABELS,
                    label_text={t: goods_rules.label_text({"type": t, "value": "x"}, c.lang)
                                for t in goods_rules.LABEL_TYPES})


@router.get("/console/goods/new", response_class=HTMLResponse)
async def goods_new_page(c: SignedIn) -> Response:
    return _goods_form(c, forms.new_goods_form(), {})


@router.post("/console/goods/new", response_class=HTMLResponse)
async def goods_create(c: SignedIn, form: Form) -> Response:
    values = forms.goods_values(form, creating=True)
    read = forms.goods_read(values)
    errors = words.goods_form_errors(values, c.lang, read)  # every error at once, before anything is written
    if errors:
        return _goods_form(c, values, errors, 400)
    try:
        await goods_queries.create_goods(c.ctx, c.app_id, values["goods_id"], read[0])
    except TradeError as e:
        return _goods_form(c, values, words.trade_errors(e, c.lang, forms.field_of(e)), 400)
    return c.redirect(f"/console/goods/{values['goods_id']}/edit?ok=created")


@router.get("/console/goods/{goods_id}/edit", response_class=HTMLResponse)
async def goods_edit_page(goods_id: str, c: SignedIn) -> Response:
    try:
        g = await goods_queries.get_goods(c.ctx, c.app_id, goods_id)
    except TradeError:
        return c.not_found()
    return _goods_form(c, {**forms.goods_form_of(g), "state": g["state"], "sold": g["sold"]}, {})


@router.post("/console/goods/{goods_id}/edit", response_class=HTMLResponse)
async def goods_update(goods_id: str, c: SignedIn, form: Form) -> Response:
    values = {**forms.goods_values(form, creating=False), "goods_id": goods_id}
    read = forms.goods_read(values)
    errors = words.goods_form_errors(values, c.lang, read)
    if errors:
        return _goods_form(c, values, errors, 400)
    changes = dict(read[0])
    stock = changes.pop("stock")
    try:  # the change the merchant typed, applied to the stock as it is now (sales may have happened)
        delta: int | None = stock - int(values["stock_was"])
    except ValueError:
        delta, changes["stock"] = None, stock
    try:
        await goods_queries.update_goods(c.ctx, c.app_id, goods_id, delta, changes)
    except TradeError as e:
        if e.name == "GOODS_NOT_FOUND":
            return c.not_found()
        return _goods_form(c, values, words.trade_errors(e, c.lang, forms.field_of(e)), 400)
    return c.redirect(f"/console/goods/{goods_id}/edit?ok=saved")
