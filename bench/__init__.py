"""Benchmarks of the order-placing path: `make bench` (python -m bench.orders)."""
