"""The buyer API behind the hosted pages (ours): /api/buyer/v1/..."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/buyer/v1", tags=["buyer"])
