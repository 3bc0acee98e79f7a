"""Fixtures of the refund and voucher tests (`trade`: a paid-order world; `audit`: the app asks for audits)."""

from trade_world import audit, trade

__all__ = ["audit", "trade"]
