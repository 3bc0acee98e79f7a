"""Daily reconciliation (对账): each day, per app and channel, the channel's bill against our payments and refunds.

bill.py (the bill as data; pure), wechat_bill.py / alipay_bill.py (download and parse each provider's bill),
sandbox_bill.py (the sandbox's bill), matching.py (classify every line; pure), store.py (the SQL),
running.py (one day's run, claimed once; the worker step), views.py (what the CLI and the console show)."""
