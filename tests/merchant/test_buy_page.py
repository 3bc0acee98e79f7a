"""examples/buy_page.py, the merchant's buy page both examples serve at /: what it loads from paybutton and how it
wires the seed's hooks (tests/browser/test_example_shop.py buys from it in Chromium)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _buy_page() -> ModuleType:
    spec = importlib.util.spec_from_file_location("buy_page", ROOT / "examples" / "buy_page.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_page_loads_the_button_from_paybutton_and_wires_the_seed_hooks() -> None:
    page = _buy_page().buy_page("http://127.0.0.1:8000", "tt0123", "hotpot",
                                {"name": "双人火锅套餐 <b>", "price": 16800})
    assert '<script src="http://127.0.0.1:8000/static/tt.js" data-login-url="/login"></script>' in page
    assert '<script src="http://127.0.0.1:8000/static/pay-button.js" data-app-id="tt0123"' in page
    assert 'goods-id="hotpot"' in page and 'mode="{{2}}" goods-type="{{1}}"' in page
    for hook in ('bind:getgoodsinfo="getGoodsInfo"', 'bind:placeorder="userLogin"', 'bind:pay="onPay"',
                 'bind:error="bindError"'):
        assert hook in page
    assert '<h1 id="goods-name">双人火锅套餐 &lt;b&gt;</h1>' in page
    assert '<p class="price" id="goods-price">¥168.00</p>' in page
    assert '<p id="result"' in page and '<p id="error"' in page


def test_a_good_that_cannot_be_read_shows_its_id_and_the_button_says_why() -> None:
    page = _buy_page().buy_page("http://127.0.0.1:8000", "tt0123", "hotpot", None)
    assert '<h1 id="goods-name">hotpot</h1>' in page and '<p class="price" id="goods-price"></p>' in page
