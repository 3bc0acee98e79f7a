"""The fulfilment tool's settings of an app (toolkit/query_text, update_merchant_conf, update_merchant_path,
button_white_setting): issue 22."""
