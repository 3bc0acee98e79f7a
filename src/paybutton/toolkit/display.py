"""What the voucher card (`<consume-card>`, pages/static/pay-button.js) shows of the app's fulfilment tool
settings: the guidance line and button text picked with toolkit/update_merchant_conf (核销工具's delivery_app_info,
the texts of toolkit/query_text), and the mini-program page of toolkit/update_merchant_path (the first path)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from paybutton.toolkit import store, texts


async def display(conn: AsyncConnection, app_id: str) -> dict[str, Any] | None:
    """{guidance_text, button_text, display_mode, path}, or None when the app set nothing."""
    s = await store.read(conn, app_id)
    conf, paths = s["merchant_conf"] or {}, s["merchant_paths"] or {}
    if not conf and not paths:
        return None
    info = conf.get("delivery_app_info") or conf.get("product_double_open_info") or {}
    button_id = info.get("button_text_id") or info.get("arrival_store_button_text_id")
    path_list = paths.get("path_data_list") or []
    return {
        "guidance_text": texts.text_of(info.get("guidance_text_id", ""), texts.GUIDANCE),
        "button_text": texts.text_of(button_id or "", texts.BUTTON),
        "display_mode": info.get("display_mode"),
        "path": path_list[0]["path"] if path_list else None,
    }
