/* tt.js: the mini-program shim for web pages: Page, App and the tt.* calls they use. */
(() => {
  'use strict';
  // errNo by name, generated from errors.py: python -m paybutton.pages.errcodes
  const E = {PAY_FAILED: 10000, CHANNEL_OPEN_FAILED: 10001, CHANNEL_NOT_INSTALLED: 10002};
  const D = document, DS = D.currentScript?.dataset || {};
  const tt = window.tt = window.tt || {};
  const pages = [], binds = [];
  let app = null, readyRes;
  tt.__ready = new Promise(r => { readyRes = r; });
  const quiet = f => { try { return f(); } catch (e) { return null; } }; // storage off, a bad {{expr}}
  tt.__token = quiet(() => sessionStorage.getItem('tt_buyer_token'));

  const query = (s = location.search) => Object.fromEntries(new URLSearchParams(s));
  const call = (f, self, o) => typeof f === 'function' ? f.call(self, o) : undefined;
  const cb = (o, name, res) => o && call(o[name], o, res);
  const done = (o, ok, res) => { cb(o, ok ? 'success' : 'fail', res); cb(o, 'complete', res); };

  // templates: {{expr}}, tt:if
  const evalIn = (expr, data) => quiet(() => new Function('d', 'with(d){return (' + expr + ')}')(data));
  const str = v => v == null ? '' : String(v);
  function fill(tpl, data) {
    const whole = /^\{\{((?:[^}]|\}(?!\}))+)\}\}$/.exec(tpl.trim());
    return whole ? str(evalIn(whole[1], data)) : tpl.replace(/\{\{([\s\S]+?)\}\}/g, (_, e) => str(evalIn(e, data)));
  }
  function compile(root) {
    const walker = D.createTreeWalker(root, 5), ifs = []; // 5: elements and text
    let n;
    while ((n = walker.nextNode())) {
      if (n.nodeType === 3) {
        if (n.nodeValue.indexOf('{{') >= 0) binds.push({node: n, tpl: n.nodeValue});
        continue;
      }
      if (n.tagName === 'SCRIPT' || n.tagName === 'STYLE') continue;
      for (const a of n.attributes) {
        if (a.name === 'tt:if') ifs.push(n);
        else if (a.value.indexOf('{{') >= 0) binds.push({node: n, attr: a.name, tpl: a.value});
      }
    }
    ifs.forEach(el => {
      const mark = D.createComment('tt:if');
      binds.push({node: el, mark, tpl: el.getAttribute('tt:if')});
      el.replaceWith(mark);
    });
  }
  const render = data => binds.forEach(b => {
    if (b.mark) {
      const on = !!evalIn(b.tpl.replace(/^\s*\{\{|\}\}\s*$/g, ''), data);
      if (on && !b.node.isConnected) b.mark.after(b.node);
      else if (!on && b.node.isConnected) b.node.remove();
    } else if (b.attr) {
      const v = fill(b.tpl, data);
      if (b.node.getAttribute(b.attr) !== v) b.node.setAttribute(b.attr, v);
    } else {
      b.node.nodeValue = fill(b.tpl, data);
    }
  });

  window.Page = obj => {
    const page = obj || {};
    page.data = page.data || {};
    page.route = location.pathname.replace(/^\//, '').replace(/\.html$/, '');
    page.options = query();
    // keys may be paths: 'a.b', 'list[0].x'; none through __proto__, constructor or prototype
    let inRender;
    page.setData = (patch, callback) => {
      Object.keys(patch || {}).forEach(k => {
        const p = k.replace(/\[(\d+)\]/g, '.$1').split('.');
        let o = page.data;
        if (p.some(n => /^(__proto__|constructor|prototype)$/.test(n))) return;
        p.slice(0, -1).forEach((n, i) => { o = o[n] = o[n] && typeof o[n] === 'object' ? o[n] : /^\d+$/.test(p[i + 1]) ? [] : {}; });
        o[p.at(-1)] = patch[k];
      });
      render(page.data);
      if (!inRender) try { inRender = 1; call(page.render, page, page.data); } finally { inRender = 0; } // it may call setData
      D.dispatchEvent(new CustomEvent('tt:setdata', {detail: patch}));
      call(callback);
    };
    pages.push(page);
    addEventListener('pageshow', e => { if (e.persisted) call(page.onShow, page); }); // back from the bfcache
    tt.__page = page;
    const start = () => {
      compile(D.body);
      render(page.data);
      call(page.onLoad, page, page.options);
      call(page.onShow, page);
      call(page.onReady, page);
      readyRes();
    };
    if (D.readyState === 'loading') D.addEventListener('DOMContentLoaded', start); else start();
    return page;
  };
  window.App = obj => { app = obj || {}; call(app.onLaunch, app, {query: query()}); return app; };
  window.getApp = () => app;
  window.getCurrentPages = () => pages.slice();
  if (!/loading/.test(D.readyState)) readyRes(); else D.addEventListener('DOMContentLoaded', () => setTimeout(() => { if (!pages.length) readyRes(); }));

  // tt.login: a buyer token from the login URL
  const pb = () => window.__payButton || null;
  const loginUrl = (p = pb()) => Promise.resolve(DS.loginUrl || p && p.appId &&
    p.bridge()('GET', '/api/buyer/v1/apps/' + encodeURIComponent(p.appId)).then(a => a.login_url, () => 0)).then(u => u || '/demo-login');
  tt.login = o => {
    loginUrl().then(url => fetch(url, {method: 'POST', credentials: 'include'}))
      .then(r => { if (!r.ok) throw new Error('login failed: HTTP ' + r.status); return r.json(); })
      .then(j => {
        if (!j.token) throw new Error('login failed: no token');
        tt.__token = j.token;
        quiet(() => sessionStorage.setItem('tt_buyer_token', j.token));
        done(o, true, {errMsg: 'login:ok', code: j.token, isLogin: true, openId: j.open_id});
      })
      .catch(e => done(o, false, {errMsg: 'login:fail ' + (e?.message || e)}));
  };

  // ext://microapp-trade-plugin/<page>?... and tt.pay: a hidden <pay-button> opens the page in an overlay;
  // order-confirm then asks App({userLogin, getExtraInfo}) (errNo DIRECT_LINK_LOGIN_FAILED / DIRECT_LINK_EXTRA_FAILED).
  // Events reach `on(name, detail)`.
  function plugin(name, q, on) {
    const b = D.createElement('pay-button'), a = app || {};
    const at = name === 'order-confirm' ? {mode: 2, 'goods-id': q.goodsId || q.goods_id, 'goods-type': q.goodsType || q.goods_type || 1}
      : name === 'refund-apply' ? {'order-status': 1, 'order-id': q.orderId || q.order, 'refund-total-amount': q.refundTotalAmount}
        : name === 'refund-detail' ? {'order-status': 2, 'refund-id': q.refundId || q['refund-id']} : {'order-status': 0, 'order-id': q.orderId};
    Object.keys(at).forEach(k => { if (at[k] != null) b.setAttribute(k, at[k]); });
    b.setAttribute('display', 'overlay');
    b.style.display = 'none';
    b._dl = true;
    b.bindgetgoodsinfo = e => call(a.getExtraInfo, a, e) || {};
    b.bindplaceorder = e => a.userLogin ? call(a.userLogin, a, e) : new Promise((res, rej) => tt.login({success: res, fail: rej}));
    ['pay', 'refund', 'error'].forEach(n => { b['bind' + n] = e => on(n, e.detail, b); });
    b._onstate = s => {
      if (/^(idle|loading|invalid|failed)$/.test(s)) return; // errors arrive as events
      b._onstate = null;
      if (/^(ready|on_sale)$/.test(s)) b._tap(); else tt.showToast({title: b.shadowRoot.querySelector('span').textContent});
    };
    D.body.append(b);
  }
  const fire = (n, d) => {
    if (n === 'error') tt.showToast({title: d.errMsg, duration: 3000});
    D.dispatchEvent(new CustomEvent('tt:' + n, {detail: d}));
  };
  const ext = url => /^ext:\/\/microapp-trade-plugin\/([\w-]+)\??(.*)$/.exec(url || '');
  tt.pay = o => {
    const info = o?.orderInfo || {}, id = info.order_id || info.orderId || o?.orderId;
    if (!id) return done(o, false, {errMsg: 'pay:fail missing order id'});
    plugin('cashier', {orderId: id}, (n, d, b) => {
      if (n === 'pay') { const y = d.status === 'success'; b.remove(); done(o, y, y ? {code: d.result.code, orderId: d.orderId} : {errMsg: 'pay:fail ' + d.result.errMsg}); }
      // the channel's failures leave the cashier open (重新支付)
      if (n === 'error' && ![E.PAY_FAILED, E.CHANNEL_OPEN_FAILED, E.CHANNEL_NOT_INSTALLED].includes(d.errNo)) { b.remove(); done(o, false, {errMsg: 'pay:fail ' + d.errMsg, errNo: d.errNo}); }
    });
  };
  // usr:// (or the seed's user://) pages/x/y -> /pages/x/y.html
  function resolve(url) {
    const parts = url.replace(/^(?:usr|user):\/\/\/?/, '/').split('?');
    let path = parts[0];
    if (path[0] !== '/') path = location.pathname.replace(/[^/]*$/, '') + path;
    if (/^\/pages\//.test(path) && !/\.html$/.test(path)) path += '.html';
    return path + (parts[1] ? '?' + parts[1] : '');
  }
  const nav = (kind, go) => o => {
    const x = ext(o.url);
    if (x && !pb()) return done(o, false, {errMsg: kind + ':fail pay-button.js is not loaded'});
    done(o, true, {errMsg: kind + ':ok'});
    if (x) plugin(x[1], query(x[2]), fire); else go(resolve(o.url));
  };
  tt.navigateTo = nav('navigateTo', u => location.assign(u));
  tt.redirectTo = nav('redirectTo', u => location.replace(u));
  tt.navigateBack = o => { done(o, true, {errMsg: 'navigateBack:ok'}); history.go(-(o?.delta || 1)); };
  // a direct link: any page with tt.js, opened with ?start_page=ext://microapp-trade-plugin/...
  tt.__ready.then(() => setTimeout(() => { const s = query().start_page; if (ext(s)) tt.navigateTo({url: s}); }));
  tt.showToast = o => {
    const d = D.createElement('div');
    d.setAttribute('role', 'status'); d.className = 'tt-toast'; d.textContent = o?.title || '';
    d.style.cssText = 'position:fixed;left:50%;top:45%;transform:translate(-50%,-50%);background:#000c;color:#fff;padding:10px 16px;border-radius:8px;z-index:2147483600;font:14px/1.4 sans-serif;max-width:80vw;text-align:center';
    D.body.append(d);
    setTimeout(() => d.remove(), o?.duration || 1500);
    done(o, true, {errMsg: 'showToast:ok'});
  };
  tt.canIUse = name => name === 'microapp-trade-plugin' || name === 'pay-button' || typeof tt[String(name).split('.')[0]] === 'function';
})();
