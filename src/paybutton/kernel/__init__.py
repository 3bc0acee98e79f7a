"""The shared HTTP kernel: what every surface and every domain's router uses, and nothing domain-specific.

- approws.py: the merchant app row (AppRow) and the query that reads it;
- ports.py: what the kernel needs of the process context (KernelCtx), without importing paybutton.context;
- access_tokens.py, auth.py: the OpenAPI access token and the buyer token, as FastAPI dependencies;
- envelope.py: logids and the OpenAPI success envelope;
- idempotency.py, order_keys.py: Idempotency-Key on OpenAPI writes and on order placement;
- surfaces.py, render.py, handlers.py: which envelope a path answers in, the one error renderer with the one
  language choice (for the edge, the ASGI order shortcut and FastAPI's handlers alike), and the handlers;
- guard.py: the edge every request passes once;
- signing.py, outbound.py: the platform's signature on callbacks and the HTTP client that sends them.

It imports the base modules (errors, clock, ids, inputs, tables, db, buyer_token) and cashier types, never a
domain (apps, callbacks, goods, marketing, order, refund, fulfillment, merchant), a surface or the context."""
