/* The hosted pages' script: order-confirm, the sandbox cashier, refund-apply and refund-detail. State comes from the host page by
   postMessage (overlay: only from the app's allowed origins) or by a one-time handover code (redirect, and the next page of a
   journey): base.html takes the code out of the address before anything loads, this script exchanges it once for the buyer
   token and the state, and keeps them in sessionStorage (a reload or Back). The token is never in a URL. */
(function () {
  'use strict';
  // errNo by name, generated from errors.py: python -m paybutton.pages.errcodes
  var E = {PAY_FAILED: 10000, CHANNEL_OPEN_FAILED: 10001, CHANNEL_NOT_INSTALLED: 10002, GOODS_INFO_PARAM_INVALID: 21506,
    PRE_ORDER_SERVER_ERROR: 21517, ORDER_DATA_INVALID: 21518, LEGACY_REFUND_AMOUNT_MISSING: 21524,
    CONTINUE_PAY_SERVER_ERROR: 21526, CONTINUE_PAY_PARAM_INVALID: 21527, REFUND_ORDER_SERVER_ERROR: 21528,
    REFUND_ORDER_PARAM_INVALID: 21529, NOTHING_REFUNDABLE: 21531, REFUND_DETAIL_FAILED: 21532,
    REFUND_APPLY_SERVER_ERROR: 21535, REFUND_QUERY_SERVER_ERROR: 21537};
  // rules, generated from the Python (pages/errcodes.py, RULES): python -m paybutton.pages.errcodes
  var G = {limitsDefault: [1, 99999], mobile: '^1[3-9]\\d{9}$', handoverCode: '^[A-Za-z0-9_-]{43}$',
    payCodes: {SUCCESS: 0, TIMEOUT: 1, FAIL: 2, USER_CLOSED: 3, CANCEL: 4}};
  var B = JSON.parse(document.getElementById('pb-boot').textContent);
  // the page's texts: L('English msgid') -> the page's language, from the catalogs (B.texts, in the boot data)
  var TX = B.texts || {};
  function L(s, v) {
    var t = TX[s] || s;
    Object.keys(v || {}).forEach(function (k) { t = t.split('{' + k + '}').join(v[k]); });
    return t;
  }
  // what a buyer reads for a refused or failed call: a text in the page's language by the error's name, else by
  // its errNo; never the API's errMsg (developer wording, the seed's own language), which goes to bind:error as is
  var BY_NAME = {GOODS_SOLD_OUT: L('Sold out'), GOODS_OFF_SHELF: L('This item is no longer sold'),
    GOODS_NOT_STARTED: L('The sale has not started yet'), GOODS_SALE_ENDED: L('This sale has ended'),
    QUANTITY_OUT_OF_LIMITS: L('This quantity cannot be bought'), PHONE_REQUIRED: L('A mobile number is required'),
    PHONE_INVALID: L('Enter a valid mobile number'), PRE_ORDER_REFUSED: L('The merchant did not accept this order'),
    BUYER_TOKEN_INVALID: L('Your sign-in has expired. Please sign in again.'),
    APP_SUSPENDED: L('This merchant cannot take payments yet'),
    PAYMENT_PENDING: L('The payment is being confirmed. Check the order again shortly.'),
    ORDER_NOT_FOUND: L('The order was not found'), ORDER_STATUS_CONFLICT: L('The order cannot be paid now'),
    REFUND_AMOUNT_INVALID: L('The refund amount is not valid'), ITEM_NOT_REFUNDABLE: L('Nothing is left to refund on this order'),
    ITEM_SETTLED: L('This order is settled with the merchant: it can no longer be refunded here'),
    REFUND_NOT_FOUND: L('The refund was not found'), PAYMENT_CHANNEL_INVALID: L('This payment method is not available'),
    IDEMPOTENCY_IN_PROGRESS: L('Your order is still being placed. Please wait a moment.'),
    AMOUNT_TOO_LARGE: L('The total is too large. Choose fewer units.')};
  var BY_NO = {};
  [[E.PAY_FAILED, L('The payment failed')], [E.CHANNEL_OPEN_FAILED, L('The payment app could not be opened')],
    [E.CHANNEL_NOT_INSTALLED, L('The payment app is not installed')],
    [E.GOODS_INFO_PARAM_INVALID, L('The item could not be loaded. Please try again later.')],
    [E.PRE_ORDER_SERVER_ERROR, L('The merchant cannot take the order right now. Please try again later.')],
    [E.ORDER_DATA_INVALID, L('The order could not be created. Please try again.')],
    [E.LEGACY_REFUND_AMOUNT_MISSING, L('The refund amount is missing')],
    [E.CONTINUE_PAY_SERVER_ERROR, L('The order could not be loaded. Please try again later.')],
    [E.CONTINUE_PAY_PARAM_INVALID, L('The order cannot be paid now')],
    [E.REFUND_ORDER_SERVER_ERROR, L('The order could not be loaded. Please try again later.')],
    [E.REFUND_ORDER_PARAM_INVALID, L('This order cannot be refunded here')],
    [E.NOTHING_REFUNDABLE, L('Nothing is left to refund on this order')], [E.REFUND_DETAIL_FAILED, L('The refund was not found')],
    [E.REFUND_APPLY_SERVER_ERROR, L('The refund could not be applied for. Please try again later.')],
    [E.REFUND_QUERY_SERVER_ERROR, L('The refund could not be loaded. Please try again later.')]
  ].forEach(function (p) { BY_NO[p[0]] = p[1]; });
  function said(e, no) {
    return (e && BY_NAME[e.error]) || (e && BY_NO[e.errNo]) || BY_NO[no] || L('Something went wrong. Please try again later.');
  }
  var $ = function (id) { return document.getElementById(id); };
  var S = null; // {token, goodsInfo, key, host, extra}
  var stateP = null; // S on its way (getState): an overlay's emit before it came waits for it
  var logId = ''; // the x-tt-logid of the last buyer-API answer
  var leave = function () { emit([], true); }; // the host's x or the back control: each page may say more
  function yuan(fen) { return '¥' + (Number(fen || 0) / 100).toFixed(2); }
  function msg(text) { $('pb-msg').textContent = text || ''; }
  // a button whose tap waits on the network: disabled, with a spinner (aria-busy), from the tap on
  // a card's skeleton (aria-busy) ends when its data is in, or failed (then its placeholder text goes)
  function loaded(id, failed) {
    var c = $(id); if (!c || !c.hasAttribute('aria-busy')) return;
    c.removeAttribute('aria-busy');
    if (failed) [].forEach.call(c.querySelectorAll('[data-loading]'), function (n) { n.textContent = '—'; });
  }
  function busyBtn(el, on) { el.disabled = on; if (on) el.setAttribute('aria-busy', 'true'); else el.removeAttribute('aria-busy'); }
  // a field's error: the message shown where it can be seen (above the bottom bar), the field marked and focused
  function invalid(field, text) {
    msg(text);
    field.setAttribute('aria-invalid', 'true'); field.setAttribute('aria-describedby', 'pb-msg');
    field.focus({preventScroll: true});
    $('pb-msg').scrollIntoView({block: 'center'});
    field.oninput = function () { field.removeAttribute('aria-invalid'); field.removeAttribute('aria-describedby'); msg(''); field.oninput = null; };
  }
  function enc(o) { return btoa(unescape(encodeURIComponent(JSON.stringify(o)))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''); }
  function api(method, path, body, extra) {
    var h = Object.assign({'Content-Type': 'application/json', 'Accept-Language': B.lang}, extra || {});
    if (S && S.token) h.Authorization = 'Bearer ' + S.token;
    return fetch(path, {method: method, headers: h, body: body ? JSON.stringify(body) : undefined})
      .then(function (r) { logId = r.headers.get('x-tt-logid') || ''; return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) { j.httpStatus = r.status; throw j; } return j; }); });
  }
  // Tell the host: overlay -> postMessage to the host origin, if allowed; redirect -> back to the return URL.
  function overlaid() { return !B.ret && window.parent !== window && S && B.origins.indexOf(S.host) >= 0; }
  function emit(events, done) {
    if (!S && stateP && !B.ret) { // e.g. 关闭 tapped before the state came (a next page exchanging its code):
      stateP.then(function () { if (S) emit(events, done); }, function () {}); // tell the host then, not never
      return;
    }
    if (overlaid()) {
      window.parent.postMessage({pb: 'events', key: S.key, events: events, close: !!done}, S.host);
    } else if (B.ret && done) {
      var u = B.ret.split('#')[0];
      location.href = u + '#pb_result=' + enc({key: S && S.key, events: (S && S.pending || []).concat(events)});
    } else if (B.ret && S) {
      (S.pending = S.pending || []).push.apply(S.pending, events);
    }
  }
  // the host's x (overlay, from the host that started the page) and the back control (redirect)
  window.addEventListener('message', function (e) {
    if (e.data && e.data.pb === 'close' && S && e.origin === S.host && e.source === window.parent) leave();
  });
  if (B.ret) { $('pb-back').hidden = false; $('pb-back').onclick = function () { leave(); }; }
  // Escape in an overlay: the host closes it as its x does (the cashier's user close)
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && overlaid()) window.parent.postMessage({pb: 'esc'}, S.host);
  });
  function errorEvent(e, fallbackNo) {
    return {errNo: e && e.errNo || fallbackNo, errMsg: (e && e.errMsg) || String(e),
      errLogId: (e && e.errLogId) || 'pg' + Date.now().toString(36) + Math.random().toString(36).slice(2, 8)};
  }
  var STORE = 'pb-state:' + B.appId;
  function stored() { try { return JSON.parse(sessionStorage.getItem(STORE) || 'null'); } catch (err) { return null; } }
  function keep(s) { try { sessionStorage.setItem(STORE, JSON.stringify(s)); } catch (err) { /* storage off: a reload starts over */ } }
  // the page cannot start (a used or expired link, no state, the exchange failed): it says so and goes no further
  function stopped(why) {
    var T = {used: L("This link was already opened. To protect your account a payment page link opens only once: go back to the merchant's page and start again."),
      expired: L("This link has expired. Go back to the merchant's page and start again."),
      none: L("Open this page from the merchant's page."),
      failed: L("The page could not be loaded. Go back to the merchant's page and try again.")};
    msg(T[why]);
    document.body.setAttribute('data-handover', why);
    [].forEach.call(document.querySelectorAll('[aria-busy]'), function (c) { if (c.id) loaded(c.id, true); });
    return new Promise(function () {});
  }
  function handedOver(code) {
    if (!new RegExp(G.handoverCode).test(code)) return stopped('expired');
    return api('POST', '/api/buyer/v1/handover/exchange', {app_id: B.appId, code: code}).then(function (r) {
      var s = r.state || {};
      s.token = r.token; keep(s);
      return s;
    }, function (e) {
      var why = e && e.detail && e.detail.reason;
      return stopped(why === 'used' || why === 'expired' ? why : 'failed');
    });
  }
  // the site's App({getThemeConfig}) {borderRadius, backgroundColor, fontColor}, over the app's stored theme
  function theme(t) {
    if (!t || typeof t !== 'object') return;
    var r = document.documentElement.style, px = /^(\d{1,3}(?:\.\d+)?)(px|rpx)?$/.exec(String(t.borderRadius));
    if (px) r.setProperty('--pb-radius', (px[2] === 'rpx' ? px[1] / 2 : +px[1]) + 'px');
    if (typeof t.backgroundColor === 'string' && CSS.supports('color', t.backgroundColor)) { r.setProperty('--pb-theme', t.backgroundColor); r.setProperty('--pb-ink', t.backgroundColor); }
    if (typeof t.fontColor === 'string' && CSS.supports('color', t.fontColor)) r.setProperty('--pb-theme-fg', t.fontColor);
  }
  function getState() {
    return stateP = new Promise(function (resolve) {
      var code = window.__pbc;
      window.__pbc = null;
      if (code) { // redirect, or the overlay's next page (which names the dialog)
        resolve(handedOver(code).then(function (st) {
          if (window.parent !== window && B.origins.indexOf(st.host) >= 0) window.parent.postMessage({pb: 'page', page: B.page}, st.host);
          return st;
        }));
        return;
      }
      if (window.parent === window) { resolve(stored() || stopped('none')); return; } // a reload, or Back to this page
      window.addEventListener('message', function on(e) {
        var m = e.data;
        if (!m || m.pb !== 'init' || B.origins.indexOf(e.origin) < 0 || e.source !== window.parent) return;
        window.removeEventListener('message', on);
        var s = m.state || {};
        s.host = e.origin;
        resolve(s);
      });
      if (window.parent !== window) window.parent.postMessage({pb: 'ready', page: B.page}, '*');
    }).then(function (s) { theme(s.theme); return s; });
  }
  // the journey's next page: the state goes by a new one-time code (a failure: the message, the page stays)
  function go(path, params) {
    var q = Object.keys(params).filter(function (k) { return params[k] !== '' && params[k] != null; })
      .map(function (k) { return k + '=' + encodeURIComponent(params[k]); }).join('&');
    var rest = Object.assign({}, S);
    delete rest.token;
    return api('POST', '/api/buyer/v1/handover', {state: rest}).then(function (r) {
      location.href = path + '?' + q + '#pbc=' + r.code;
    }, function (e) { msg(errorEvent(e, 0).errMsg); });
  }

  // ------------------------------------------------------------------ order-confirm: marketing (marketing-ready)
  // Offers from the merchant's marketing extension points, through /api/buyer/v1/marketing/*; the server prices
  // every choice and re-asks the merchant when the order is placed. Texts come from the template (data-*).
  function marketingBlock(onPrice) {
    var box = $('mkt'), T = box.dataset, pay = $('pay-now');
    var on = false, version = 1, info = null, q = null, chosen = null, seq = 0, busy = false, timer = 0, qty = 1;
    function wait(b) { busy = b; pay.classList.toggle('pb-wait', b); $('mkt-state').textContent = b ? T.loading : ''; }
    function note(text) { $('mkt-note').textContent = text || ''; $('mkt-note').hidden = !text; }
    function row(value, title, sub, amount, tag, usable, checked) {
      var l = document.createElement('label'), i = document.createElement('input'), b = document.createElement('span');
      l.className = 'pb-mkt-row' + (usable ? '' : ' pb-off'); l.setAttribute('data-offer', value);
      i.type = 'radio'; i.name = 'mkt'; i.value = value; i.checked = checked; i.disabled = !usable;
      l.appendChild(i);
      if (tag) { var g = document.createElement('span'); g.className = 'pb-mkt-tag'; g.textContent = tag; l.appendChild(g); }
      b.className = 'pb-mkt-body'; b.appendChild(document.createElement('b')).textContent = title;
      if (sub) b.appendChild(document.createElement('small')).textContent = sub;
      l.appendChild(b);
      var a = document.createElement('span'); a.className = 'pb-mkt-amt'; a.textContent = amount; l.appendChild(a);
      i.onchange = function () { if (i.checked) pick(value); };
      return l;
    }
    function show(r, path) {
      if (path === 'price' && r.available && !r.offers.length && q && q.offers.length) {
        // version 1 re-prices with calculate_price alone: the offers stay those listed, marked with the new choice
        var by = {};
        r.selected.forEach(function (c) { by[c.id] = c.discount_amount; });
        r.offers = q.offers.map(function (o) { return Object.assign({}, o, {selected: o.id in by, discount_amount: by[o.id] || 0}); });
      }
      q = r;
      var list = $('mkt-list'); list.textContent = '';
      note(r.available ? '' : T.off);
      var picked = r.selected.length ? r.selected[0].id : '';
      r.offers.forEach(function (o) {
        var tag = (o.type === 1 || o.type === 3 ? T.coupon : T.promo) + ' · ' + (o.range === 'order' ? T.order : T.goods);
        list.appendChild(row(o.id, o.title, o.usable ? o.note : (o.reason || T.unusable),
          o.selected ? '-' + yuan(o.discount_amount) : '', tag, o.usable, o.id === picked));
      });
      if (r.available && r.offers.length) list.appendChild(row('', T.none, '', '', '', true, !picked));
      if (r.available && !r.offers.length) note(T.empty);
      box.setAttribute('data-state', r.available ? 'ok' : 'off');
      onPrice(r);
    }
    function ask(path, selected) {
      var n = ++seq, body = {goods_id: B.goodsId, goods_type: B.goodsType, quantity: qty, version: version, selected: selected};
      if (B.goodsType === 2) body.goods_info = S.goodsInfo;
      wait(true);
      return api('POST', '/api/buyer/v1/marketing/' + path, body).then(function (r) {
        if (n === seq) { wait(false); show(r, path); }
      }, function () {
        if (n !== seq) return;
        wait(false);
        var t = (info.currentPrice || 0) * qty;
        show({available: false, offers: [], selected: [], total_amount: t, discount_amount: 0, payable: t});
      });
    }
    function pick(id) {
      var o = q && q.offers.filter(function (x) { return x.id === id; })[0];
      chosen = o ? [{id: o.id, type: o.type, range: o.range}] : [];
      ask('price', chosen);
    }
    return {
      start: function (goodsInfo, n) {
        info = goodsInfo; qty = n;
        on = !!(S && S.marketingReady) && (!info.state || info.state === 'on_sale');
        box.hidden = !on;
        if (!on) return;
        version = info.marketingVersion === 2 ? 2 : 1;
        box.setAttribute('data-version', String(version));
        ask('offers', null);
      },
      quantity: function (n) {  // a new quantity: ask again (debounced), keeping the buyer's choice where usable
        if (!on || n === qty) return;
        qty = n; wait(true); clearTimeout(timer);
        timer = setTimeout(function () { ask('offers', chosen); }, 250);
      },
      busy: function () { return on && busy; },
      body: function (total) {
        if (!on) return null;
        var ok = q && q.available;
        return {version: version, selected: ok ? q.selected.map(function (c) { return {id: c.id, type: c.type, range: c.range}; }) : [],
          expected_payable: ok ? q.payable : total};
      },
      refused: function (e) {  // the server priced the order differently: show its price, let the buyer confirm
        var d = e && e.detail;
        if (!on || !d || !d.quote || (d.reason !== 'MARKETING_PRICE_CHANGED' && d.reason !== 'MARKETING_UNAVAILABLE')) return false;
        if (d.reason === 'MARKETING_UNAVAILABLE') { show(d.quote); msg(T.off); } else { ask('offers', chosen); msg(T.changed); }
        return true;
      }
    };
  }

  // ------------------------------------------------------------------ order-confirm
  function confirmPage() {
    var info = null, qty = 1, lo = G.limitsDefault[0], hi = G.limitsDefault[1], phoneReq = false;
    var mk = marketingBlock(function (r) {
      $('sum-discount').textContent = '-' + yuan(r.discount_amount); $('sum-payable').textContent = yuan(r.payable);
    });
    function clamp(n) { n = parseInt(n, 10); if (isNaN(n)) n = lo; return Math.max(lo, Math.min(hi, n)); }
    function totals() {
      $('qty').value = qty;
      $('qty-minus').disabled = qty <= lo; $('qty-plus').disabled = qty >= hi;
      var t = (info.currentPrice || 0) * qty;
      $('sum-total').textContent = yuan(t); $('sum-payable').textContent = yuan(t); $('sum-discount').textContent = '-' + yuan(0);
      mk.quantity(qty);
    }
    function render() {
      var card = $('goods-card'); card.removeAttribute('aria-busy');
      $('goods-name').textContent = info.goodsName || '';
      var p = $('goods-photo');
      if (info.goodsPhoto) p.src = info.goodsPhoto; else p.hidden = true;
      var chips = $('goods-chips'); chips.textContent = '';
      (info.goodsLabels || []).forEach(function (lb) {
        var c = document.createElement('span'); c.className = 'pb-chip'; // the templates are the server's (goods/rules.py)
        c.textContent = (B.labels[lb.type] || lb.type).replace('{n}', lb.value).replace('{s}', lb.value == 1 ? '' : 's');
        chips.appendChild(c);
      });
      $('goods-date').textContent = info.dateRule || L('Valid every day');
      $('goods-price').textContent = yuan(info.currentPrice);
      lo = info.minLimits || G.limitsDefault[0]; hi = info.maxLimits || G.limitsDefault[1];
      if (typeof info.stock === 'number') hi = Math.min(hi, Math.max(info.stock, lo));
      qty = lo;
      $('qty-hint').textContent = ' ' + L('{min}–{max} per order', {min: lo, max: hi});
      phoneReq = !!(info.validation && info.validation.phoneNumber && info.validation.phoneNumber.required);
      $('phone-req').hidden = !phoneReq;
      totals();
      $('pay-now').disabled = false;
      mk.start(info, qty);
    }
    $('qty-minus').onclick = function () { qty = clamp(qty - 1); totals(); };
    $('qty-plus').onclick = function () { qty = clamp(qty + 1); totals(); };
    $('qty').onchange = function () { qty = clamp($('qty').value); totals(); };
    // One Idempotency-Key per tap: a retry of the tap after a lost answer finds the order the first one placed.
    function tapKey() {
      if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
      var a = new Uint8Array(16);
      if (window.crypto && crypto.getRandomValues) crypto.getRandomValues(a);
      else for (var i = 0; i < 16; i++) a[i] = Math.floor(Math.random() * 256);
      return Array.prototype.map.call(a, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
    }
    function placeOnce(body, key, tries) {
      return api('POST', '/api/buyer/v1/orders', body, {'Idempotency-Key': key}).catch(function (e) {
        var lost = !e || !e.httpStatus;  // no answer at all: the order may be placed; ask again, same key
        var busy = e && e.error === 'IDEMPOTENCY_IN_PROGRESS';
        if ((lost || busy) && tries > 0) {
          return new Promise(function (ok) { setTimeout(ok, 800); }).then(function () { return placeOnce(body, key, tries - 1); });
        }
        throw e;
      });
    }
    $('pay-now').onclick = function () {
      if (mk.busy()) return;
      // order/rules.py's normalise_phone: +86, spaces and dashes go, then the mobile rule
      var phone = $('phone').value.replace(/[\s-]/g, '').replace(/^\+86/, '');
      if (phoneReq && !phone) { invalid($('phone'), L('A mobile number is required')); return; }
      if (phone && !new RegExp(G.mobile).test(phone)) { invalid($('phone'), L('Enter a valid mobile number')); return; }
      msg(''); busyBtn($('pay-now'), true);
      var body = {goods_id: B.goodsId, goods_type: B.goodsType, quantity: qty, phone_num: phone || null,
        contact_name: $('contact').value.trim() || null};
      if (info.extra && typeof info.extra === 'object') body.cp_extra = JSON.stringify(info.extra);
      if (B.goodsType === 2) body.goods_info = S.goodsInfo;
      var m = mk.body((info.currentPrice || 0) * qty);
      if (m) body.marketing = m;
      placeOnce(body, tapKey(), 2).then(function (o) {
        var next = function () { go('/pages/cashier', {app_id: B.appId, order: o.order_id, lang: B.lang, ret: B.ret}); };
        // a new order replaces the buyer's kept one: it is closed and its stock goes back (order/resume.py)
        if (unpaid && unpaid.order_id !== o.order_id) {
          api('POST', '/api/buyer/v1/orders/' + encodeURIComponent(unpaid.order_id) + '/close').then(next, next);
        } else next();
      }, function (e) {
        busyBtn($('pay-now'), false);
        if (mk.refused(e)) return;
        var er = errorEvent(e, E.PRE_ORDER_SERVER_ERROR);
        msg(said(e, E.PRE_ORDER_SERVER_ERROR));
        emit([{name: 'pay', detail: {status: 'fail', orderId: '', outOrderNo: '', result: {errMsg: er.errMsg}}},
          {name: 'error', detail: er}], false);
      });
    };
    // the buyer's unpaid order of this good (back from the cashier): continue paying it, the seed's continue-pay
    var unpaid = null;
    function offerResume() {
      if (!B.goodsId) return;
      api('GET', '/api/buyer/v1/unpaid-order?goods_id=' + encodeURIComponent(B.goodsId)).then(function (r) {
        var o = r && r.order;
        if (!o) return;
        unpaid = o;
        $('resume-text').textContent = L('You have an unpaid order for this item ({amount}, {quantity} × {name}). Continue paying it, or pay now to close it and place a new one.',
          {amount: yuan(o.payable), quantity: o.quantity, name: o.goods.name});
        $('resume-pay').textContent = L('Continue paying');
        $('resume-pay').onclick = function () {
          go('/pages/cashier', {app_id: B.appId, order: o.order_id, lang: B.lang, ret: B.ret});
        };
        $('resume').hidden = false;
      }, function () { /* no offer: a new order as before */ });
    }
    // the browser's back from the cashier (redirect mode) may restore this page as it was left: ask again
    window.addEventListener('pageshow', function (e) {
      if (e.persisted && S) { busyBtn($('pay-now'), false); offerResume(); }
    });
    getState().then(function (st) {
      S = st;
      offerResume();
      if (B.goodsType === 1) {
        return api('GET', '/api/buyer/v1/goods/' + encodeURIComponent(B.goodsId) + '?app_id=' + encodeURIComponent(B.appId))
          .then(function (g) {
            var h = S.goodsInfo || {};
            info = Object.assign({}, h, g); // the server's record wins for price, name, photo, limits
            if (g.state !== 'on_sale') { msg(L('Not on sale')); render(); $('pay-now').disabled = true; return; }
            render();
          });
      }
      info = S.goodsInfo || {};
      render();
    }).catch(function (e) { loaded('goods-card', true); var er = errorEvent(e, E.GOODS_INFO_PARAM_INVALID); msg(said(e, E.GOODS_INFO_PARAM_INVALID)); emit([{name: 'error', detail: er}], false); });
  }

  // ------------------------------------------------------------------ cashier
  function cashierPage() {
    var order = null, timer = 0, busy = false;
    function tick(deadline) {
      var left = Math.max(0, Math.floor((deadline - Date.now()) / 1000));
      $('countdown').textContent = String(Math.floor(left / 60)).padStart(2, '0') + ':' + String(left % 60).padStart(2, '0');
      if (!left) { clearInterval(timer); $('confirm-pay').disabled = true; msg(L('The order has timed out')); }
    }
    function pay(scenario) {
      if (busy || !order) return;
      busy = true; $('confirm-pay').disabled = true; $('cancel-pay').disabled = true;
      var ch = document.querySelector('input[name=channel]:checked');
      var sel = $('scenario');
      var body = {channel: ch ? ch.value : (B.channels[0] || 'douyin'), scenario: scenario || (sel ? sel.value : null)};
      // overlay: a channel's page opens in the top window and comes back to the host page (pay-button.js resumes)
      if (overlaid() && S.back) body.return_to = S.back;
      // inside WeChat (JSAPI): the buyer's openid, when the page got it from the official account's OAuth
      var wxOpenid = /[?&]wx_openid=([^&#]+)/.exec(location.search);
      if (wxOpenid) body.wechat_openid = decodeURIComponent(wxOpenid[1]);
      api('POST', '/api/buyer/v1/orders/' + encodeURIComponent(order.order_id) + '/pay', body).then(function (r) {
        if (r.result && r.result.pending) { channelStep(r.result.action, body.channel); return; }
        var detail = {status: r.status, orderId: r.orderId, outOrderNo: r.outOrderNo, result: r.result};
        var evs = [{name: 'pay', detail: detail}];
        if (r.errNo) evs.push({name: 'error', detail: {errNo: r.errNo, errMsg: r.errMsg, errLogId: r.errLogId || logId}});
        document.body.setAttribute('data-paid', String(r.result.code));
        // the channel could not be reached (nothing was sent, nothing charged): the other channels work at once
        if (r.channelUnavailable) { failed(unavailable(r.channelUnavailable), evs); return; }
        if ([G.payCodes.SUCCESS, G.payCodes.USER_CLOSED, G.payCodes.CANCEL].indexOf(r.result.code) < 0) { failed(r.errNo ? said(r, E.PAY_FAILED) : reason(r.result.code), evs); return; }
        msg(r.result.code === G.payCodes.SUCCESS ? L('Paid') : r.result.code === G.payCodes.CANCEL
          ? L('Payment cancelled. Your order is kept; tap again to continue paying.')
          : (r.errNo ? said(r, E.PAY_FAILED) : L('Not paid')));
        clearInterval(timer);
        setTimeout(function () { emit(evs, true); }, 300);
      }, function (e) {
        var er = errorEvent(e, E.CONTINUE_PAY_PARAM_INVALID);
        // the channel's answer was lost: paying again asks it first and closes the old trade (order/repay.py)
        failed(e && e.error === 'PAYMENT_PENDING' ? L('The channel has not confirmed the payment yet. Paying again checks with it first: you are never charged twice.')
          : said(e, E.CONTINUE_PAY_PARAM_INVALID), [{name: 'error', detail: er}]);
      });
    }
    function channelName(ch) {
      var i = document.querySelector('input[name=channel][value="' + ch + '"]');
      return i ? i.parentNode.textContent.trim() : ch;
    }
    function unavailable(ch) {
      return L('{channel} is unavailable, choose another method', {channel: channelName(ch)});
    }
    // a channel's page that the browser cannot reach (refused, no network): our own message, not the browser's
    function reachable(url) {
      return new Promise(function (ok) {
        var t = setTimeout(function () { ok(true); }, 8000);  // slow, not refused: go, the browser shows its progress
        fetch(url, {mode: 'no-cors', method: 'HEAD', cache: 'no-store', credentials: 'omit'}).then(
          function () { clearTimeout(t); ok(true); }, function () { clearTimeout(t); ok(false); });
      });
    }
    // ---- a payment that failed, timed out or was refused: the reason, 重新支付 / 关闭. Its events go now (the
    // seed's `pay` with its code and `error`); 关闭 (or x, Escape, back) then only closes, 重新支付 tries again.
    var shown = false;
    function reason(code) { return code === G.payCodes.TIMEOUT ? L('The payment timed out') : L('The payment failed'); }
    function failed(text, evs) {
      busy = false; shown = true; msg('');
      $('fail-reason').textContent = text;
      $('pay-failed').hidden = false; $('pay-bar').hidden = true;
      $('pay-again').focus({preventScroll: true}); $('pay-failed').scrollIntoView({block: 'nearest'});
      emit(evs, false);
    }
    $('pay-again').onclick = function () {
      shown = false; $('pay-failed').hidden = true; $('pay-bar').hidden = false;
      $('cancel-pay').disabled = false; $('confirm-pay').disabled = false; pay(null);
    };
    $('fail-close').onclick = function () { leave(); };
    // ---- a real channel's step (channelStep, awaitPaid, channelEnd, realChannelPicked): the order decides
    function channelEnd(o) {  // the order ended: paid -> the sandbox's success; TIMEOUT/FAIL -> the failure face
      var code = G.payCodes[o.status === 'SUCCESS' || o.status === 'TIMEOUT' ? o.status : 'FAIL'];
      var result = {code: code, orderId: o.order_id};
      if (code) result.errMsg = code === G.payCodes.TIMEOUT ? L('The order has timed out') : L('Not paid');
      msg(code ? result.errMsg : L('Paid'));
      $('pay-step').hidden = true;
      document.body.setAttribute('data-paid', String(code));
      clearInterval(timer);
      setTimeout(function () {
        emit([{name: 'pay', detail: {status: 'success', orderId: o.order_id, outOrderNo: o.out_order_no, result: result}}], true);
      }, 300);
    }
    function awaitPaid(oid) {  // poll the buyer's order until it ends (a notify or the reconciler settles it)
      api('GET', '/api/buyer/v1/orders/' + encodeURIComponent(oid)).then(function (o) {
        if (['SUCCESS', 'TIMEOUT', 'FAIL'].indexOf(o.status) >= 0) { channelEnd(o); return; }
        setTimeout(function () { awaitPaid(oid); }, 1500);
      }, function () { setTimeout(function () { awaitPaid(oid); }, 3000); });
    }
    function wechatBridge(action) {  // JSAPI: WeChat's own cashier over this page, then the order decides
      msg(L('Paying in WeChat…'));
      var invoke = function () {
        window.WeixinJSBridge.invoke('getBrandWCPayRequest', action.params, function (res) {
          var said = res && res.err_msg;
          if (said === 'get_brand_wcpay_request:ok') { msg(L('Confirming the payment…')); return; }
          busy = false; $('confirm-pay').disabled = false; $('cancel-pay').disabled = false;
          msg(said === 'get_brand_wcpay_request:cancel' ? L('Not paid') : L('The payment failed'));
        });
      };
      if (window.WeixinJSBridge) invoke(); else document.addEventListener('WeixinJSBridgeReady', invoke, {once: true});
      if (!wechatBridge.polling) { wechatBridge.polling = true; awaitPaid(order.order_id); }  // once per page
    }
    function channelStep(action, ch) {
      if (action.kind === 'jsapi') { wechatBridge(action); return; }
      if (action.kind === 'redirect') {  // the channel's page, in the top window; it returns here with returned=1
        msg(L('Opening the payment page…'));
        reachable(action.url).then(function (up) {
          if (!up) {
            failed(L('The {channel} page cannot be reached, choose another method', {channel: channelName(ch)}), []);
            return;
          }
          // Alipay's and WeChat H5's pages may refuse to be framed and their app links may not fire from a frame:
          // an overlay asks the host page to go there (pay-button.js), and the channel returns to the host page
          if (overlaid()) { window.parent.postMessage({pb: 'navigate', url: action.url, order: order.order_id}, S.host); return; }
          try { sessionStorage.setItem('pb-cashier-' + order.order_id, JSON.stringify({S: S, href: location.href.split('#')[0]})); } catch (err) { /* private mode */ }
          location.href = action.url;
        });
        return;
      }
      $('pay-qr').src = '/pages/pay-qr?d=' + encodeURIComponent(action.url);
      $('pay-step').hidden = false;
      $('pay-step').scrollIntoView({block: 'center'});
      $('pay-step-text').textContent = L('Scan with WeChat to pay');
      $('pay-step-status').textContent = L('Waiting for payment…');
      awaitPaid(order.order_id);
    }
    function realChannelPicked() {  // the sandbox's scenarios and badge mean nothing for a configured real channel
      var ch = document.querySelector('input[name=channel]:checked'), card = $('scenario') && $('scenario').closest('section');
      var real = !!ch && (B.realChannels || []).indexOf(ch.value) >= 0;
      if (card) card.hidden = real;
      sandboxBadge(!real);
    }
    function sandboxBadge(on) {  // the 沙盒 badge follows the channel of the attempt, not the process's cashier
      var badge = document.querySelector('[data-testid=sandbox]');
      if (badge) badge.hidden = !on;
      document.body.classList.toggle('pb-is-sandbox', !!B.sandbox && on);
    }
    Array.prototype.forEach.call(document.querySelectorAll('input[name=channel]'), function (i) { i.addEventListener('change', realChannelPicked); });
    realChannelPicked();
    if (/[?&]returned=1(&|$)/.test(location.search)) {  // back from a channel's page: the order says how it went
      var saved = null;
      try { saved = JSON.parse(sessionStorage.getItem('pb-cashier-' + B.order) || 'null'); } catch (err) { saved = null; }
      if (saved && saved.href && saved.href.indexOf('returned=1') < 0 && saved.href.indexOf('ret=') >= 0 && !B.ret) {
        location.replace(saved.href + '&returned=1');  // the page we left (its ret= and lang=) takes the result
        return;
      }
      busy = true;
      msg(L('Confirming the payment…'));
      // overlay (reopened by the host page after the channel): the state comes from the host, as on any open
      (window.parent !== window ? getState() : Promise.resolve(saved ? saved.S : stored())).then(function (st) {
        S = st;
        return api('GET', '/api/buyer/v1/orders/' + encodeURIComponent(B.order));
      }).then(function (o) {
        order = o;
        sandboxBadge(false);  // back from a real channel's page
        $('amount').textContent = yuan(o.payable);
        $('order-name').textContent = o.goods.name + ' × ' + o.quantity;
        awaitPaid(o.order_id);
      }, function (e) { var er = errorEvent(e, E.CONTINUE_PAY_SERVER_ERROR); msg(said(e, E.CONTINUE_PAY_SERVER_ERROR)); emit([{name: 'error', detail: er}], false); });
      return;
    }
    $('confirm-pay').onclick = function () { pay(null); };
    leave = function () {
      if (shown) { busy = true; clearInterval(timer); emit([], true); return; } // its events went already  // the buyer closes the cashier: the seed's `pay` with code 3, once; nothing is charged
      // paying (or closing) already: the overlay waits for that result, which closes it
      if (busy) { if (overlaid()) window.parent.postMessage({pb: 'busy'}, S.host); return; }
      busy = true; clearInterval(timer);
      emit(order ? [{name: 'pay', detail: {status: 'success', orderId: order.order_id, outOrderNo: order.out_order_no || '',
        result: {code: G.payCodes.USER_CLOSED, orderId: order.order_id}}}] : [], true);
    };
    $('cancel-pay').onclick = function () {
      var ch = document.querySelector('input[name=channel]:checked');
      if (!ch || (B.realChannels || []).indexOf(ch.value) < 0) { pay('cancel'); return; }  // the sandbox's cancel
      // a real channel: cancelling must not start it; the seed's `pay` with code 4, the order kept
      if (busy || !order) return;
      busy = true; clearInterval(timer);
      msg(L('Payment cancelled. Your order is kept; tap again to continue paying.'));
      setTimeout(function () {
        emit([{name: 'pay', detail: {status: 'success', orderId: order.order_id, outOrderNo: order.out_order_no || '',
          result: {code: G.payCodes.CANCEL, orderId: order.order_id}}}], true);
      }, 300);
    };
    getState().then(function (st) {
      S = st;
      return api('POST', '/api/buyer/v1/orders/' + encodeURIComponent(B.order) + '/cashier');
    }).then(function (c) {
      order = c.order;
      loaded('pay-card');
      $('amount').textContent = yuan(c.amount);
      $('order-name').textContent = order.goods.name + ' × ' + order.quantity;
      var skew = Date.now() - c.now;
      tick(c.pay_expire_at + skew);
      timer = setInterval(function () { tick(c.pay_expire_at + skew); }, 1000);
      $('confirm-pay').disabled = false;
    }).catch(function (e) {
      loaded('pay-card', true);
      var er = errorEvent(e, E.CONTINUE_PAY_SERVER_ERROR); msg(said(e, E.CONTINUE_PAY_SERVER_ERROR));
      emit([{name: 'error', detail: er}], false);
    });
  }

  // ------------------------------------------------------------------ refund-apply
  function fmtTime(ms) {
    if (!ms) return '';
    var d = new Date(ms), p = function (n) { return String(n).padStart(2, '0'); };
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' + p(d.getHours()) + ':' + p(d.getMinutes());
  }
  function seedError(no) {
    return fetch('/api/errors').then(function (r) { return r.json(); }).then(function (j) {
      var e = (j.seed || {})[String(no)]; return e ? e[/^en/.test(B.lang) ? 'en' : 'zh'] : 'errNo ' + no;  // the seed's errMsg, for bind:error
    }, function () { return 'errNo ' + no; });
  }
  function goodsCard(o) {
    $('goods-card').removeAttribute('aria-busy');
    $('goods-name').textContent = o.goods.name + ' × ' + o.quantity;
    var p = $('goods-photo');
    if (p) { if (o.goods.photo_url) p.src = o.goods.photo_url; else p.hidden = true; }
  }
  function refundApplyPage() {
    var units = [], entries = null, qty = 1, hi = 1, amount = 0, fixed = null, busy = false;
    function totals() {
      if (entries) {
        amount = entries.reduce(function (a, e) { return a + e.amount; }, 0);
      } else if (fixed != null) {
        amount = fixed;
      } else {
        $('qty').value = qty;
        $('qty-minus').disabled = qty <= 1; $('qty-plus').disabled = qty >= hi;
        amount = units.slice(0, qty).reduce(function (a, u) { return a + u.refundable_amount; }, 0);
      }
      $('refund-amount').textContent = yuan(amount); $('sum-refund').textContent = yuan(amount);
    }
    function clamp(n) { n = parseInt(n, 10); if (isNaN(n)) n = 1; return Math.max(1, Math.min(hi, n)); }
    $('qty-minus').onclick = function () { qty = clamp(qty - 1); totals(); };
    $('qty-plus').onclick = function () { qty = clamp(qty + 1); totals(); };
    $('qty').onchange = function () { qty = clamp($('qty').value); totals(); };
    function fail(e, no, quiet) {  // quiet: the page already says it (nothing left to refund)
      loaded('goods-card', true);
      var er = errorEvent(e, no); msg(quiet ? '' : said(e, no));
      emit([{name: 'refund', detail: {status: 'fail', result: {errMsg: er.errMsg}}}, {name: 'error', detail: er}], false);
    }
    $('submit-refund').onclick = function () {
      if (busy) return;
      busy = true; msg(''); busyBtn($('submit-refund'), true);
      var r = document.querySelector('input[name=reason]:checked');
      var body = {reason: r ? r.value : '', note: $('note').value.trim(), cp_extra: S.cpExtra || null};
      if (entries) body.item_order_list = entries.map(function (e) { return {item_order_id: e.id, refund_amount: e.given}; });
      else if (fixed != null) body.refund_total_amount = fixed;
      else body.quantity = qty;
      api('POST', '/api/buyer/v1/orders/' + encodeURIComponent(B.order) + '/refunds', body).then(function (res) {
        // outRefundNo: the merchant's number from pre_create_refund (asked before this answer); while the
        // merchant has not given it yet the outbox retries, outRefundNo is '' and outRefundNoPending true
        var result = {refundId: res.refund_id, outRefundNo: res.out_refund_no || '', orderId: res.order_id};
        if (res.out_refund_no_pending) result.outRefundNoPending = true;
        var evs = [{name: 'refund', detail: {status: 'success', result: result}}];
        document.body.setAttribute('data-refund', res.refund_id);
        emit(evs, false);
        go('/pages/refund-detail', {app_id: B.appId, 'refund-id': res.refund_id, lang: B.lang, ret: B.ret});
      }, function (e) { busy = false; busyBtn($('submit-refund'), false); fail(e, E.REFUND_APPLY_SERVER_ERROR); });
    };
    getState().then(function (st) {
      S = st;
      var o = B.order ? encodeURIComponent(B.order) : '';
      return Promise.all([api('GET', '/api/buyer/v1/orders/' + o), api('GET', '/api/buyer/v1/orders/' + o + '/refundable')]);
    }).then(function (res) {
      var order = res[0], rf = res[1];
      goodsCard(order);
      $('goods-order').textContent = L('Order no. {id}', {id: order.order_id});
      $('goods-price').textContent = yuan(rf.payable);
      units = rf.items.filter(function (u) { return u.refundable_amount > 0 && !u.refunded_amount && !u.refunding_amount; });
      hi = Math.max(1, rf.refundable_units);
      $('qty-hint').textContent = ' ' + L('{n} refundable', {n: rf.refundable_units});
      if (S.itemOrderList) {
        var by = {};
        rf.items.forEach(function (u) { by[u.item_order_id] = u; });
        entries = S.itemOrderList.map(function (e) {
          var u = by[e.itemOrderId];
          var given = typeof e.refundAmount === 'number' ? e.refundAmount : null;
          return {id: e.itemOrderId, given: given, amount: given != null ? given : (u ? u.refundable_amount : 0)};
        });
        $('units-row').hidden = true; $('items-block').hidden = false;
        entries.forEach(function (e) {
          var li = document.createElement('li'), a = document.createElement('span'), b = document.createElement('span');
          a.textContent = e.id; b.textContent = yuan(e.amount); li.appendChild(a); li.appendChild(b); $('items').appendChild(li);
        });
      } else if (rf.legacy && S.refundTotalAmount) {
        fixed = S.refundTotalAmount; $('units-row').hidden = true;
      }
      if (!rf.refundable_amount) { $('units-row').hidden = true; $(rf.settled_units ? 'settled-left' : 'nothing-left').hidden = false; } // no stepper at 1
      totals();
      var no = !rf.refundable_amount ? E.NOTHING_REFUNDABLE : rf.legacy && !entries && fixed == null ? E.LEGACY_REFUND_AMOUNT_MISSING : 0;
      if (no) return seedError(no).then(function (m) { fail({errNo: no, errMsg: m}, no, no === E.NOTHING_REFUNDABLE); });
      $('submit-refund').disabled = false;
    }).catch(function (e) { fail(e, e && e.httpStatus >= 500 ? E.REFUND_ORDER_SERVER_ERROR : E.REFUND_ORDER_PARAM_INVALID); });
  }

  // ------------------------------------------------------------------ refund-detail
  function refundDetailPage() {
    var ST = {PROCESSING: L('Refunding'), SUCCESS: L('Refunded'), FAIL: L('Refund failed')};
    var AU = {AGREE: L('Approved by the merchant'), DENY: L('Denied by the merchant'),
      OVERTIME: L('Approved after the review deadline')};
    // a refund's reason for failing, in the page's language: the merchant's own words after a label
    function why(message, deny) {
      var m = /^merchant denied: ([\s\S]*)$/.exec(message || '');
      if (deny || m) return L("Merchant's reason: {reason}", {reason: deny || m[1]});
      if (!message) return '';
      return message === 'the channel refused' ? L('The payment channel refused the refund') : L('The refund could not be completed');
    }
    function step(title, sub, off) {
      var li = document.createElement('li'), b = document.createElement('b'), s = document.createElement('small');
      b.textContent = title; s.textContent = sub || ''; li.appendChild(b); li.appendChild(s);
      if (off) li.className = 'pb-off';
      $('timeline').appendChild(li);
    }
    $('done').onclick = function () { emit([], true); };
    getState().then(function (st) {
      S = st;
      var ref = encodeURIComponent(B.refund || '-');
      return api('GET', '/api/buyer/v1/refunds/' + ref).catch(function (e) {
        // the seed's own example passes the order id as refund-id: then show that order's latest refund
        if (e.httpStatus !== 404) throw e;
        return api('GET', '/api/buyer/v1/orders/' + ref + '/refunds').then(function (l) {
          if (!l.refunds.length) throw e;
          return api('GET', '/api/buyer/v1/refunds/' + encodeURIComponent(l.refunds[0].refund_id));
        }, function () { throw e; });
      });
    }).then(function (r) {
      loaded('status-card');
      $('status').textContent = ST[r.status] || r.status; $('status').setAttribute('data-status', r.status);
      $('amount').textContent = yuan(r.amount);
      $('units').textContent = L('{n} units', {n: r.items.length});
      $('reason').textContent = (r.reason || []).join(' / ') + (r.description ? ' · ' + r.description : '');
      $('refund-no').textContent = r.out_refund_no || r.refund_id;
      $('deny').textContent = why(r.status === 'FAIL' ? r.message : '', r.deny_message);
      r.timeline.forEach(function (t) {
        if (t.step === 'applied') step(L('Applied'), fmtTime(t.at));
        else if (t.step === 'audit') {
          var a = AU[t.status];
          step(a || L('Awaiting merchant review'),
            a ? why('', t.deny_message) : L('Review by {time}', {time: fmtTime(t.deadline)}), !a);
        } else if (t.step === 'refunded') step(L('Refunded'), fmtTime(t.at));
        else if (t.step === 'failed') step(L('Refund failed'), [fmtTime(t.at), why(t.message)].filter(Boolean).join(' · '));
      });
      if (r.status === 'PROCESSING') step(L('Refund in progress'), L('The money returns to how you paid'), true);
      return api('GET', '/api/buyer/v1/orders/' + encodeURIComponent(r.order_id)).then(function (o) {
        $('goods-name').textContent = o.goods.name;
      }, function () { /* the goods name is a nicety */ });
    }).catch(function (e) {
      var no = e && e.httpStatus >= 500 ? E.REFUND_QUERY_SERVER_ERROR : E.REFUND_DETAIL_FAILED, er = errorEvent(e, no); msg(said(e, no));
      loaded('status-card', true);
      $('status').textContent = '—';
      emit([{name: 'error', detail: er}], false);
    });
  }

  if (B.page === 'confirm') confirmPage(); else if (B.page === 'cashier') cashierPage();
  else if (B.page === 'refund-apply') refundApplyPage(); else if (B.page === 'refund-detail') refundDetailPage();
})();
