"""The ledger's account names and posting kinds (issue 21). An account is a string `<class>:<key>`:

- `channel:<provider>`: cash at the payment channel (sandbox, wechatpay, alipay): debit side;
- `held:<app_id>`: buyers' money held for the app until it is settled or refunded: credit side;
- `merchant:<uid>`: settled to the seller; `receiver:<uid>`: settled to another receiver: credit side;
- `platform:fees`: the platform's rake: credit side.

Entries are signed fen, debit positive; a credit-side account's balance is minus the sum of its entries."""

from __future__ import annotations

PAY = "pay"  # a payment attempt paid: channel +amount, held -amount (ref: the payment id)
REFUND = "refund"  # a refund succeeded: held +amount, channel -amount (ref: the refund id)
SETTLE = "settle"  # held +total, merchant -seller part, receiver -share, platform:fees -rake (ref: the settle id)
SHARE = "share"  # a channel's profit sharing confirmed (issue 20; ref: the channel's sharing order id)
KINDS = (PAY, REFUND, SETTLE, SHARE)

PLATFORM_FEES = "platform:fees"
CREDIT_CLASSES = ("held", "merchant", "receiver", "platform")


def channel(name: str) -> str:
    return f"channel:{name}"


def held(app_id: str) -> str:
    return f"held:{app_id}"


def merchant(uid: str) -> str:
    return f"merchant:{uid}"


def receiver(uid: str) -> str:
    return f"receiver:{uid}"


def account_class(account: str) -> str:
    """`held:tt12` -> `held`."""
    return account.split(":", 1)[0]


def is_credit(account: str) -> bool:
    return account_class(account) in CREDIT_CLASSES


def sign(account: str) -> int:
    """What a sum of entries is multiplied by to give the account's balance."""
    return -1 if is_credit(account) else 1
