"""pages domain."""
