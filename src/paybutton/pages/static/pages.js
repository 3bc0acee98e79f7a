/* The hosted pages' script: order-confirm and the sandbox cashier. State comes from the host page by
   postMessage (overlay: only from the app's allowed origins) or from the URL fragment (redirect). */
(function () {
  'use strict';
  var B = JSON.parse(document.getElementById('pb-boot').textContent);
  var en = B.lang === 'en';
  var $ = function (id) { return document.getElementById(id); };
  var S = null; // {token, goodsInfo, key, host, extra}
  var LABELS = {EXPIRED_RETURNS: ['过期退', 'Refund if expired'], REFUND_ANYTIME: ['随时退', 'Refund anytime'],
    RESERVATION_FREE: ['免预约', 'No booking needed'], REFUNDABLE_DAYS: ['{n}日内可退', 'Refundable within {n} days'],
    BOOK_IN_ADVANCE: ['提前{n}日预约', 'Book {n} days ahead'], NON_REFUNDABLE: ['不可退', 'Non-refundable']};
  function yuan(fen) { return '¥' + (Number(fen || 0) / 100).toFixed(2); }
  function msg(text) { $('pb-msg').textContent = text || ''; }
  function enc(o) { return btoa(unescape(encodeURIComponent(JSON.stringify(o)))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''); }
  function dec(s) { return JSON.parse(decodeURIComponent(escape(atob(s.replace(/-/g, '+').replace(/_/g, '/'))))); }
  function api(method, path, body) {
    var h = {'Content-Type': 'application/json', 'Accept-Language': B.lang};
    if (S && S.token) h.Authorization = 'Bearer ' + S.token;
    return fetch(path, {method: method, headers: h, body: body ? JSON.stringify(body) : undefined})
      .then(function (r) { return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) { j.httpStatus = r.status; throw j; } return j; }); });
  }
  // Tell the host: overlay -> postMessage to the (allowed) host origin; redirect -> back to the return URL.
  function emit(events, done) {
    if (!B.ret && window.parent !== window && S && S.host) {
      window.parent.postMessage({pb: 'events', key: S.key, events: events, close: !!done}, S.host);
    } else if (B.ret && done) {
      var u = B.ret.split('#')[0];
      location.href = u + '#pb_result=' + enc({key: S && S.key, events: (S.pending || []).concat(events)});
    } else if (B.ret) {
      (S.pending = S.pending || []).push.apply(S.pending, events);
    }
  }
  function errorEvent(e, fallbackNo) {
    return {errNo: e && e.errNo || fallbackNo, errMsg: (e && e.errMsg) || String(e), errLogId: (e && e.errLogId) || ''};
  }
  function hashState() {
    var m = /[#&]pb=([^&]+)/.exec(location.hash);
    if (!m) return null;
    try { return dec(m[1]); } catch (err) { return null; }
  }
  function getState() {
    return new Promise(function (resolve) {
      var st = hashState();
      if (st) { resolve(st); return; }
      window.addEventListener('message', function on(e) {
        var m = e.data;
        if (!m || m.pb !== 'init' || B.origins.indexOf(e.origin) < 0 || e.source !== window.parent) return;
        window.removeEventListener('message', on);
        var s = m.state || {};
        s.host = e.origin;
        resolve(s);
      });
      if (window.parent !== window) window.parent.postMessage({pb: 'ready', page: B.page}, '*');
    });
  }
  function go(path, params) {
    var q = Object.keys(params).filter(function (k) { return params[k] !== '' && params[k] != null; })
      .map(function (k) { return k + '=' + encodeURIComponent(params[k]); }).join('&');
    location.href = path + '?' + q + '#pb=' + enc(S);
  }

  // ------------------------------------------------------------------ order-confirm
  function confirmPage() {
    var info = null, qty = 1, lo = 1, hi = 99999, phoneReq = false;
    function clamp(n) { n = parseInt(n, 10); if (isNaN(n)) n = lo; return Math.max(lo, Math.min(hi, n)); }
    function totals() {
      $('qty').value = qty;
      $('qty-minus').disabled = qty <= lo; $('qty-plus').disabled = qty >= hi;
      var t = (info.currentPrice || 0) * qty;
      $('sum-total').textContent = yuan(t); $('sum-payable').textContent = yuan(t);
    }
    function render() {
      var card = $('goods-card'); card.removeAttribute('aria-busy');
      $('goods-name').textContent = info.goodsName || '';
      var p = $('goods-photo');
      if (info.goodsPhoto) p.src = info.goodsPhoto; else p.hidden = true;
      var chips = $('goods-chips'); chips.textContent = '';
      (info.goodsLabels || []).forEach(function (lb) {
        var t = LABELS[lb.type]; var c = document.createElement('span'); c.className = 'pb-chip';
        c.textContent = (t ? t[en ? 1 : 0] : lb.type).replace('{n}', lb.value); chips.appendChild(c);
      });
      $('goods-date').textContent = info.dateRule || (en ? 'Valid every day' : '周一至周日可用');
      $('goods-price').textContent = yuan(info.currentPrice);
      lo = info.minLimits || 1; hi = info.maxLimits || 99999;
      if (typeof info.stock === 'number') hi = Math.min(hi, Math.max(info.stock, lo));
      qty = lo;
      $('qty-hint').textContent = ' ' + (en ? lo + '–' + hi + ' per order' : '限购 ' + lo + '–' + hi + ' 份');
      phoneReq = !!(info.validation && info.validation.phoneNumber && info.validation.phoneNumber.required);
      $('phone-req').hidden = !phoneReq;
      totals();
      $('pay-now').disabled = false;
    }
    $('qty-minus').onclick = function () { qty = clamp(qty - 1); totals(); };
    $('qty-plus').onclick = function () { qty = clamp(qty + 1); totals(); };
    $('qty').onchange = function () { qty = clamp($('qty').value); totals(); };
    $('pay-now').onclick = function () {
      var phone = $('phone').value.trim();
      if (phoneReq && !phone) { msg(en ? 'A mobile number is required' : '请填写手机号'); return; }
      if (phone && !/^1[3-9]\d{9}$/.test(phone)) { msg(en ? 'Enter a valid mobile number' : '请输入正确的手机号'); return; }
      msg(''); $('pay-now').disabled = true;
      var body = {goods_id: B.goodsId, goods_type: B.goodsType, quantity: qty, phone_num: phone || null,
        contact_name: $('contact').value.trim() || null};
      if (info.extra && typeof info.extra === 'object') body.cp_extra = JSON.stringify(info.extra);
      if (B.goodsType === 2) body.goods_info = S.goodsInfo;
      api('POST', '/api/buyer/v1/orders', body).then(function (o) {
        go('/pages/cashier', {app_id: B.appId, order: o.order_id, lang: B.lang, ret: B.ret});
      }, function (e) {
        $('pay-now').disabled = false;
        var er = errorEvent(e, 21517);
        msg(er.errMsg);
        emit([{name: 'pay', detail: {status: 'fail', orderId: '', outOrderNo: '', result: {errMsg: er.errMsg}}},
          {name: 'error', detail: er}], false);
      });
    };
    getState().then(function (st) {
      S = st;
      if (B.goodsType === 1) {
        return api('GET', '/api/buyer/v1/goods/' + encodeURIComponent(B.goodsId) + '?app_id=' + encodeURIComponent(B.appId))
          .then(function (g) {
            var h = S.goodsInfo || {};
            info = Object.assign({}, h, g); // the server's record wins for price, name, photo, limits
            if (g.state !== 'on_sale') { msg(en ? 'Not on sale' : '当前不可购买'); render(); $('pay-now').disabled = true; return; }
            render();
          });
      }
      info = S.goodsInfo || {};
      render();
    }).catch(function (e) { var er = errorEvent(e, 21506); msg(er.errMsg); emit([{name: 'error', detail: er}], false); });
  }

  // ------------------------------------------------------------------ cashier
  function cashierPage() {
    var order = null, timer = 0, busy = false;
    function tick(deadline) {
      var left = Math.max(0, Math.floor((deadline - Date.now()) / 1000));
      $('countdown').textContent = String(Math.floor(left / 60)).padStart(2, '0') + ':' + String(left % 60).padStart(2, '0');
      if (!left) { clearInterval(timer); $('confirm-pay').disabled = true; msg(en ? 'The order has timed out' : '订单已超时'); }
    }
    function pay(scenario) {
      if (busy || !order) return;
      busy = true; $('confirm-pay').disabled = true; $('cancel-pay').disabled = true;
      var ch = document.querySelector('input[name=channel]:checked');
      var sel = $('scenario');
      var body = {channel: ch ? ch.value : (B.channels[0] || 'douyin'), scenario: scenario || (sel ? sel.value : null)};
      api('POST', '/api/buyer/v1/orders/' + encodeURIComponent(order.order_id) + '/pay', body).then(function (r) {
        var detail = {status: r.status, orderId: r.orderId, outOrderNo: r.outOrderNo, result: r.result};
        var evs = [{name: 'pay', detail: detail}];
        if (r.errNo) evs.push({name: 'error', detail: {errNo: r.errNo, errMsg: r.errMsg, errLogId: r.errLogId || ''}});
        msg(r.result.code === 0 ? (en ? 'Paid' : '支付成功') : (r.errMsg || (en ? 'Not paid' : '未完成支付')));
        document.body.setAttribute('data-paid', String(r.result.code));
        clearInterval(timer);
        setTimeout(function () { emit(evs, true); }, 300);
      }, function (e) {
        busy = false; $('cancel-pay').disabled = false;
        var er = errorEvent(e, 21527); msg(er.errMsg);
        emit([{name: 'error', detail: er}], false);
      });
    }
    $('confirm-pay').onclick = function () { pay(null); };
    $('cancel-pay').onclick = function () { pay('cancel'); };
    getState().then(function (st) {
      S = st;
      return api('POST', '/api/buyer/v1/orders/' + encodeURIComponent(B.order) + '/cashier');
    }).then(function (c) {
      order = c.order;
      $('amount').textContent = yuan(c.amount);
      $('order-name').textContent = order.goods.name + ' × ' + order.quantity;
      var skew = Date.now() - c.now;
      tick(c.pay_expire_at + skew);
      timer = setInterval(function () { tick(c.pay_expire_at + skew); }, 1000);
      $('confirm-pay').disabled = false;
    }).catch(function (e) {
      var er = errorEvent(e, 21526); msg(er.errMsg);
      emit([{name: 'error', detail: er}], false);
    });
  }

  if (B.page === 'confirm') confirmPage(); else if (B.page === 'cashier') cashierPage();
})();
