"""Goods library routes (ours, in the platform style): /api/apps/trade/v2/goods/..."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/apps/trade/v2/goods", tags=["goods"])
