"""The merchant's own buy page, served at GET / by both example servers: one library good, sold by paybutton's
`<pay-button>` from the merchant's origin.

The page loads `tt.js` and `pay-button.js` from the paybutton server and wires the seed's hooks:
`bind:getgoodsinfo` (a library good: name, price and labels come from paybutton, so it answers `{}`),
`bind:placeorder` (logs the buyer in with `tt.login`, which POSTs to this server's /login), `bind:pay` (shows
`paid: <orderId>` in `#result`) and `bind:error` (shows the error in `#error`). It works only once the app allows
this server's origin: `paybutton app update <app id> --add-origin http://127.0.0.1:9000`."""

from __future__ import annotations

import html
from string import Template
from typing import Any

import httpx

from paybutton.merchant import OpenAPIClient, OpenAPIError

PAGE = Template("""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>
  body { margin: 0; font: 16px/1.5 system-ui, sans-serif; background: #f5f5f5; color: #161823; }
  main { max-width: 480px; margin: 0 auto; padding: 24px 16px; }
  .goods { background: #fff; border-radius: 12px; padding: 16px; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  .price { color: #fe2c55; font-size: 18px; margin: 0 0 16px; }
  #result { font-weight: 600; }
  #error { color: #c0002a; }
</style>
<!-- from the paybutton server: the mini-program shim (tt.login gets a buyer token at this server's /login)
     and the <pay-button> element -->
<script src="$server/static/tt.js" data-login-url="/login"></script>
<script src="$server/static/pay-button.js" data-app-id="$app_id" data-lang="zh-CN"></script>
</head>
<body>
<main>
  <div class="goods">
    <h1 id="goods-name">$name</h1>
    <p class="price" id="goods-price">$price</p>
    <pay-button mode="{{2}}" goods-type="{{1}}" goods-id="$goods_id" bind:getgoodsinfo="getGoodsInfo"
      bind:placeorder="userLogin" bind:pay="onPay" bind:error="bindError"></pay-button>
  </div>
  <p id="result" role="status" aria-live="polite"></p>
  <p id="error" role="alert"></p>
</main>
<script>
var show = function (id, text) { document.getElementById(id).textContent = text; };
Page({
  getGoodsInfo: function (event) {
    // a library good: paybutton knows its name, price and labels; add minLimits, maxLimits, dateRule,
    // validation or extra here when you need them
    return Promise.resolve({});
  },
  userLogin: function (event) {
    // the buyer must be signed in before order-confirm opens: tt.login asks this server's /login for a token
    return new Promise(function (resolve, reject) {
      tt.login({ success: resolve, fail: reject });
    });
  },
  onPay: function (event) {
    var d = event.detail;
    if (d.status === 'success' && d.result.code === 0) {
      show('error', '');
      show('result', 'paid: ' + d.orderId);  // the order is paid; its payment notify goes to /callbacks/payment
    } else if (d.status === 'success') {
      show('result', 'not paid (code ' + d.result.code + '): ' + d.orderId);  // timed out, failed, closed
    } else {
      show('result', 'not paid: ' + (d.result && d.result.errMsg || 'the order could not be placed'));
    }
  },
  bindError: function (event) {
    show('error', 'error ' + event.detail.errNo + ': ' + event.detail.errMsg);
  }
});
</script>
</body>
</html>
""")


def goods_on_sale(openapi: OpenAPIClient, goods_id: str) -> dict[str, Any] | None:
    """The good as the goods library has it (name, price in fen, ...), or None when it cannot be read (not added
    yet: the button then shows its own error, 21506)."""
    try:
        good: dict[str, Any] = openapi.goods_query(goods_id)["goods"]
    except (OpenAPIError, httpx.HTTPError):
        return None
    return good


def buy_page(platform_url: str, app_id: str, goods_id: str, good: dict[str, Any] | None) -> str:
    name = str(good["name"]) if good else goods_id
    price = f"¥{int(good['price']) / 100:.2f}" if good else ""
    return PAGE.substitute(
        title=html.escape(name), name=html.escape(name), price=price, server=html.escape(platform_url),
        app_id=html.escape(app_id), goods_id=html.escape(goods_id))
