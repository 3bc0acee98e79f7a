"""Callbacks to the merchant: signing, the durable outbox, the dispatcher, synchronous extension points."""
