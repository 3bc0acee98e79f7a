"""Fixtures of the refund and voucher tests (`trade`: a paid-order world; `audit`: the app asks for audits;
`delivery_type`: the app's codes; `settings_overrides`: the server's settings)."""

from trade_world import audit, delivery_type, settings_overrides, trade

__all__ = ["audit", "delivery_type", "settings_overrides", "trade"]
