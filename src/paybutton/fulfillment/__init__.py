"""fulfillment domain: voucher codes and their verification."""
