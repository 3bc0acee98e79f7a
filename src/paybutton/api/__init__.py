"""HTTP surfaces shared pieces: envelopes, auth dependencies, idempotency, error handlers."""
