/* The hosted pages' script: order-confirm, the sandbox cashier, refund-apply and refund-detail. State comes from the host page by
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

  // ------------------------------------------------------------------ refund-apply
  function fmtTime(ms) {
    if (!ms) return '';
    var d = new Date(ms), p = function (n) { return String(n).padStart(2, '0'); };
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' + p(d.getHours()) + ':' + p(d.getMinutes());
  }
  function seedError(no) {
    return fetch('/api/errors').then(function (r) { return r.json(); }).then(function (j) {
      var e = (j.seed || {})[String(no)]; return e ? (en ? e.en : e.zh) : 'errNo ' + no;
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
    function fail(e, no) {
      var er = errorEvent(e, no); msg(er.errMsg);
      emit([{name: 'refund', detail: {status: 'fail', result: {errMsg: er.errMsg}}}, {name: 'error', detail: er}], false);
    }
    $('submit-refund').onclick = function () {
      if (busy) return;
      busy = true; msg(''); $('submit-refund').disabled = true;
      var r = document.querySelector('input[name=reason]:checked');
      var body = {reason: r ? r.value : '', note: $('note').value.trim(), cp_extra: S.cpExtra || null};
      if (entries) body.item_order_list = entries.map(function (e) { return {item_order_id: e.id, refund_amount: e.given}; });
      else if (fixed != null) body.refund_total_amount = fixed;
      else body.quantity = qty;
      api('POST', '/api/buyer/v1/orders/' + encodeURIComponent(B.order) + '/refunds', body).then(function (res) {
        var evs = [{name: 'refund', detail: {status: 'success',
          result: {refundId: res.refund_id, outRefundNo: res.out_refund_no, orderId: res.order_id}}}];
        document.body.setAttribute('data-refund', res.refund_id);
        if (B.ret) { emit(evs, true); return; }
        emit(evs, false);
        go('/pages/refund-detail', {app_id: B.appId, 'refund-id': res.refund_id, lang: B.lang});
      }, function (e) { busy = false; $('submit-refund').disabled = false; fail(e, 21535); });
    };
    getState().then(function (st) {
      S = st;
      var o = B.order ? encodeURIComponent(B.order) : '';
      return Promise.all([api('GET', '/api/buyer/v1/orders/' + o), api('GET', '/api/buyer/v1/orders/' + o + '/refundable')]);
    }).then(function (res) {
      var order = res[0], rf = res[1];
      goodsCard(order);
      $('goods-order').textContent = (en ? 'Order no. ' : '订单号 ') + order.order_id;
      $('goods-price').textContent = yuan(rf.payable);
      units = rf.items.filter(function (u) { return u.refundable_amount > 0 && !u.refunded_amount && !u.refunding_amount; });
      hi = Math.max(1, rf.refundable_units);
      $('qty-hint').textContent = ' ' + (en ? rf.refundable_units + ' refundable' : '可退 ' + rf.refundable_units + ' 份');
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
      totals();
      if (!rf.refundable_amount) {
        return seedError(21531).then(function (m) { fail({errNo: 21531, errMsg: m}, 21531); });
      }
      $('submit-refund').disabled = false;
    }).catch(function (e) { fail(e, e && e.httpStatus >= 500 ? 21528 : 21529); });
  }

  // ------------------------------------------------------------------ refund-detail
  function refundDetailPage() {
    var ST = {PROCESSING: ['退款中', 'Refunding'], SUCCESS: ['退款成功', 'Refunded'], FAIL: ['退款失败', 'Refund failed']};
    var AU = {AGREE: ['商家已同意', 'Approved by the merchant'], DENY: ['商家已拒绝', 'Denied by the merchant'],
      OVERTIME: ['审核超时,自动同意', 'Approved after the review deadline']};
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
      var s = ST[r.status] || [r.status, r.status];
      $('status').textContent = s[en ? 1 : 0]; $('status').setAttribute('data-status', r.status);
      $('amount').textContent = yuan(r.amount);
      $('units').textContent = r.items.length + (en ? '' : ' 份');
      $('reason').textContent = (r.reason || []).join(' / ') + (r.description ? ' · ' + r.description : '');
      $('refund-no').textContent = r.out_refund_no || r.refund_id;
      var why = r.deny_message || (r.status === 'FAIL' ? r.message : '');
      $('deny').textContent = why;
      r.timeline.forEach(function (t) {
        if (t.step === 'applied') step(en ? 'Applied' : '已提交申请', fmtTime(t.at));
        else if (t.step === 'audit') {
          var a = AU[t.status];
          step(a ? a[en ? 1 : 0] : (en ? 'Awaiting merchant review' : '等待商家审核'),
            a ? t.deny_message : (en ? 'Review by ' : '审核截止 ') + fmtTime(t.deadline), !a);
        } else if (t.step === 'refunded') step(en ? 'Refunded' : '退款成功', fmtTime(t.at));
        else if (t.step === 'failed') step(en ? 'Refund failed' : '退款失败', [fmtTime(t.at), t.message].filter(Boolean).join(' · '));
      });
      if (r.status === 'PROCESSING') step(en ? 'Refunding' : '退款处理中', en ? 'The money returns to how you paid' : '款项将原路退回', true);
      return api('GET', '/api/buyer/v1/orders/' + encodeURIComponent(r.order_id)).then(function (o) {
        $('goods-name').textContent = o.goods.name;
      }, function () { /* the goods name is a nicety */ });
    }).catch(function (e) {
      var er = errorEvent(e, e && e.httpStatus >= 500 ? 21537 : 21532); msg(er.errMsg);
      $('status').textContent = '—';
      emit([{name: 'error', detail: er}], false);
    });
  }

  if (B.page === 'confirm') confirmPage(); else if (B.page === 'cashier') cashierPage();
  else if (B.page === 'refund-apply') refundApplyPage(); else if (B.page === 'refund-detail') refundDetailPage();
})();
