/* <pay-button>: the trade system's button, as the seed describes it, for web pages. No dependencies. */
(() => {
  'use strict';
  if (customElements.get('pay-button')) return;
  const D = document, SCRIPT = D.currentScript || {}, DS = SCRIPT.dataset || {}, U = encodeURIComponent;
  const SRC = (DS.server || (SCRIPT.src ? new URL(SCRIPT.src, location.href).origin : location.origin)).replace(/\/+$/, '');
  const TEXT = {
    zh: ['继续支付', '申请退款', '退款中', '退款成功', '退款失败'],
    en: ['Continue paying', 'Apply for refund', 'Refunding', 'Refunded', 'Refund failed'],
    zhS: {upcoming: '即将开始', on_sale: '立即抢购', ended: '已结束', sold_out: '已售罄', off_shelf: '已下架', close: '关闭'},
    enS: {upcoming: 'Starting soon', on_sale: 'Buy now', ended: 'Ended', sold_out: 'Sold out', off_shelf: 'Unavailable', close: 'Close'}
  };
  const LABELS = ['EXPIRED_RETURNS', 'REFUND_ANYTIME', 'RESERVATION_FREE', 'REFUNDABLE_DAYS', 'BOOK_IN_ADVANCE', 'NON_REFUNDABLE'];
  const OBSERVED = 'mode goods-id goods-type order-status order-id refund-id refund-total-amount biz-line marketing-ready app-id server buyer-token lang display'.split(' ');

  const enc = o => btoa(unescape(encodeURIComponent(JSON.stringify(o)))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const dec = s => JSON.parse(decodeURIComponent(escape(atob(s.replace(/-/g, '+').replace(/_/g, '/')))));
  const bytes = s => new TextEncoder().encode(s).length;
  const bad = (errNo, errMsg) => ({errNo, errMsg});
  const isObj = v => v !== null && typeof v === 'object' && !Array.isArray(v);
  const isInt = v => typeof v === 'number' && Math.floor(v) === v;
  const msgOf = e => e && (e.errMsg || e.message) || (e == null ? '' : String(e));
  // a failed buyer-API call: n for a server error (5xx, no answer), n + 1 for a refused one
  const fault = (r, n) => ({errNo: r.status >= 500 || !r.status ? n : n + 1, errMsg: r.body?.errMsg, logId: r.body?.errLogId});
  const ok = v => Promise.resolve(v), ce = (t, p) => Object.assign(D.createElement(t), p), mk = (t, style) => ce(t, {style});

  // results back from a display="redirect" round trip
  let returned = null;
  const m0 = /[#&]pb_result=([^&]+)/.exec(location.hash);
  if (m0) {
    try { returned = dec(m0[1]); } catch (e) { returned = null; }
    history.replaceState(null, '', location.pathname + location.search);
  }

  // bridge: a hidden frame relays buyer-API calls
  const bridges = {};
  function bridge(server, appId) {
    const k = server + '|' + appId;
    if (bridges[k]) return bridges[k];
    let seq = 0;
    const waiting = {}, frame = ce('iframe', {hidden: true, title: 'pay-button bridge'});
    frame.src = server + '/pages/bridge?app_id=' + U(appId);
    const loaded = new Promise(res => { frame.onload = res; });
    addEventListener('message', e => {
      const m = e.data;
      if (e.origin !== server || e.source !== frame.contentWindow || !m || m.pb !== 'reply' || !waiting[m.id]) return;
      waiting[m.id](m); delete waiting[m.id];
    });
    (D.body || D.documentElement).append(frame);
    const b = (method, path, body, token) => loaded.then(() => new Promise((res, rej) => {
      const id = ++seq;
      const t = setTimeout(() => { delete waiting[id]; rej({status: 0, body: {errMsg: 'bridge timeout'}}); }, 15000);
      waiting[id] = m => { clearTimeout(t); m.status >= 200 && m.status < 300 ? res(m.body) : rej(m); };
      frame.contentWindow.postMessage({pb: 'call', id, method, path, body, token}, server);
    }));
    b.errors = b('GET', '/api/errors').then(j => j.seed || {}, () => ({}));
    return (bridges[k] = b);
  }

  const ready = new Promise(res => {
    if (D.readyState === 'loading') D.addEventListener('DOMContentLoaded', res); else res();
  }).then(() => window.tt?.__ready).then(() => new Promise(res => setTimeout(res)));

  const CSS = ':host{display:inline-block}button{font:600 15px/1 -apple-system,BlinkMacSystemFont,"PingFang SC","Noto Sans CJK SC",sans-serif;' +
    'color:#fff;background:#FE2C55;border:0;border-radius:8px;padding:12px 22px;min-width:112px;cursor:pointer}' +
    'button[data-state=loading]{opacity:.7}button:is([data-state=ended],[data-state=sold_out],[data-state=off_shelf],[data-state=failed],[data-state=invalid]){background:#c9cacf;cursor:default}' +
    'button[data-state=upcoming]{background:#ff9db2}small{display:block;font-weight:400;font-size:11px;margin-top:4px}';

  class PayButton extends HTMLElement {
    static get observedAttributes() { return OBSERVED; }
    constructor() {
      super();
      this._listened = {};
      this._state = 'idle';
      this.attachShadow({mode: 'open'}).innerHTML = '<style>' + CSS + '</style><button part="button" type="button" data-state="idle"><span></span><small hidden></small></button>';
      this._btn = this.shadowRoot.querySelector('button');
      this._btn.onclick = () => this._tap();
    }
    addEventListener(type, ...a) { this._listened[type] = true; super.addEventListener(type, ...a); }
    connectedCallback() {
      if (!this._started) ready.then(() => { if (this.isConnected && !this._started) { this._started = true; this._refresh(); } });
    }
    attributeChangedCallback(name, oldV, newV) {
      if (!this._started || oldV === newV || this._queued) return;
      this._queued = true;
      ok().then(() => { this._queued = false; this._refresh(); });
    }
    // attributes: plain or {{2}}
    _v(name) {
      let v = this.getAttribute(name);
      if (v == null) return null;
      const m = /^\{\{\s*([\s\S]*?)\s*\}\}$/.exec(v = v.trim());
      return m ? m[1].replace(/^(['"])([\s\S]*)\1$/, '$2') : v;
    }
    get _lang() { return /^en/i.test(this._v('lang') || DS.lang) ? 'en' : 'zh'; }
    get _appId() { return this._v('app-id') || DS.appId || ''; }
    get _server() { return (this._v('server') || SRC).replace(/\/+$/, ''); }
    get _mode() { return this._v('mode') || '1'; }
    get _status() { return this._v('order-status') || '0'; }
    get _id() { return this._v(+this._status < 2 ? 'order-id' : 'refund-id'); }
    get _key() {
      return this.localName + (this._mode === '2' ? ':g:' + this._v('goods-id') : (+this._status < 2 ? ':o:' : ':r:') + this._id);
    }
    get _br() { return bridge(this._server, this._appId); }
    _api(method, path, body, token) { return this._br(method, '/api/buyer/v1/' + path, body, token); }
    // hooks: el.bindNAME, bind:NAME on Page, window
    _hook(name) {
      const f = this['bind' + name], m = this._v('bind:' + name), page = window.tt?.__page;
      if (typeof f === 'function') return f.bind(this);
      if (!m) return null;
      if (page && typeof page[m] === 'function') return page[m].bind(page);
      return typeof window[m] === 'function' ? window[m] : null;
    }
    _has(name) { return !!this._hook(name) || !!this._listened[name]; }
    _fire(name, detail) { return this._hook(name)({type: name, detail, currentTarget: this, target: this}); }
    _ask(name, detail) { return new Promise(res => res(this._fire(name, detail))); }
    _emit(name, detail) {
      if (this._hook(name)) { try { this._fire(name, detail); } catch (e) { setTimeout(() => { throw e; }); } }
      this.dispatchEvent(new CustomEvent(name, {detail}));
    }
    _error(errNo, errMsg, logId) {
      const lang = this._lang;
      return (this._appId ? this._br.errors : ok({})).then(t => {
        const e = t[String(errNo)], base = e ? e[lang] : 'errNo ' + errNo;
        this._emit('error', {errNo, errMsg: errMsg && errMsg !== base ? base + ': ' + errMsg : base,
          errLogId: logId || 'pb' + Date.now().toString(36) + Math.random().toString(36).slice(2, 8)});
      });
    }
    _render(state, sub) {
      const L = TEXT[this._lang], S = TEXT[this._lang + 'S'], b = this._btn;
      this._state = state;
      b.setAttribute('data-state', state);
      b.firstChild.textContent = this._mode === '2' ? (S[state] || S.on_sale) : (L[+this._status] || L[0]);
      b.lastChild.hidden = !sub;
      b.lastChild.textContent = sub || '';
      if (this._onstate) this._onstate(state);
    }
    _validate() {
      if (this._mode === '2') {
        const gid = this._v('goods-id'), gt = this._v('goods-type');
        return !gid || bytes(gid) > 64 ? 21501 : gt !== '1' && gt !== '2' ? 21502 : !this._has('getgoodsinfo') ? 21503
          : !this._has('placeorder') ? 21504 : !this._has('pay') ? 21516 : 0;
      }
      if (this._mode !== '1') return 21500;
      const st = this._status;
      if (!/^[0-4]$/.test(st)) return 21521;
      const id = this._id;
      return !id || bytes(id) > 64 ? (+st < 2 ? 21522 : 21523) : 0;
    }
    _refresh() {
      const err = this._validate();
      this._gen = (this._gen || 0) + 1;
      if (err) { this._render('invalid'); this._error(err); return; }
      if (this._mode === '2') this._load(this._gen); else this._render('ready');
      if (returned && returned.key === this._key) {
        const r = returned; returned = null;
        r.events.forEach(ev => this._emit(ev.name, ev.detail));
      }
    }
    // mode 2: goods info and capability
    _load(gen) {
      const gid = this._v('goods-id'), gtype = +this._v('goods-type'), appId = this._appId;
      this._render('loading');
      this._cap = this._info = null;
      this._api('GET', 'apps/' + U(appId)).then(a => { this._cap = a; }, r => {
        this._cap = {can_pay: false};
        const f = fault(r, 21507);
        this._error(f.errNo, f.errMsg, f.logId);
      });
      (gtype === 1 ? this._api('GET', 'goods/' + U(gid) + '?app_id=' + U(appId)).catch(r => { throw fault(r, 21505); }) : ok(null))
        .then(g => this._ask('getgoodsinfo', {goodsId: gid, goodsType: gtype}).then(null, e => { throw bad(21509, msgOf(e)); }).then(info => {
          if (info === undefined && g) info = {};
          const err = this._check(info, gtype);
          if (err) throw err;
          if (!g) return info;
          info = {...info};
          'currentPrice goodsName goodsPhoto goodsLabels minLimits maxLimits state saleStart stock'.split(' ').forEach(k => { info[k] = g[k]; });
          return info;
        })).then(info => {
          if (gen !== this._gen) return;
          this._info = info;
          const st = gtype === 1 ? info.state : 'on_sale', en = this._lang === 'en', d = new Date(info.saleStart); // local MM-DD HH:MM
          this._render(st, st === 'upcoming' && info.saleStart ? (en ? 'from ' : '') +
            new Date(d - d.getTimezoneOffset() * 6e4).toISOString().slice(5, 16).replace('T', ' ') + (en ? '' : ' 开抢') : '');
        }, e => {
          if (gen !== this._gen) return;
          this._render('failed');
          // opened by a direct link: getExtraInfo answers in place of getgoodsinfo
          this._error(this._dl && e.errNo > 21508 ? 21547 : e.errNo, e.errMsg, e.logId);
        });
    }
    _check(info, gtype) {
      if (!isObj(info)) return bad(21512, 'getgoodsinfo must resolve an object');
      if (gtype === 2) {
        if (!isInt(info.currentPrice) || info.currentPrice < 0) return bad(21512, 'currentPrice');
        for (const k of ['goodsName', 'goodsPhoto']) if (typeof info[k] !== 'string' || !info[k]) return bad(21512, k);
      }
      const lo = info.minLimits == null ? 1 : info.minLimits, hi = info.maxLimits == null ? 99999 : info.maxLimits;
      if (!isInt(lo) || !isInt(hi) || lo < 1 || hi > 99999 || lo > hi) return bad(21512, 'minLimits/maxLimits');
      if (info.dateRule != null && typeof info.dateRule !== 'string') return bad(21512, 'dateRule');
      if (info.extra != null && !isObj(info.extra)) return bad(21512, 'extra');
      const labels = info.goodsLabels, seen = {};
      if (labels == null) return null;
      if (!Array.isArray(labels)) return bad(21512, 'goodsLabels');
      if (labels.length > 3) return bad(21511, 'at most 3 labels');
      for (const l of labels) {
        if (!isObj(l) || LABELS.indexOf(l.type) < 0) return bad(21511, 'label type');
        if (/^(REFUNDABLE_DAYS|BOOK_IN_ADVANCE)$/.test(l.type) && !(isInt(l.value) && l.value > 0)) return bad(21511, l.type + ' needs a value');
        seen[l.type] = 1;
      }
      return (seen.REFUND_ANYTIME && seen.REFUNDABLE_DAYS) || (seen.RESERVATION_FREE && seen.BOOK_IN_ADVANCE) ||
        (seen.NON_REFUNDABLE && (seen.REFUNDABLE_DAYS || seen.REFUND_ANYTIME)) ? bad(21511, 'labels exclude each other') : null;
    }
    // buyer: buyer-token, tt token, tt.login
    _token() {
      const t = this._v('buyer-token'), tt = window.tt;
      if (t) return ok(t);
      if (!tt) return Promise.reject({errMsg: 'no buyer token'});
      if (tt.__token) return ok(tt.__token);
      return new Promise((res, rej) => tt.login({success: () => res(tt.__token), fail: rej}));
    }
    _tap() {
      const s = this._state;
      if (!this._started) return;
      if (s === 'invalid') return this._error(this._validate());
      if (this._mode === '1') return this._tap1();
      if (s === 'loading') return this._error(21513);
      if (s === 'failed') return this._error(21514);
      if (s !== 'on_sale' || this._busy) return;
      if (this._cap && !this._cap.can_pay) return this._error(21515);
      const gid = this._v('goods-id'), gtype = +this._v('goods-type');
      this._busy = true;
      this._ask('placeorder', {goodsId: gid, goodsType: gtype}).then(() => this._token())
        .then(token => this._open('order-confirm', {goods_id: gid, goods_type: gtype},
          {token, goodsInfo: this._info, marketingReady: this._v('marketing-ready') === 'true'}))
        .catch(e => this._error(this._dl ? 21546 : 21510, msgOf(e))) // direct link: App's userLogin
        .then(() => { this._busy = false; });
    }
    _tap1() {
      const st = +this._status, order = this._v('order-id'), amt = this._v('refund-total-amount');
      if (this._busy) return;
      this._busy = true;
      const open = (page, params, state, errNo) => this._token().then(t => this._open(page, params, {token: t, ...state}),
        e => { throw {errNo, errMsg: e?.errMsg}; });
      (st === 0 ? open('cashier', {order}, {}, 21526) : st > 1 ? open('refund-detail', {'refund-id': this._v('refund-id')}, {}, 21537)
        : (this._hook('applyrefund') ? this._ask('applyrefund', {orderId: order}).then(null, e => { throw bad(21533, msgOf(e)); }) : ok()).then(extra => {
          if (extra !== undefined && !isObj(extra)) throw {errNo: 21534};
          const rest = {...extra}, items = rest.itemOrderList;
          delete rest.itemOrderList;
          if (items !== undefined && !(Array.isArray(items) && items.length)) throw bad(21534, 'itemOrderList');
          return open('refund-apply', {order}, {itemOrderList: items || null, cpExtra: extra && JSON.stringify(rest),
            refundTotalAmount: amt ? +amt : null}, 21533);
        })).catch(e => this._error(e.errNo || 21533, e.errMsg)).then(() => { this._busy = false; });
    }
    // hosted pages: overlay iframe or redirect; the site's App({getThemeConfig}) themes them
    _open(page, params, state) {
      const server = this._server, a = window.getApp?.();
      let url = server + '/pages/' + page + '?app_id=' + U(this._appId) + '&lang=' + (this._lang === 'en' ? 'en' : 'zh-CN');
      Object.keys(params).forEach(k => { url += '&' + k + '=' + U(params[k]); });
      state.key = this._key;
      try { state.theme = a && typeof a.getThemeConfig === 'function' ? a.getThemeConfig() : null; } catch (e) { state.theme = null; }
      if ((this._v('display') || DS.display) === 'redirect') {
        location.href = url + '&ret=' + U(location.href.split('#')[0]) + '#pb=' + enc(state);
        return;
      }
      const wrap = mk('div', 'position:fixed;inset:0;z-index:2147483000;background:rgba(0,0,0,.45);display:flex;align-items:flex-end;justify-content:center');
      const box = mk('div', 'position:relative;width:100%;max-width:560px;height:min(92vh,860px);background:#f2f3f5;border-radius:14px 14px 0 0;overflow:hidden');
      const x = mk('button', 'position:absolute;top:6px;right:8px;z-index:1;border:0;background:none;font-size:26px;line-height:1;color:#8a8b91;cursor:pointer;padding:6px');
      const frame = mk('iframe', 'border:0;width:100%;height:100%;display:block');
      wrap.setAttribute('data-pay-button-overlay', page);
      x.textContent = '×'; x.setAttribute('aria-label', TEXT[this._lang + 'S'].close);
      frame.src = url; frame.title = page;
      box.append(frame, x); wrap.append(box);
      const close = () => { removeEventListener('message', onMsg); wrap.remove(); clearTimeout(t); };
      let t, up;
      const post = m => frame.contentWindow.postMessage(m, server);
      const onMsg = e => {
        const m = e.data;
        if (e.origin !== server || e.source !== frame.contentWindow || !m) return;
        if (m.pb === 'ready') { up = 1; post({pb: 'init', state}); }
        if (m.pb === 'busy') t = clearTimeout(t); // paying: its result closes the overlay
        if (m.pb === 'events') {
          if (m.close) close();
          (m.events || []).forEach(ev => this._emit(ev.name, ev.detail));
        }
      };
      // x: the page closes itself (a cashier: the seed's user-closed `pay`), unless it never started or stays silent
      x.onclick = () => { if (!up) return close(); post({pb: 'close'}); t = t || setTimeout(close, 1500); };
      addEventListener('message', onMsg);
      D.body.append(wrap);
    }
  }
  customElements.define('pay-button', PayButton);

  // <consume-card>: merchant, goods, chips, a code and amount per unit, polled; `consume` on verification
  const CS = {'待使用': 'Unused', '已核销': 'Used', '退款中': 'Refunding', '已退款': 'Refunded'};
  class ConsumeCard extends PayButton {
    constructor() {
      super();
      const r = this.shadowRoot;
      r.innerHTML = '<style>' + CSS + ':host{display:block;background:#fff;border-radius:12px;padding:14px 16px 12px;margin:12px 0}p{margin:0;font-size:12px;color:#999}' +
        'h3{margin:4px 0 0;font-size:16px}div{display:flex;flex-wrap:wrap;gap:0 6px}mark{margin-top:6px;font-size:12px;line-height:18px;' +
        'padding:0 6px;border-radius:4px;color:#FE2C55;background:#fff0f3;border:1px solid #ffc2cf}ul{display:grid;grid-template-columns:auto 1fr auto auto;padding:0;margin:6px 0 12px}' +
        'li{grid-column:1/-1;display:grid;grid-template-columns:subgrid;align-items:center;padding:10px 0;text-align:right;border-bottom:1px solid #eee}' +
        'b{font-family:monospace;grid-column:2;text-align:left}img{width:72px;height:72px;margin-right:8px}li span{margin:0 8px}li:not([data-state=待使用]){color:#999}</style><p></p><h3></h3><div></div><ul></ul>' +
        r.innerHTML.slice(r.innerHTML.indexOf('<button'));
      Object.assign(this._btn = r.querySelector('button'), {hidden: true, onclick: () => this._tap()});
    }
    get _status() { return '1'; }
    disconnectedCallback() { clearTimeout(this._t); }
    _refresh() { super._refresh(); clearTimeout(this._t); if (this._state === 'ready') this._poll(this._gen); }
    _poll(gen) {
      const id = this._v('order-id');
      this._token().then(t => this._api('GET', 'orders/' + U(id) + '/vouchers', null, t)).then(r => {
        if (gen !== this._gen) return;
        const old = this._seen || {}, [, p, h, d, ul] = this.shadowRoot.children, en = this._lang === 'en';
        let used = false, open = false;
        this._seen = {}; ul.textContent = '';
        p.textContent = r.merchant_name; h.textContent = r.goods_name;
        d.replaceChildren(...r.labels[en ? 'en' : 'zh-CN'].map(t => ce('mark', {textContent: t})));
        r.vouchers.forEach(v => {
          const li = ul.appendChild(ce('li')), s = v.state, k = v.item_order_id;
          li.dataset.state = s;
          if (s === '待使用') li.append(ce('img', {src: this._server + '/pages/voucher-qr?d=' + U(v.qr_data), alt: v.qr_data}));
          li.append(ce('b', {textContent: v.code}), ce('span', {textContent: '¥' + (v.price / 100).toFixed(2)}), en ? CS[s] || s : s);
          used ||= s === '已核销' && old[k] && old[k] !== s; open ||= s === '待使用'; this._seen[k] = s;
        });
        this._btn.hidden = !open;
        if (used) this._emit('consume', {orderId: id});
      }, e => {
        if (gen === this._gen && !this._failed) { this._failed = 1; const f = fault(e, 21528); this._error(f.errNo, f.errMsg); }
      }).then(() => { if (gen === this._gen && this.isConnected) this._t = setTimeout(() => this._poll(gen), 3000); });
    }
  }
  customElements.define('consume-card', ConsumeCard);
  window.__payButton = {bridge: (appId, server) => bridge((server || SRC).replace(/\/+$/, ''), appId || DS.appId), appId: DS.appId || '', server: SRC};
})();
