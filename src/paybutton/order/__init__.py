"""order domain."""
