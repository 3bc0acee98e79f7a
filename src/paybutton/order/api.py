"""Platform OpenAPI order routes: /api/apps/trade/v2/order/..."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/apps/trade/v2/order", tags=["order"])
