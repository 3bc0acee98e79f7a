"""The merchant console (/console): server-rendered pages for goods, orders, refunds, vouchers, callbacks, settings.

One module per page area (auth, goods, orders, refunds, callbacks, settings, pay_settings), assembled by routes.py.
A page declares what it needs (deps.py: `SignedIn`, `Form`); page.py is the request and its answers; every read
and write of the database is in a *queries module."""
