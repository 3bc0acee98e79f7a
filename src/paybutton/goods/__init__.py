"""goods domain."""
