/* <pay-button>: the trade system's button, as the seed describes it, for web pages. No dependencies. */
(function () {
  'use strict';
  if (window.customElements.get('pay-button')) return;
  var SCRIPT = document.currentScript || {};
  var DS = SCRIPT.dataset || {};
  var SRC_ORIGIN = SCRIPT.src ? new URL(SCRIPT.src, location.href).origin : location.origin;
  var TEXT = {
    zh: ['继续支付', '申请退款', '退款中', '退款成功', '退款失败'],
    en: ['Continue paying', 'Apply for refund', 'Refunding', 'Refunded', 'Refund failed'],
    zhS: {upcoming: '即将开始', on_sale: '立即抢购', ended: '已结束', sold_out: '已售罄', off_shelf: '已下架', close: '关闭'},
    enS: {upcoming: 'Starting soon', on_sale: 'Buy now', ended: 'Ended', sold_out: 'Sold out', off_shelf: 'Unavailable', close: 'Close'}
  };
  var LABELS = ['EXPIRED_RETURNS', 'REFUND_ANYTIME', 'RESERVATION_FREE', 'REFUNDABLE_DAYS', 'BOOK_IN_ADVANCE', 'NON_REFUNDABLE'];
  var OBSERVED = ['mode', 'goods-id', 'goods-type', 'order-status', 'order-id', 'refund-id', 'refund-total-amount',
    'biz-line', 'marketing-ready', 'app-id', 'server', 'buyer-token', 'lang', 'display'];

  function enc(o) { return btoa(unescape(encodeURIComponent(JSON.stringify(o)))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''); }
  function dec(s) { return JSON.parse(decodeURIComponent(escape(atob(s.replace(/-/g, '+').replace(/_/g, '/'))))); }
  function bytes(s) { return new TextEncoder().encode(s).length; }
  function isObj(v) { return v !== null && typeof v === 'object' && !Array.isArray(v); }
  function isInt(v) { return typeof v === 'number' && Math.floor(v) === v; }

  // results back from a display="redirect" round trip
  var returned = null;
  (function () {
    var m = /[#&]pb_result=([^&]+)/.exec(location.hash);
    if (!m) return;
    try { returned = dec(m[1]); } catch (e) { returned = null; }
    history.replaceState(null, '', location.pathname + location.search);
  })();

  // bridge: a hidden frame relays buyer-API calls
  var bridges = {};
  function bridge(server, appId) {
    var k = server + '|' + appId;
    if (bridges[k]) return bridges[k];
    var seq = 0, waiting = {}, frame = document.createElement('iframe');
    frame.hidden = true; frame.title = 'pay-button bridge';
    frame.src = server + '/pages/bridge?app_id=' + encodeURIComponent(appId);
    var loaded = new Promise(function (res) { frame.onload = res; });
    window.addEventListener('message', function (e) {
      var m = e.data;
      if (e.origin !== server || e.source !== frame.contentWindow || !m || m.pb !== 'reply' || !waiting[m.id]) return;
      waiting[m.id](m); delete waiting[m.id];
    });
    (document.body || document.documentElement).appendChild(frame);
    var b = function (method, path, body, token) {
      return loaded.then(function () {
        return new Promise(function (resolve, reject) {
          var id = ++seq;
          var t = setTimeout(function () { delete waiting[id]; reject({status: 0, body: {errMsg: 'bridge timeout'}}); }, 15000);
          waiting[id] = function (m) { clearTimeout(t); (m.status >= 200 && m.status < 300 ? resolve : reject)(m.status >= 200 && m.status < 300 ? m.body : m); };
          frame.contentWindow.postMessage({pb: 'call', id: id, method: method, path: path, body: body, token: token}, server);
        });
      });
    };
    b.errors = b('GET', '/api/errors').then(function (j) { return j.seed || {}; }, function () { return {}; });
    bridges[k] = b;
    return b;
  }

  var ready = new Promise(function (res) {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', res); else res();
  }).then(function () { return window.tt && window.tt.__ready; }).then(function () {
    return new Promise(function (res) { setTimeout(res, 0); });
  });

  var CSS = ':host{display:inline-block}button{font:600 15px/1 -apple-system,BlinkMacSystemFont,"PingFang SC","Noto Sans CJK SC",sans-serif;' +
    'color:#fff;background:#FE2C55;border:0;border-radius:8px;padding:12px 22px;min-width:112px;cursor:pointer}' +
    'button[data-state=loading]{opacity:.7}button[data-state=ended],button[data-state=sold_out],button[data-state=off_shelf],button[data-state=failed],button[data-state=invalid]{background:#c9cacf;cursor:default}' +
    'button[data-state=upcoming]{background:#ff9db2}small{display:block;font-weight:400;font-size:11px;margin-top:4px}';

  class PayButton extends HTMLElement {
    static get observedAttributes() { return OBSERVED; }
    constructor() {
      super();
      this._listened = {};
      this._state = 'idle';
      var root = this.attachShadow({mode: 'open'});
      root.innerHTML = '<style>' + CSS + '</style><button part="button" type="button" data-state="idle"><span></span><small hidden></small></button>';
      this._btn = root.querySelector('button');
      this._btn.addEventListener('click', this._tap.bind(this));
    }
    addEventListener(type, fn, opt) { this._listened[type] = true; super.addEventListener(type, fn, opt); }
    connectedCallback() {
      var self = this;
      if (!this._started) ready.then(function () { if (self.isConnected && !self._started) { self._started = true; self._refresh(); } });
    }
    attributeChangedCallback(name, oldV, newV) {
      var self = this;
      if (!this._started || oldV === newV || this._queued) return;
      this._queued = true;
      Promise.resolve().then(function () { self._queued = false; self._refresh(); });
    }
    // attributes: plain or {{2}}
    _v(name) {
      var v = this.getAttribute(name);
      if (v == null) return null;
      v = v.trim();
      var m = /^\{\{\s*([\s\S]*?)\s*\}\}$/.exec(v);
      if (m) v = m[1].replace(/^(['"])([\s\S]*)\1$/, '$2');
      return v;
    }
    get _lang() { return /^en/i.test(this._v('lang') || DS.lang || '') ? 'en' : 'zh'; }
    get _appId() { return this._v('app-id') || DS.appId || ''; }
    get _server() { return (this._v('server') || DS.server || SRC_ORIGIN).replace(/\/+$/, ''); }
    get _display() { return (this._v('display') || DS.display || 'overlay') === 'redirect' ? 'redirect' : 'overlay'; }
    get _mode() { var m = this._v('mode'); return m == null || m === '' ? '1' : m; }
    get _status() { var s = this._v('order-status'); return s == null || s === '' ? '0' : s; }
    get _key() {
      return this._mode === '2' ? 'g:' + this._v('goods-id') : (+this._status < 2 ? 'o:' + this._v('order-id') : 'r:' + this._v('refund-id'));
    }
    _api(method, path, body, token) { return bridge(this._server, this._appId)(method, path, body, token); }
    // hooks: el.bindNAME, bind:NAME on Page, window
    _hook(name) {
      var f = this['bind' + name];
      if (typeof f === 'function') return f.bind(this);
      var m = this._v('bind:' + name);
      if (!m) return null;
      var page = window.tt && window.tt.__page;
      if (page && typeof page[m] === 'function') return page[m].bind(page);
      return typeof window[m] === 'function' ? window[m] : null;
    }
    _has(name) { return !!this._hook(name) || !!this._listened[name]; }
    _ask(name, detail) {
      var h = this._hook(name);
      try { return Promise.resolve(h({type: name, detail: detail, currentTarget: this, target: this})); } catch (e) { return Promise.reject(e); }
    }
    _emit(name, detail) {
      var h = this._hook(name);
      if (h) { try { h({type: name, detail: detail, currentTarget: this, target: this}); } catch (e) { setTimeout(function () { throw e; }); } }
      this.dispatchEvent(new CustomEvent(name, {detail: detail}));
    }
    _error(errNo, errMsg, logId) {
      var self = this, lang = this._lang;
      var table = this._appId ? bridge(this._server, this._appId).errors : Promise.resolve({});
      return table.then(function (t) {
        var e = t[String(errNo)];
        var base = e ? (lang === 'en' ? e.en : e.zh) : 'errNo ' + errNo;
        self._emit('error', {errNo: errNo, errMsg: errMsg && errMsg !== base ? base + ': ' + errMsg : base,
          errLogId: logId || 'pb' + Date.now().toString(36) + Math.random().toString(36).slice(2, 8)});
      });
    }
    _render(state, sub) {
      var L = TEXT[this._lang], S = TEXT[this._lang + 'S'];
      this._state = state;
      this._btn.setAttribute('data-state', state);
      var text = this._mode === '2' ? (S[state] || S.on_sale) : (L[+this._status] || L[0]);
      this._btn.firstChild.textContent = text;
      this._btn.lastChild.hidden = !sub;
      this._btn.lastChild.textContent = sub || '';
    }
    _validate() {
      var mode = this._mode;
      if (mode !== '1' && mode !== '2') return 21500;
      if (mode === '2') {
        var gid = this._v('goods-id');
        if (!gid || bytes(gid) > 64) return 21501;
        if (this._v('goods-type') !== '1' && this._v('goods-type') !== '2') return 21502;
        if (!this._has('getgoodsinfo')) return 21503;
        if (!this._has('placeorder')) return 21504;
        if (!this._has('pay')) return 21516;
        return 0;
      }
      var st = this._status;
      if (!/^[0-4]$/.test(st)) return 21521;
      if (+st < 2) { var o = this._v('order-id'); if (!o || bytes(o) > 64) return 21522; } else {
        var r = this._v('refund-id'); if (!r || bytes(r) > 64) return 21523;
      }
      return 0;
    }
    _refresh() {
      var err = this._validate(), self = this;
      this._gen = (this._gen || 0) + 1;
      if (err) { this._render('invalid'); this._error(err); return; }
      if (this._mode === '2') this._load(this._gen); else this._render('ready');
      if (returned && returned.key === this._key) {
        var r = returned; returned = null;
        r.events.forEach(function (ev) { self._emit(ev.name, ev.detail); });
      }
    }
    // mode 2: goods info and capability
    _load(gen) {
      var self = this, gid = this._v('goods-id'), gtype = +this._v('goods-type'), appId = this._appId;
      this._render('loading');
      this._cap = null; this._info = null;
      var q = '?app_id=' + encodeURIComponent(appId);
      this._api('GET', '/api/buyer/v1/apps/' + encodeURIComponent(appId)).then(function (a) { self._cap = a; }, function (r) {
        self._cap = {can_pay: false};
        self._error(r.status >= 500 || !r.status ? 21507 : 21508, r.body && r.body.errMsg, r.body && r.body.errLogId);
      });
      var server = gtype === 1 ? this._api('GET', '/api/buyer/v1/goods/' + encodeURIComponent(gid) + q).catch(function (r) {
        throw {errNo: r.status >= 500 || !r.status ? 21505 : 21506, errMsg: r.body && r.body.errMsg, logId: r.body && r.body.errLogId};
      }) : Promise.resolve(null);
      server.then(function (g) {
        return self._ask('getgoodsinfo', {goodsId: gid, goodsType: gtype}).then(null, function (e) {
          throw {errNo: 21509, errMsg: e && (e.errMsg || e.message) || (e == null ? '' : String(e))};
        }).then(function (info) {
          if (info === undefined && g) info = {};
          var bad = self._check(info, gtype);
          if (bad) throw bad;
          return g ? Object.assign({}, info, {currentPrice: g.currentPrice, goodsName: g.goodsName, goodsPhoto: g.goodsPhoto,
            goodsLabels: g.goodsLabels, minLimits: g.minLimits, maxLimits: g.maxLimits, state: g.state, saleStart: g.saleStart, stock: g.stock}) : info;
        });
      }).then(function (info) {
        if (gen !== self._gen) return;
        self._info = info;
        var st = gtype === 1 ? info.state : 'on_sale', sub = '';
        if (st === 'upcoming' && info.saleStart) {
          var d = new Date(info.saleStart), p = function (n) { return String(n).padStart(2, '0'); };
          sub = (self._lang === 'en' ? 'from ' : '') + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' + p(d.getHours()) + ':' + p(d.getMinutes()) + (self._lang === 'en' ? '' : ' 开抢');
        }
        self._render(st, sub);
      }, function (e) {
        if (gen !== self._gen) return;
        self._render('failed');
        self._error(e.errNo, e.errMsg, e.logId);
      });
    }
    _check(info, gtype) {
      if (!isObj(info)) return {errNo: 21512, errMsg: 'getgoodsinfo must resolve an object'};
      if (gtype === 2) {
        if (!isInt(info.currentPrice) || info.currentPrice < 0) return {errNo: 21512, errMsg: 'currentPrice'};
        if (typeof info.goodsName !== 'string' || !info.goodsName) return {errNo: 21512, errMsg: 'goodsName'};
        if (typeof info.goodsPhoto !== 'string' || !info.goodsPhoto) return {errNo: 21512, errMsg: 'goodsPhoto'};
      }
      var lo = info.minLimits == null ? 1 : info.minLimits, hi = info.maxLimits == null ? 99999 : info.maxLimits;
      if (!isInt(lo) || !isInt(hi) || lo < 1 || hi > 99999 || lo > hi) return {errNo: 21512, errMsg: 'minLimits/maxLimits'};
      if (info.dateRule != null && typeof info.dateRule !== 'string') return {errNo: 21512, errMsg: 'dateRule'};
      if (info.extra != null && !isObj(info.extra)) return {errNo: 21512, errMsg: 'extra'};
      var labels = info.goodsLabels;
      if (labels == null) return null;
      if (!Array.isArray(labels)) return {errNo: 21512, errMsg: 'goodsLabels'};
      var seen = {};
      if (labels.length > 3) return {errNo: 21511, errMsg: 'at most 3 labels'};
      for (var i = 0; i < labels.length; i++) {
        var l = labels[i];
        if (!isObj(l) || LABELS.indexOf(l.type) < 0) return {errNo: 21511, errMsg: 'label type'};
        if ((l.type === 'REFUNDABLE_DAYS' || l.type === 'BOOK_IN_ADVANCE') && !(isInt(l.value) && l.value > 0)) return {errNo: 21511, errMsg: l.type + ' needs a value'};
        seen[l.type] = 1;
      }
      if ((seen.REFUND_ANYTIME && seen.REFUNDABLE_DAYS) || (seen.RESERVATION_FREE && seen.BOOK_IN_ADVANCE) ||
        (seen.NON_REFUNDABLE && (seen.REFUNDABLE_DAYS || seen.REFUND_ANYTIME))) return {errNo: 21511, errMsg: 'labels exclude each other'};
      return null;
    }
    // buyer: buyer-token, tt token, tt.login
    _token() {
      var t = this._v('buyer-token');
      if (t) return Promise.resolve(t);
      var tt = window.tt;
      if (!tt) return Promise.reject({errMsg: 'no buyer token'});
      if (tt.__token) return Promise.resolve(tt.__token);
      return new Promise(function (res, rej) { tt.login({success: function () { res(tt.__token); }, fail: rej}); });
    }
    _tap() {
      var self = this, s = this._state;
      if (!this._started) return;
      if (s === 'invalid') { this._error(this._validate()); return; }
      if (this._mode === '1') { this._tap1(); return; }
      if (s === 'loading') { this._error(21513); return; }
      if (s === 'failed') { this._error(21514); return; }
      if (s !== 'on_sale' || this._busy) return;
      if (this._cap && !this._cap.can_pay) { this._error(21515); return; }
      var gid = this._v('goods-id'), gtype = +this._v('goods-type');
      this._busy = true;
      this._ask('placeorder', {goodsId: gid, goodsType: gtype}).then(function () {
        return self._token().catch(function (e) { throw {login: e}; });
      }, function (e) { throw {place: e}; }).then(function (token) {
        self._open('order-confirm', {goods_id: gid, goods_type: gtype},
          {token: token, goodsInfo: self._info, key: self._key, marketingReady: self._v('marketing-ready') === 'true'});
      }).catch(function (e) {
        self._error(21510, e && (e.place || e.login) && ((e.place || e.login).errMsg || (e.place || e.login).message) || '');
      }).then(function () { self._busy = false; });
    }
    _tap1() {
      var self = this, st = +this._status, order = this._v('order-id');
      if (this._busy) return;
      this._busy = true;
      var go;
      if (st === 0) {
        go = this._token().then(function (t) { self._open('cashier', {order: order}, {token: t, key: self._key}); },
          function (e) { self._error(21526, e && e.errMsg); });
      } else if (st === 1) {
        var amt = this._v('refund-total-amount');
        go = (this._hook('applyrefund') ? this._ask('applyrefund', {orderId: order}).then(null, function (e) {
          throw {errNo: 21533, errMsg: e && (e.errMsg || e.message) || ''};
        }) : Promise.resolve({})).then(function (extra) {
          if (extra === undefined) extra = {};
          if (!isObj(extra)) throw {errNo: 21534};
          var rest = Object.assign({}, extra), items = rest.itemOrderList;
          delete rest.itemOrderList;
          if (items !== undefined && !(Array.isArray(items) && items.length)) throw {errNo: 21534, errMsg: 'itemOrderList'};
          return self._token().then(function (t) {
            self._open('refund-apply', {order: order}, {token: t, key: self._key, itemOrderList: items || null,
              cpExtra: JSON.stringify(rest), refundTotalAmount: amt ? +amt : null});
          });
        }).catch(function (e) { self._error(e.errNo || 21533, e.errMsg); });
      } else {
        go = this._token().then(function (t) { self._open('refund-detail', {'refund-id': self._v('refund-id')}, {token: t, key: self._key}); },
          function (e) { self._error(21537, e && e.errMsg); });
      }
      go.then(function () { self._busy = false; });
    }
    // hosted pages: overlay iframe or redirect
    _open(page, params, state) {
      var self = this, server = this._server;
      var q = 'app_id=' + encodeURIComponent(this._appId) + '&lang=' + (this._lang === 'en' ? 'en' : 'zh-CN');
      Object.keys(params).forEach(function (k) { q += '&' + k + '=' + encodeURIComponent(params[k]); });
      var url = server + '/pages/' + page + '?' + q;
      if (this._display === 'redirect') {
        location.href = url + '&ret=' + encodeURIComponent(location.href.split('#')[0]) + '#pb=' + enc(state);
        return;
      }
      var wrap = document.createElement('div');
      wrap.setAttribute('data-pay-button-overlay', page);
      wrap.style.cssText = 'position:fixed;inset:0;z-index:2147483000;background:rgba(0,0,0,.45);display:flex;align-items:flex-end;justify-content:center';
      var box = document.createElement('div');
      box.style.cssText = 'position:relative;width:100%;max-width:560px;height:min(92vh,860px);background:#f2f3f5;border-radius:14px 14px 0 0;overflow:hidden';
      var x = document.createElement('button');
      x.textContent = '×'; x.setAttribute('aria-label', TEXT[this._lang + 'S'].close);
      x.style.cssText = 'position:absolute;top:6px;right:8px;z-index:1;border:0;background:none;font-size:26px;line-height:1;color:#8a8b91;cursor:pointer;padding:6px';
      var frame = document.createElement('iframe');
      frame.src = url; frame.title = page;
      frame.style.cssText = 'border:0;width:100%;height:100%;display:block';
      box.appendChild(frame); box.appendChild(x); wrap.appendChild(box);
      var close = function () { window.removeEventListener('message', onMsg); wrap.remove(); };
      var onMsg = function (e) {
        var m = e.data;
        if (e.origin !== server || e.source !== frame.contentWindow || !m) return;
        if (m.pb === 'ready') frame.contentWindow.postMessage({pb: 'init', state: state}, server);
        if (m.pb === 'events') {
          if (m.close) close();
          (m.events || []).forEach(function (ev) { self._emit(ev.name, ev.detail); });
        }
      };
      x.onclick = close;
      window.addEventListener('message', onMsg);
      document.body.appendChild(wrap);
    }
  }
  window.customElements.define('pay-button', PayButton);

  // <consume-card>: codes per unit, polled; `consume` on verification
  var CS = {'待使用': 'Unused', '已核销': 'Used', '退款中': 'Refunding', '已退款': 'Refunded'};
  class ConsumeCard extends PayButton {
    constructor() {
      super();
      var r = this.shadowRoot;
      r.innerHTML = '<style>' + CSS + ':host{display:block;background:#fff;border-radius:12px;padding:2px 16px 12px;margin:12px 0}ul{padding:0}li{display:flex;justify-content:space-between;padding:10px 0;' +
        'border-bottom:1px solid #eee}b{font-family:monospace}li:not([data-state=待使用]){color:#999}</style><ul></ul>' + r.innerHTML.slice(r.innerHTML.indexOf('<button'));
      this._btn = r.querySelector('button');
      this._btn.hidden = true;
      this._btn.onclick = this._tap.bind(this);
    }
    get _status() { return '1'; }
    disconnectedCallback() { clearTimeout(this._t); }
    _refresh() { super._refresh(); clearTimeout(this._t); if (this._state === 'ready') this._poll(this._gen); }
    _poll(gen) {
      var self = this, id = this._v('order-id');
      this._token().then(function (t) { return self._api('GET', '/api/buyer/v1/orders/' + encodeURIComponent(id) + '/vouchers', null, t); }).then(function (r) {
        if (gen !== self._gen) return;
        var old = self._seen || {}, used = 0, open = 0, ul = self.shadowRoot.querySelector('ul');
        self._seen = {}; ul.textContent = '';
        r.vouchers.forEach(function (v) {
          var li = ul.appendChild(document.createElement('li')), s = v.state, k = v.item_order_id;
          li.dataset.state = s;
          li.append(Object.assign(document.createElement('b'), {textContent: v.code}), self._lang === 'en' ? CS[s] || s : s);
          used = used || (s === '已核销' && old[k] && old[k] !== s); open = open || s === '待使用'; self._seen[k] = s;
        });
        self._btn.hidden = !open;
        if (used) self._emit('consume', {orderId: id});
      }, function (e) {
        if (gen === self._gen && !self._failed) { self._failed = 1; self._error(e.status >= 500 || !e.status ? 21528 : 21529, e.body && e.body.errMsg); }
      }).then(function () { if (gen === self._gen && self.isConnected) self._t = setTimeout(function () { self._poll(gen); }, 3000); });
    }
  }
  window.customElements.define('consume-card', ConsumeCard);
  window.__payButton = {bridge: function (appId, server) { return bridge((server || DS.server || SRC_ORIGIN).replace(/\/+$/, ''), appId || DS.appId); },
    appId: DS.appId || '', server: (DS.server || SRC_ORIGIN).replace(/\/+$/, '')};
})();
