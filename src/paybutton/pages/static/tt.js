/* tt.js: the mini-program shim for web pages: Page, App and the tt.* calls they use. */
(function () {
  'use strict';
  var DS = (document.currentScript && document.currentScript.dataset) || {};
  var tt = window.tt = window.tt || {};
  var pages = [], app = null, readyRes;
  tt.__ready = new Promise(function (r) { readyRes = r; });
  tt.__token = null;
  try { tt.__token = sessionStorage.getItem('tt_buyer_token'); } catch (e) { /* storage off */ }

  function query() {
    var q = {};
    new URLSearchParams(location.search).forEach(function (v, k) { q[k] = v; });
    return q;
  }
  function cb(o, name, res) { if (o && typeof o[name] === 'function') o[name](res); }
  function done(o, ok, res) { cb(o, ok ? 'success' : 'fail', res); cb(o, 'complete', res); }
  function pb() { return window.__payButton || null; }

  // templates: {{expr}}, tt:if
  var binds = [];
  function evalIn(expr, data) {
    try { return new Function('d', 'with(d){return (' + expr + ')}')(data); } catch (e) { return undefined; }
  }
  function fill(tpl, data) {
    var whole = /^\{\{([\s\S]+?)\}\}$/.exec(tpl.trim());
    if (whole) { var v = evalIn(whole[1], data); return v == null ? '' : String(v); }
    return tpl.replace(/\{\{([\s\S]+?)\}\}/g, function (_, e) { var v = evalIn(e, data); return v == null ? '' : String(v); });
  }
  function compile(root) {
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT), n, ifs = [];
    while ((n = walker.nextNode())) {
      if (n.nodeType === 3) {
        if (n.nodeValue.indexOf('{{') >= 0) binds.push({node: n, tpl: n.nodeValue});
        continue;
      }
      if (n.tagName === 'SCRIPT' || n.tagName === 'STYLE') continue;
      for (var i = 0; i < n.attributes.length; i++) {
        var a = n.attributes[i];
        if (a.name === 'tt:if') ifs.push(n);
        else if (a.value.indexOf('{{') >= 0) binds.push({node: n, attr: a.name, tpl: a.value});
      }
    }
    ifs.forEach(function (el) {
      var mark = document.createComment('tt:if');
      el.parentNode.insertBefore(mark, el);
      binds.push({node: el, mark: mark, tpl: el.getAttribute('tt:if')});
      el.remove();
    });
  }
  function render(data) {
    binds.forEach(function (b) {
      if (b.mark) {
        var on = !!evalIn(b.tpl.replace(/^\s*\{\{|\}\}\s*$/g, ''), data);
        if (on && !b.node.isConnected) b.mark.parentNode.insertBefore(b.node, b.mark.nextSibling);
        else if (!on && b.node.isConnected) b.node.remove();
      } else if (b.attr) {
        var v = fill(b.tpl, data);
        if (b.node.getAttribute(b.attr) !== v) b.node.setAttribute(b.attr, v);
      } else {
        b.node.nodeValue = fill(b.tpl, data);
      }
    });
  }

  window.Page = function (obj) {
    var page = obj || {};
    page.data = page.data || {};
    page.route = location.pathname.replace(/^\//, '').replace(/\.html$/, '');
    page.options = query();
    page.setData = function (patch, callback) {
      Object.keys(patch || {}).forEach(function (k) { page.data[k] = patch[k]; });
      render(page.data);
      document.dispatchEvent(new CustomEvent('tt:setdata', {detail: patch}));
      if (typeof callback === 'function') callback();
    };
    pages.push(page);
    tt.__page = page;
    var start = function () {
      compile(document.body);
      render(page.data);
      if (typeof page.onLoad === 'function') page.onLoad(page.options);
      if (typeof page.onReady === 'function') page.onReady();
      if (typeof page.onShow === 'function') page.onShow();
      readyRes();
    };
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
    return page;
  };
  window.App = function (obj) { app = obj || {}; if (typeof app.onLaunch === 'function') app.onLaunch({query: query()}); return app; };
  window.getApp = function () { return app; };
  window.getCurrentPages = function () { return pages.slice(); };
  if (!/loading/.test(document.readyState)) readyRes(); else document.addEventListener('DOMContentLoaded', function () { setTimeout(function () { if (!pages.length) readyRes(); }); });

  // tt.login: a buyer token from the login URL
  function loginUrl() {
    if (DS.loginUrl) return Promise.resolve(DS.loginUrl);
    var p = pb();
    if (!p || !p.appId) return Promise.resolve('/demo-login');
    return p.bridge()('GET', '/api/buyer/v1/apps/' + encodeURIComponent(p.appId)).then(function (a) {
      return a.login_url || '/demo-login';
    }, function () { return '/demo-login'; });
  }
  tt.login = function (o) {
    loginUrl().then(function (url) { return fetch(url, {method: 'POST', credentials: 'include'}); })
      .then(function (r) { if (!r.ok) throw new Error('login failed: HTTP ' + r.status); return r.json(); })
      .then(function (j) {
        if (!j.token) throw new Error('login failed: no token');
        tt.__token = j.token;
        try { sessionStorage.setItem('tt_buyer_token', j.token); } catch (e) { /* storage off */ }
        done(o, true, {errMsg: 'login:ok', code: j.token, isLogin: true, openId: j.open_id});
      })
      .catch(function (e) { done(o, false, {errMsg: 'login:fail ' + (e && e.message || e)}); });
  };
  // tt.pay: the cashier for an order
  tt.pay = function (o) {
    var info = (o && o.orderInfo) || {};
    var id = info.order_id || info.orderId || (o && o.orderId);
    if (!id) { done(o, false, {errMsg: 'pay:fail missing order id'}); return; }
    var b = document.createElement('pay-button');
    b.setAttribute('order-status', '0'); b.setAttribute('order-id', id);
    b.style.display = 'none';
    b.bindpay = function (e) {
      b.remove();
      var d = e.detail;
      done(o, d.status === 'success', d.status === 'success' ? {code: d.result.code, orderId: d.orderId} : {errMsg: 'pay:fail ' + d.result.errMsg});
    };
    b.binderror = function (e) { if (!(e.detail.errNo >= 10000 && e.detail.errNo <= 10002)) { b.remove(); done(o, false, {errMsg: 'pay:fail ' + e.detail.errMsg, errNo: e.detail.errNo}); } };
    document.body.appendChild(b);
    setTimeout(function () { b.shadowRoot.querySelector('button').click(); }, 50);
  };
  // usr://pages/x/y -> /pages/x/y.html; ext://microapp-trade-plugin/<page> -> hosted page
  function resolve(url) {
    var m = /^usr:\/\/\/?(.*)$/.exec(url || '');
    if (m) url = '/' + m[1];
    var ext = /^ext:\/\/microapp-trade-plugin\/([\w-]+)\??(.*)$/.exec(url || '');
    if (ext) {
      var p = pb() || {server: location.origin, appId: ''};
      return p.server + '/pages/' + ext[1] + '?app_id=' + encodeURIComponent(p.appId) + (ext[2] ? '&' + ext[2] : '') +
        '&ret=' + encodeURIComponent(location.href.split('#')[0]);
    }
    var parts = url.split('?');
    var path = parts[0];
    if (path.charAt(0) !== '/') path = location.pathname.replace(/[^/]*$/, '') + path;
    if (/^\/pages\//.test(path) && !/\.html$/.test(path)) path += '.html';
    return path + (parts[1] ? '?' + parts[1] : '');
  }
  tt.navigateTo = function (o) { var u = resolve(o.url); done(o, true, {errMsg: 'navigateTo:ok'}); location.assign(u); };
  tt.redirectTo = function (o) { var u = resolve(o.url); done(o, true, {errMsg: 'redirectTo:ok'}); location.replace(u); };
  tt.navigateBack = function (o) { done(o, true, {errMsg: 'navigateBack:ok'}); history.go(-((o && o.delta) || 1)); };
  tt.showToast = function (o) {
    var d = document.createElement('div');
    d.setAttribute('role', 'status'); d.className = 'tt-toast'; d.textContent = (o && o.title) || '';
    d.style.cssText = 'position:fixed;left:50%;top:45%;transform:translate(-50%,-50%);background:rgba(0,0,0,.75);color:#fff;padding:10px 16px;border-radius:8px;z-index:2147483600;font:14px/1.4 sans-serif;max-width:80vw;text-align:center';
    document.body.appendChild(d);
    setTimeout(function () { d.remove(); }, (o && o.duration) || 1500);
    done(o, true, {errMsg: 'showToast:ok'});
  };
  tt.canIUse = function (name) { return name === 'microapp-trade-plugin' || name === 'pay-button' || typeof tt[String(name).split('.')[0]] === 'function'; };
})();
