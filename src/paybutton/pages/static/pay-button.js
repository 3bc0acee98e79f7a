/* <pay-button>: the trade system's button, as the seed describes it, for web pages. No dependencies. */
(() => {
  'use strict';
  // errNo by name, generated from errors.py: python -m paybutton.pages.errcodes
  const E = {MODE_INVALID: 21500, GOODS_ID_INVALID: 21501, GOODS_TYPE_INVALID: 21502, NO_GETGOODSINFO: 21503,
    NO_PLACEORDER: 21504, GOODS_INFO_SERVER_ERROR: 21505, GOODS_INFO_PARAM_INVALID: 21506,
    PAY_CAPABILITY_SERVER_ERROR: 21507, PAY_CAPABILITY_PARAM_INVALID: 21508, GETGOODSINFO_FAILED: 21509,
    PLACEORDER_FAILED: 21510, GOODS_LABELS_INVALID: 21511, GOODS_INFO_TYPE_INVALID: 21512, GOODS_INFO_LOADING: 21513,
    GOODS_INFO_LOAD_FAILED: 21514, NO_PAY_CAPABILITY: 21515, NO_PAY_HOOK: 21516, PRE_ORDER_SERVER_ERROR: 21517,
    ORDER_DATA_INVALID: 21518, ORDER_STATUS_INVALID: 21521, ORDER_ID_INVALID: 21522, REFUND_ID_INVALID: 21523,
    CONTINUE_PAY_SERVER_ERROR: 21526, CONTINUE_PAY_PARAM_INVALID: 21527, REFUND_ORDER_SERVER_ERROR: 21528,
    REFUND_ORDER_PARAM_INVALID: 21529, REFUND_DETAIL_FAILED: 21532, APPLYREFUND_FAILED: 21533,
    APPLYREFUND_BAD_TYPE: 21534, REFUND_QUERY_SERVER_ERROR: 21537, DIRECT_LINK_LOGIN_FAILED: 21546,
    DIRECT_LINK_EXTRA_FAILED: 21547};
  // rules, generated from the Python (pages/errcodes.py, RULES): python -m paybutton.pages.errcodes
  const G = {labels: ['EXPIRED_RETURNS', 'REFUND_ANYTIME', 'RESERVATION_FREE', 'REFUNDABLE_DAYS', 'BOOK_IN_ADVANCE', 'NON_REFUNDABLE'],
    valueLabels: ['BOOK_IN_ADVANCE', 'REFUNDABLE_DAYS'], maxLabels: 3, maxLabelValue: 99999,
    exclusions: [['REFUND_ANYTIME', 'REFUNDABLE_DAYS'], ['RESERVATION_FREE', 'BOOK_IN_ADVANCE'], ['NON_REFUNDABLE', 'REFUNDABLE_DAYS'], ['NON_REFUNDABLE', 'REFUND_ANYTIME']],
    limits: [1, 99999], limitsDefault: [1, 99999], goodsIdMax: 64, orderIdMax: 32, refundIdMax: 32, payKept: [3, 4]};
  if (customElements.get('pay-button')) return;
  const D = document, SCRIPT = D.currentScript || {}, DS = SCRIPT.dataset || {}, U = encodeURIComponent;
  const SRC = (DS.server || (SCRIPT.src ? new URL(SCRIPT.src, location.href).origin : location.origin)).replace(/\/+$/, '');
  // The texts: L('English msgid'), in both languages from the catalogs, which the trade server writes into TX as it
  // serves this file (pages/routes.py, pay_button_js); a msgid stands for itself where TX has no text.
  const TX = {zh: {}, en: {}};
  const TEXT = {};
  for (const k of ['zh', 'en']) {
    const L = s => TX[k][s] || s;
    TEXT[k] = [L('Continue paying'), L('Apply for refund'), L('Refunding'), L('Refunded'), L('Refund failed')];
    TEXT[k + 'S'] = {upcoming: L('Starting soon'), on_sale: L('Buy now'), ended: L('Ended'), sold_out: L('Sold out'),
      off_shelf: L('Unavailable'), close: L('Close'), from: L('from {t}')};  // from: the sale's start under 即将开始
    // the overlay's name, per hosted page
    TEXT[k + 'P'] = {'order-confirm': L('Confirm order'), cashier: L('Cashier'), 'refund-apply': L('Apply for refund'),
      'refund-detail': L('Refund details'), loading: L('Loading…')};
    // what a tap that cannot go on tells the buyer (a toast); {t} is the sale's start
    TEXT[k + 'T'] = {upcoming: L('On sale from {t}'), ended: L('The sale time is over: this item can no longer be bought'),
      sold_out: L('Every unit has been sold: it can be bought again once restocked'),
      off_shelf: L('This item is no longer sold'), [E.PLACEORDER_FAILED]: L('Sign-in before ordering did not complete. Please try again.'),
      [E.GOODS_INFO_LOADING]: L('Loading the item, one moment…'), [E.GOODS_INFO_LOAD_FAILED]: L('The item could not be loaded. Please try again later.'),
      [E.NO_PAY_CAPABILITY]: L('This merchant cannot take payments yet'),
      [E.PRE_ORDER_SERVER_ERROR]: L('Ordering is not possible right now. Please try again later.'), 0: L('Paying is not possible right now. Please try again later.'),
      1: L('A refund cannot be applied for right now. Please try again later.'),
      2: L('The refund cannot be shown right now. Please try again later.'),
      kept3: L('Cashier closed: not paid. Your order is kept; tap again to continue paying.'),
      kept4: L('Payment cancelled. Your order is kept; tap again to continue paying.')};
    // the page's origin is not allowed (the bridge said so at once): the developer's message, in the error event
    TEXT[k + 'O'] = L("this page's origin {o} is not one of the app's allowed origins, so the button cannot reach the trade server. Allow it with: {cmd}");
    // the voucher card's errors, by errNo
    TEXT[k + 'E'] = {[E.ORDER_ID_INVALID]: L('No order id: the vouchers cannot be shown'),
      [E.REFUND_ORDER_SERVER_ERROR]: L('The vouchers could not be loaded. Please try again later.'),
      [E.REFUND_ORDER_PARAM_INVALID]: L("This order's vouchers cannot be shown: there is no such order, or it is not yours")};
  }
  const OBSERVED = 'mode goods-id goods-type order-status order-id refund-id refund-total-amount biz-line marketing-ready app-id server buyer-token lang display'.split(' ');

  const dec = s => JSON.parse(decodeURIComponent(escape(atob(s.replace(/-/g, '+').replace(/_/g, '/')))));
  const bytes = s => new TextEncoder().encode(s).length;
  const bad = (errNo, errMsg) => ({errNo, errMsg});
  const isObj = v => v !== null && typeof v === 'object' && !Array.isArray(v);
  const isInt = v => typeof v === 'number' && Math.floor(v) === v;
  const msgOf = e => e && (e.errMsg || e.message) || (e == null ? '' : String(e));
  // a failed buyer-API call: [n, refusedNo]: n for a server error (5xx, no answer, a page origin the app does not
  // allow), refusedNo for a refused one; the message in the button's language
  const fault = (r, [n, refusedNo], lang) => ({errNo: r.status >= 500 || !r.status ? n : refusedNo, errMsg: r.refused ? refusal(lang, r) : r.body?.errMsg,
    logId: r.body?.errLogId});
  // this page's origin is not one of the app's allowed origins: which origin, and the command that allows it
  const refusal = (lang, r) => TEXT[(lang === 'en' ? 'en' : 'zh') + 'O'].replace('{o}', r.refused.origin)
    .replace('{cmd}', 'paybutton app update ' + r.refused.appId + ' --add-origin ' + r.refused.origin);
  const ok = v => Promise.resolve(v), ce = (t, p) => Object.assign(D.createElement(t), p), mk = (t, style) => ce(t, {style});

  const RESUME = 'pb-resume';  // sessionStorage: the overlay's cashier left for a channel's page (see _resume)
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
    let seq = 0, said;
    const waiting = {}, frame = ce('iframe', {hidden: true, title: 'pay-button bridge'});
    frame.src = server + '/pages/bridge?app_id=' + U(appId);
    const loaded = new Promise(res => { frame.onload = res; });
    // hello: the bridge says whether this page's origin is one of the app's allowed origins (null: it did not answer)
    const hello = new Promise(res => { said = res; });
    addEventListener('message', e => {
      const m = e.data;
      if (e.origin !== server || e.source !== frame.contentWindow || !m) return;
      if (m.pb === 'hello') said(m);
      if (m.pb !== 'reply' || !waiting[m.id]) return;
      waiting[m.id](m); delete waiting[m.id];
    });
    loaded.then(() => { frame.contentWindow.postMessage({pb: 'hello'}, server); setTimeout(() => said(null), 5000); });
    (D.body || D.documentElement).append(frame);
    const b = (method, path, body, token) => hello.then(h => new Promise((res, rej) => {
      if (h && !h.ok) { rej(b.refused); return; } // not an allowed origin: at once, saying which origin and how to allow it
      const id = ++seq;
      const t = setTimeout(() => { delete waiting[id]; rej({status: 0, body: {errMsg: 'bridge timeout'}}); }, 15000);
      waiting[id] = m => { clearTimeout(t); m.status >= 200 && m.status < 300 ? res(m.body) : rej(m); };
      frame.contentWindow.postMessage({pb: 'call', id, method, path, body, token}, server);
    }));
    b.hello = hello.then(h => {
      if (h && !h.ok) {
        b.refused = {status: 0, refused: {origin: h.origin, appId}, body: {}};
        b.refused.body.errMsg = refusal('en', b.refused);
        console.error('pay-button: ' + b.refused.body.errMsg);
      }
      return h;
    });
    b.errors = hello.then(h => h ? h.seed : b('GET', '/api/errors').then(j => j.seed || {}, () => ({})));
    return (bridges[k] = b);
  }

  const ready = new Promise(res => {
    if (D.readyState === 'loading') D.addEventListener('DOMContentLoaded', res); else res();
  }).then(() => window.tt?.__ready).then(() => new Promise(res => setTimeout(res)));

  // A toast: what a tap that cannot go on means, for the buyer (role=status: read out too), over the button that was
  // tapped, so inside that good's card and never over another good's
  function toast(text, by) {
    const d = mk('div', 'position:fixed;transform:translateX(-50%);background:#000d;color:#fff;padding:10px 16px;' +
      'border-radius:8px;z-index:2147483600;font:14px/1.45 ' + FONT + ';width:max-content;max-width:80vw;text-align:center');
    d.className = 'pb-toast'; d.setAttribute('role', 'status'); d.textContent = text;
    D.body.append(d);
    const r = by ? by.getBoundingClientRect() : {left: innerWidth / 2, width: 0, top: innerHeight * 0.45, bottom: innerHeight * 0.45};
    const w = d.offsetWidth, h = d.offsetHeight, x = r.left + r.width / 2;
    d.style.left = Math.min(Math.max(x, w / 2 + 8), innerWidth - w / 2 - 8) + 'px';
    d.style.top = Math.min(Math.max(8, r.top + (r.bottom - r.top) / 2 - h / 2), innerHeight - h - 8) + 'px';
    setTimeout(() => d.remove(), 2500);
  }

  // Colours meet WCAG AA for their text (white on #E6173F is 4.6:1); a busy button spins, it does not fade
  const FONT = '-apple-system,BlinkMacSystemFont,"PingFang SC","Noto Sans CJK SC",sans-serif';
  const CSS = ':host{display:inline-block;font-family:' + FONT + '}button{font:600 15px/1 ' + FONT + ';' +
    'color:#fff;background:#E6173F;border:0;border-radius:8px;padding:12px 22px;min-width:112px;min-height:44px;cursor:pointer}' +
    'button[aria-disabled=true]{background:#ebecef;color:#55565c;cursor:default}' +
    'button[data-state=upcoming]{background:#fff0f3;color:#b8123a;box-shadow:inset 0 0 0 1px #ffc2cf}' +
    'button[aria-busy=true] span::before{content:"";display:inline-block;width:.9em;height:.9em;margin-right:6px;vertical-align:-.1em;' +
    'border:2px solid currentColor;border-right-color:transparent;border-radius:50%;animation:s .7s linear infinite}' +
    '@keyframes s{to{transform:rotate(1turn)}}small{display:block;font-weight:400;font-size:12px;margin-top:4px}';

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
      // the buyer closed or cancelled the cashier: say that the order is kept (the next tap offers it again)
      const code = name === 'pay' && detail && detail.result ? detail.result.code : -1;
      if (G.payKept.includes(code) && D.querySelector('.pb-toast')?.textContent !== TEXT[this._lang + 'T']['kept' + code]) {
        this._toast('kept' + code);
      }
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
      b.setAttribute('aria-disabled', String(/^(upcoming|ended|sold_out|off_shelf)$/.test(state)));
      this._wait(state === 'loading' || this._busy);
      b.firstChild.textContent = this._mode === '2' ? (S[state] || S.on_sale) : (L[+this._status] || L[0]);
      b.lastChild.hidden = !sub;
      b.lastChild.textContent = sub || '';
      if (this._onstate) this._onstate(state);
    }
    // busy: the tap waits on the network (aria-busy, a spinner), shown at once
    _wait(on) { if (on) this._btn.setAttribute('aria-busy', 'true'); else this._btn.removeAttribute('aria-busy'); }
    _toast(key) {
      const T = TEXT[this._lang + 'T'], t = T[key];
      if (t && !this._dl) toast(t.replace('{t}', this._when || ''), this._btn);
    }
    _validate() {
      if (this._mode === '2') {
        const gid = this._v('goods-id'), gt = this._v('goods-type');
        return !gid || bytes(gid) > G.goodsIdMax ? E.GOODS_ID_INVALID : gt !== '1' && gt !== '2' ? E.GOODS_TYPE_INVALID : !this._has('getgoodsinfo') ? E.NO_GETGOODSINFO
          : !this._has('placeorder') ? E.NO_PLACEORDER : !this._has('pay') ? E.NO_PAY_HOOK : 0;
      }
      if (this._mode !== '1') return E.MODE_INVALID;
      const st = this._status;
      if (!/^[0-4]$/.test(st)) return E.ORDER_STATUS_INVALID;
      const id = this._id;
      return !id || bytes(id) > (+st < 2 ? G.orderIdMax : G.refundIdMax) ? (+st < 2 ? E.ORDER_ID_INVALID : E.REFUND_ID_INVALID) : 0;
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
      this._resume();
    }
    // back from a channel's page (Alipay, WeChat H5) that the overlay's cashier sent this page to: the cashier opens
    // again on that order and tells how the payment ended (its `pay` event), as if the buyer had never left
    _resume() {
      let r = null;
      try { r = JSON.parse(sessionStorage.getItem(RESUME) || 'null'); } catch (e) { r = null; }
      if (!r || r.key !== this._key || Date.now() - r.at > 30 * 60e3) return;
      sessionStorage.removeItem(RESUME);
      this._token().then(t => this._open('cashier', {order: r.order, returned: 1}, {token: t}, [E.CONTINUE_PAY_SERVER_ERROR, E.CONTINUE_PAY_PARAM_INVALID]))
        .catch(e => this._error(e && e.errNo || E.CONTINUE_PAY_SERVER_ERROR, e && e.errMsg));
    }
    // mode 2: goods info and capability
    _load(gen) {
      const gid = this._v('goods-id'), gtype = +this._v('goods-type'), appId = this._appId;
      this._render('loading');
      this._cap = this._info = null;
      this._api('GET', 'apps/' + U(appId)).then(a => { this._cap = a; }, r => {
        this._cap = {can_pay: false};
        const f = fault(r, [E.PAY_CAPABILITY_SERVER_ERROR, E.PAY_CAPABILITY_PARAM_INVALID], this._lang);
        this._error(f.errNo, f.errMsg, f.logId);
      });
      (gtype === 1 ? this._api('GET', 'goods/' + U(gid) + '?app_id=' + U(appId)).catch(r => { throw fault(r, [E.GOODS_INFO_SERVER_ERROR, E.GOODS_INFO_PARAM_INVALID], this._lang); }) : ok(null))
        .then(g => this._ask('getgoodsinfo', {goodsId: gid, goodsType: gtype}).then(null, e => { throw bad(E.GETGOODSINFO_FAILED, msgOf(e)); }).then(info => {
          if (info === undefined && g) info = {};
          const err = this._check(info, gtype);
          if (err) throw err;
          if (!g) return info;
          info = {...info};
          'currentPrice goodsName goodsPhoto goodsLabels minLimits maxLimits state saleStart stock'.split(' ').forEach(k => { info[k] = g[k]; });
          return info;
        }).catch(e => { throw this._dl ? bad(E.DIRECT_LINK_EXTRA_FAILED, e.errMsg) : e; })) // a direct link: App's getExtraInfo
        .then(info => {
          if (gen !== this._gen) return;
          this._info = info;
          const st = gtype === 1 ? info.state : 'on_sale', d = new Date(info.saleStart); // local MM-DD HH:MM
          this._when = info.saleStart ? new Date(d - d.getTimezoneOffset() * 6e4).toISOString().slice(5, 16).replace('T', ' ') : '';
          this._render(st, st === 'upcoming' && this._when ? TEXT[this._lang + 'S'].from.replace('{t}', this._when) : '');
        }, e => {
          if (gen !== this._gen) return;
          this._render('failed');
          this._error(e.errNo, e.errMsg, e.logId);
        });
    }
    _check(info, gtype) {
      if (!isObj(info)) return bad(E.GOODS_INFO_TYPE_INVALID, 'getgoodsinfo must resolve an object');
      if (gtype === 2) {
        if (!isInt(info.currentPrice) || info.currentPrice < 0) return bad(E.GOODS_INFO_TYPE_INVALID, 'currentPrice');
        for (const k of ['goodsName', 'goodsPhoto']) if (typeof info[k] !== 'string' || !info.goodsName) return bad(E.GOODS_INFO_TYPE_INVALID, k); // a photo may be ''
      }
      const [min, max] = G.limits, lo = info.minLimits ?? G.limitsDefault[0], hi = info.maxLimits ?? G.limitsDefault[1];
      if (!isInt(lo) || !isInt(hi) || lo < min || hi > max || lo > hi) return bad(E.GOODS_INFO_TYPE_INVALID, 'minLimits/maxLimits');
      if (info.dateRule != null && typeof info.dateRule !== 'string') return bad(E.GOODS_INFO_TYPE_INVALID, 'dateRule');
      if (info.extra != null && !isObj(info.extra)) return bad(E.GOODS_INFO_TYPE_INVALID, 'extra');
      const labels = info.goodsLabels, seen = {};
      if (labels == null) return null;
      if (!Array.isArray(labels)) return bad(E.GOODS_INFO_TYPE_INVALID, 'goodsLabels');
      if (labels.length > G.maxLabels) return bad(E.GOODS_LABELS_INVALID, 'at most ' + G.maxLabels + ' labels');
      for (const l of labels) { // goods/rules.py's label_problems, which the order's placing applies again
        const t = l?.type, v = l?.value, valued = G.valueLabels.includes(t);
        const why = !isObj(l) || Object.keys(l).some(k => k !== 'type' && k !== 'value') ? 'a label is {type, value}'
          : !G.labels.includes(t) ? 'label type' : seen[t] ? t + ' twice'
            : valued && !(isInt(v) && v > 0 && v <= G.maxLabelValue) ? t + ' needs a value of 1 to ' + G.maxLabelValue
              : !valued && v != null ? t + ' takes no value' : '';
        if (why) return bad(E.GOODS_LABELS_INVALID, why);
        seen[t] = 1;
      }
      return G.exclusions.some(([a, b]) => seen[a] && seen[b]) ? bad(E.GOODS_LABELS_INVALID, 'labels exclude each other') : null;
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
      const stop = (n, m) => { this._toast(n); return this._error(n, m); };
      if (s === 'loading') return stop(E.GOODS_INFO_LOADING);
      if (s === 'failed') return stop(E.GOODS_INFO_LOAD_FAILED);
      if (s !== 'on_sale') return this._toast(s); // 即将开始 (with the time), 已结束, 已售罄: say why
      if (this._busy) return;
      if (this._cap && !this._cap.can_pay) return stop(E.NO_PAY_CAPABILITY);
      const gid = this._v('goods-id'), gtype = +this._v('goods-type');
      this._busy = true; this._wait(true);
      this._ask('placeorder', {goodsId: gid, goodsType: gtype}).then(() => this._token())
        .then(null, e => { throw bad(this._dl ? E.DIRECT_LINK_LOGIN_FAILED : E.PLACEORDER_FAILED, msgOf(e)); }) // direct link: App's userLogin
        .then(token => this._open('order-confirm', {goods_id: gid, goods_type: gtype},
          {token, goodsInfo: this._info, marketingReady: this._v('marketing-ready') === 'true'}, [E.PRE_ORDER_SERVER_ERROR, E.ORDER_DATA_INVALID]))
        .catch(e => stop(e.errNo, e.errMsg))
        .then(() => { this._busy = false; this._wait(false); });
    }
    _tap1() {
      const st = +this._status, order = this._v('order-id'), amt = this._v('refund-total-amount');
      if (this._busy) return;
      this._busy = true; this._wait(true);
      // errNo: the buyer could not be signed in; the page's server error when the page cannot be opened
      const srv = {cashier: [E.CONTINUE_PAY_SERVER_ERROR, E.CONTINUE_PAY_PARAM_INVALID], 'refund-apply': [E.REFUND_ORDER_SERVER_ERROR, E.REFUND_ORDER_PARAM_INVALID], 'refund-detail': [E.REFUND_QUERY_SERVER_ERROR, E.REFUND_DETAIL_FAILED]};
      const open = (page, params, state, errNo) => this._token().then(t => this._open(page, params, {token: t, ...state}, srv[page]),
        e => { throw {errNo, errMsg: e?.errMsg}; });
      (st === 0 ? open('cashier', {order}, {}, E.CONTINUE_PAY_SERVER_ERROR) : st > 1 ? open('refund-detail', {'refund-id': this._v('refund-id')}, {}, E.REFUND_QUERY_SERVER_ERROR)
        : (this._hook('applyrefund') ? this._ask('applyrefund', {orderId: order}).then(null, e => { throw bad(E.APPLYREFUND_FAILED, msgOf(e)); }) : ok()).then(extra => {
          if (extra !== undefined && !isObj(extra)) throw {errNo: E.APPLYREFUND_BAD_TYPE};
          const rest = {...extra}, items = rest.itemOrderList;
          delete rest.itemOrderList;
          if (items !== undefined && !(Array.isArray(items) && items.length)) throw bad(E.APPLYREFUND_BAD_TYPE, 'itemOrderList');
          return open('refund-apply', {order}, {itemOrderList: items || null, cpExtra: extra && JSON.stringify(rest),
            refundTotalAmount: amt ? +amt : null}, E.APPLYREFUND_FAILED);
        })).catch(e => { this._toast(Math.min(st, 2)); return this._error(e.errNo || E.APPLYREFUND_FAILED, e.errMsg); })
        .then(() => { this._busy = false; this._wait(false); });
    }
    // hosted pages: overlay iframe or redirect; the site's App({getThemeConfig}) themes them. Rejects with
    // fault(…, errNo) when the bridge refuses this page's origin or the handover cannot be made.
    _open(page, params, state, [errNo, refusedNo]) {
      const server = this._server, a = window.getApp?.(), br = this._br;
      let url = server + '/pages/' + page + '?app_id=' + U(this._appId) + '&lang=' + (this._lang === 'en' ? 'en' : 'zh-CN');
      Object.keys(params).forEach(k => { url += '&' + k + '=' + U(params[k]); });
      state.key = this._key;
      try { state.theme = a && typeof a.getThemeConfig === 'function' ? a.getThemeConfig() : null; } catch (e) { state.theme = null; }
      return br.hello.then(h => {
        if (h && !h.ok) throw br.refused;
        if ((this._v('display') || DS.display) !== 'redirect') {
          state.back = location.href.split('#')[0];  // where a channel's page comes back to (the cashier's return_to)
          return this._sheet(page, url, state);
        }
        // redirect: the token never goes into the address (history, copied links, Referer): a one-time code does,
        // in the fragment, and the page exchanges it for the token and the state (kernel/handover.py)
        const {token, ...rest} = state;
        return br('POST', '/api/buyer/v1/handover', {state: rest}, token).then(r => {
          location.href = url + '&ret=' + U(location.href.split('#')[0]) + '#pbc=' + r.code;
        });
      }).catch(r => { throw fault(r, [errNo, refusedNo], this._lang); });
    }
    // the sheet: the page in a modal overlay's iframe; its state goes by postMessage
    _sheet(page, url, state) {
      const server = this._server;
      // the sheet: a modal dialog named after its page; a skeleton shows until the page paints over it
      const P = TEXT[this._lang + 'P'], name = P[page] || page;
      const wrap = mk('div', 'position:fixed;inset:0;z-index:2147483000;background:rgba(0,0,0,.45);display:flex;align-items:flex-end;justify-content:center');
      const box = mk('div', 'position:relative;width:100%;max-width:560px;height:min(92vh,860px);background:#f2f3f5;border-radius:14px 14px 0 0;overflow:hidden');
      const sk = mk('div', 'position:absolute;inset:0;padding:0 12px;font:14px ' + FONT + ';color:#55565c');
      const x = mk('button', 'position:absolute;top:2px;right:4px;z-index:1;width:44px;height:44px;border:0;border-radius:22px;background:none;' +
        'font:26px/1 ' + FONT + ';color:#55565c;cursor:pointer;padding:0');
      const frame = mk('iframe', 'position:relative;border:0;width:100%;height:100%;display:block;background:transparent');
      wrap.setAttribute('data-pay-button-overlay', page);
      Object.entries({role: 'dialog', 'aria-modal': 'true', 'aria-label': name}).forEach(([k, v]) => box.setAttribute(k, v));
      sk.setAttribute('role', 'status'); sk.setAttribute('data-skeleton', '');
      sk.innerHTML = '<div style="height:48px;margin:0 -12px 12px;background:#fff"></div>' +
        [96, 132, 64].map(h => '<div style="height:' + h + 'px;margin-bottom:12px;border-radius:12px;background:#fff"></div>').join('');
      sk.append(P.loading);
      x.textContent = '×'; x.setAttribute('aria-label', TEXT[this._lang + 'S'].close);
      frame.src = url; frame.title = name;
      // focus sentinels close the Tab loop: past the x back into the page, before the page on to the x
      const edge = to => { const e = mk('span', 'position:absolute;width:1px;height:1px;overflow:hidden'); e.tabIndex = 0; e.onfocus = () => to().focus(); return e; };
      box.append(sk, edge(() => x), frame, x, edge(() => frame)); wrap.append(box);
      // modal: the rest of the page is inert while the sheet is open; focus comes back to what opened it
      const back = this.getClientRects().length ? this._btn : D.activeElement, inert = [];
      const close = () => {
        removeEventListener('message', onMsg); D.removeEventListener('keydown', onKey, true);
        wrap.remove(); clearTimeout(t);
        inert.forEach(el => { el.inert = false; });
        if (back && back.focus) back.focus();
      };
      let t, up;
      const post = m => frame.contentWindow.postMessage(m, server);
      const onMsg = e => {
        const m = e.data;
        if (e.origin !== server || e.source !== frame.contentWindow || !m) return;
        if (m.pb === 'ready') { up = 1; post({pb: 'init', state}); }
        if (m.pb === 'ready' || m.pb === 'page') { // a page (order-confirm goes on to the cashier): the dialog takes its name
          frame.title = P[m.page === 'confirm' ? 'order-confirm' : m.page] || name; box.setAttribute('aria-label', frame.title);
        }
        if (m.pb === 'busy') t = clearTimeout(t); // paying: its result closes the overlay
        if (m.pb === 'esc') x.onclick(); // Escape inside the page
        // a channel's page opens in this (top) window, not in the frame; the cashier reopens on the way back
        if (m.pb === 'navigate' && /^https?:\/\//.test(m.url || '')) {
          try { sessionStorage.setItem(RESUME, JSON.stringify({key: state.key, order: m.order, at: Date.now()})); } catch (err) { /* private mode */ }
          location.href = m.url;
        }
        if (m.pb === 'events') {
          if (m.close) close();
          (m.events || []).forEach(ev => this._emit(ev.name, ev.detail));
        }
      };
      // x and Escape: the page closes itself (a cashier: the seed's user-closed `pay`), unless it never started or stays silent
      x.onclick = () => { if (!up) return close(); post({pb: 'close'}); t = t || setTimeout(close, 1500); };
      const onKey = e => { if (e.key === 'Escape') { e.preventDefault(); x.onclick(); } };
      addEventListener('message', onMsg);
      D.addEventListener('keydown', onKey, true);
      [...D.body.children].forEach(el => { if (!el.inert && el.localName !== 'script') { el.inert = true; inert.push(el); } });
      D.body.append(wrap);
      x.focus();
    }
  }
  customElements.define('pay-button', PayButton);

  // <consume-card>: merchant, goods, chips, a code and amount per unit, polled; `consume` on verification
  const CS = {'待使用': 'Unused', '已核销': 'Used', '退款中': 'Refunding', '已退款': 'Refunded'};
  class ConsumeCard extends PayButton {
    constructor() {
      super();
      const r = this.shadowRoot;
      // its own font and colours: a page's serif or dark theme does not leak in
      r.innerHTML = '<style>' + CSS + ':host{display:block;background:#fff;color:#161823;font:14px/1.45 ' + FONT + ';text-align:left;border-radius:12px;' +
        'padding:14px 16px 12px;margin:12px 0}p{margin:0;font-size:12px;color:#6b6c72}em{display:block;font-style:normal;color:#c4320a;padding:8px 0}' +
        ':host([data-error]) :is(p,h3,div,ul,[data-guide]){display:none}em{padding:0}:host([aria-busy=true]) h3{height:20px;width:60%;border-radius:4px;background:#ebecef}' +
        'h3{margin:4px 0 0;font-size:16px}div{display:flex;flex-wrap:wrap;gap:0 6px}mark{margin-top:6px;font-size:12px;line-height:18px;' +
        'padding:0 6px;border-radius:4px;color:#c9203f;background:#fff0f3;border:1px solid #ffc2cf}ul{display:grid;grid-template-columns:auto 1fr auto auto;padding:0;margin:6px 0 12px}' +
        'li{grid-column:1/-1;display:grid;grid-template-columns:subgrid;align-items:center;padding:10px 0;text-align:right;border-bottom:1px solid #eee}' +
        'b{font-family:monospace;grid-column:2;text-align:left}img{width:72px;height:72px;margin-right:8px}li span{margin:0 8px}li:not([data-state=待使用]){color:#6b6c72}[data-guide]:not([hidden]){display:block;margin:-6px 0 10px;color:#6b6c72}</style><p></p><h3></h3><div></div><ul></ul><small data-guide hidden></small>' +
        '<em role="alert" hidden></em>' +
        r.innerHTML.slice(r.innerHTML.indexOf('<button'));
      Object.assign(this._btn = r.querySelector('button'), {hidden: true, onclick: () => this._tap()});
    }
    get _status() { return '1'; }
    disconnectedCallback() { clearTimeout(this._t); }
    _refresh() {
      super._refresh(); clearTimeout(this._t);
      this._say(this._state === 'invalid' && E.ORDER_ID_INVALID);
      if (this._state === 'ready') { if (!this._seen) this.setAttribute('aria-busy', 'true'); this._poll(this._gen); }
    }
    // an error as text in the card (and its code, for the developer); none: hidden
    _say(no) {
      const em = this.shadowRoot.querySelector('em');
      em.hidden = !no; this.toggleAttribute('data-error', !!no);
      em.textContent = no ? (TEXT[this._lang + 'E'][no] || 'errNo ' + no) + ' (' + no + ')' : '';
      if (no) this.removeAttribute('aria-busy');
    }
    _poll(gen) {
      const id = this._v('order-id');
      this._token().then(t => this._api('GET', 'orders/' + U(id) + '/vouchers', null, t)).then(r => {
        if (gen !== this._gen) return;
        this._failed = 0; this._say(0); this.removeAttribute('aria-busy');
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
        const g = this.shadowRoot.querySelector('[data-guide]'); // the app's guidance line (toolkit/update_merchant_conf)
        g.textContent = r.toolkit?.guidance_text || ''; g.hidden = !g.textContent;
        if (used) this._emit('consume', {orderId: id});
      }, e => {
        const f = fault(e, [E.REFUND_ORDER_SERVER_ERROR, E.REFUND_ORDER_PARAM_INVALID], this._lang);
        if (gen === this._gen) this._say(f.errNo);
        if (gen === this._gen && !this._failed) { this._failed = 1; this._error(f.errNo, f.errMsg); }
      }).then(() => { if (gen === this._gen && this.isConnected) this._t = setTimeout(() => this._poll(gen), 3000); });
    }
  }
  customElements.define('consume-card', ConsumeCard);
  window.__payButton = {bridge: (appId, server) => bridge((server || SRC).replace(/\/+$/, ''), appId || DS.appId), appId: DS.appId || '', server: SRC};
})();
