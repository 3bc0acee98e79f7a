"""Fixtures of the merchant-library tests (`platform`: `paybutton demo` in a subprocess; `start_process`)."""

from merchant_world import platform, start_process

__all__ = ["platform", "start_process"]
