"""The merchant console (/console): server-rendered pages for goods, orders, refunds, vouchers, callbacks, settings."""
