"""Merchant apps, their secrets and settings, and the installation's platform key pair."""
