"""cashier domain."""
