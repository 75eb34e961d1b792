// qwenproxy dashboard (docs/dashboard.md). Plain JavaScript, no library and
// no build step; served from the binary under a strict CSP, so everything
// here is in this file: no inline script or style, no eval, text only (never
// markup built from data).
//
// Data: the admin API (docs/api.md, "Admin API"). Snapshots are polled every
// few seconds; /admin/v1/events (server-sent events, read with fetch() and a
// ReadableStream because EventSource cannot send an Authorization header)
// keeps accounts, live requests, errors and the last minute's counters live
// in between. The admin key, if one is needed, is typed once, kept in
// sessionStorage (this tab only) and sent as a bearer header; no cookies.
'use strict';
/* global QpCharts */ // charts.js

(() => {
  const API = 'admin/v1/'; // relative: /dashboard -> /admin/v1/...
  const KEY_STORE = 'qwenproxy.adminKey';
  const POLL_MS = 5000;
  const MAX_ERRORS = 100;

  const state = {
    accounts: new Map(), // name -> account object
    requests: new Map(), // id -> {id, endpoint, model, key, account, stream, startedMs, chunks}
    errors: [], // newest first
    workers: [],
    overview: null,
    needKey: false,
    events: null, // AbortController of the running event stream
    polling: false,
  };

  const $ = (id) => document.getElementById(id);

  // ---- DOM helpers: text only --------------------------------------------

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') e.textContent = String(v);
      else if (k === 'class') e.className = v;
      else if (k.startsWith('data-')) e.dataset[k.slice(5).replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = String(v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }

  function replaceRows(tbody, rows, emptyText, columns) {
    if (rows.length === 0) rows = [el('tr', { class: 'empty' }, el('td', { colspan: columns, text: emptyText }))];
    tbody.replaceChildren(...rows);
  }

  // ---- formatting ----------------------------------------------------------

  const nowS = () => Date.now() / 1000;

  function fmtDuration(s) {
    s = Math.max(0, Math.round(s));
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (d > 0) return `${d}d ${h}h`;
    if (h > 0) return `${h}h ${m}m`;
    if (m > 0) return `${m}m ${sec}s`;
    return `${sec}s`;
  }

  function fmtNumber(n) {
    if (n === null || n === undefined || Number.isNaN(n)) return '–';
    if (n >= 1e6) return (n / 1e6).toFixed(1) + 'M';
    if (n >= 1e4) return (n / 1e3).toFixed(1) + 'k';
    return String(Math.round(n * 100) / 100);
  }

  function fmtTime(ms) {
    return new Date(ms).toLocaleTimeString();
  }

  // ---- the admin API -------------------------------------------------------

  function authHeaders(extra) {
    const h = Object.assign({}, extra);
    const key = sessionStorage.getItem(KEY_STORE);
    if (key) h.authorization = 'Bearer ' + key;
    return h;
  }

  class ApiError extends Error {
    constructor(status, message, code) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  // GET when body is undefined, else a JSON POST (state changes are POSTs).
  async function api(path, body) {
    const init = { method: 'GET', credentials: 'omit', cache: 'no-store', headers: authHeaders() };
    if (body !== undefined) {
      init.method = 'POST';
      init.headers = authHeaders({ 'content-type': 'application/json' });
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(API + path, init);
    } catch (e) {
      throw new ApiError(0, 'The proxy did not answer (' + e.message + ').');
    }
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (e) {
      data = null;
    }
    if (!res.ok) {
      const err = (data && data.error) || {};
      if (res.status === 401) needKey(err.message);
      throw new ApiError(res.status, err.message || `HTTP ${res.status}`, err.code);
    }
    return data;
  }

  const accountPath = (name, action) => `accounts/${encodeURIComponent(name)}/${action}`;

  // ---- key -----------------------------------------------------------------

  function needKey(message) {
    state.needKey = true;
    stopEvents();
    showBanner(`${message || 'The admin API needs a key.'} Type the admin key above (it is kept for this tab only).`);
    $('key-input').focus();
  }

  function showBanner(text) {
    const b = $('error-banner');
    b.textContent = text;
    b.hidden = !text;
  }

  function onKeySubmit(ev) {
    ev.preventDefault();
    const input = $('key-input');
    const key = input.value.trim();
    input.value = '';
    if (key) sessionStorage.setItem(KEY_STORE, key);
    restart();
  }

  function onKeyForget() {
    sessionStorage.removeItem(KEY_STORE);
    restart();
  }

  function updateKeyUi() {
    const stored = !!sessionStorage.getItem(KEY_STORE);
    $('key-input').placeholder = stored ? 'key stored for this tab' : 'paste the admin key';
    $('key-forget').disabled = !stored;
  }

  // ---- overview: counters, notices, charts ---------------------------------

  function renderOverview() {
    const o = state.overview;
    if (!o) return;
    const points = (o.series && o.series.points) || [];
    let requests = 0, errors = 0, tokens = 0;
    for (const p of points) {
      requests += p.requests || 0;
      errors += p.errors || 0;
      tokens += (p.tokens_in || 0) + (p.tokens_out || 0);
    }
    $('c-in-flight').textContent = String(state.requests.size);
    $('c-queued').textContent = String(o.queued ?? 0);
    $('c-requests').textContent = String(requests);
    $('c-errors').textContent = String(errors);
    $('c-tokens').textContent = fmtNumber(tokens);
    $('c-uptime').textContent = fmtDuration(o.uptime_s || 0);
    const broker = o.broker || {};
    $('status').textContent = broker.connected ? `broker connected (${broker.instance || '?'})` : 'broker not connected';
    $('status').className = broker.connected ? '' : 'expiry bad';
    $('version').textContent = `qwenproxy ${o.version || ''}`;
    renderNotices(o.notices || []);
    drawCharts();
  }

  function renderNotices(notices) {
    const list = $('notices');
    const items = notices.map((n) => {
      const kind = n.kind || 'notice';
      const text = n.message || `${n.account}: ${kind.replace(/_/g, ' ')}`;
      return el('li', { class: kind === 'token_expiring' ? 'expiring' : kind === 'token_expired' ? 'expired' : 'unhealthy',
        'data-kind': kind, 'data-account': n.account, text });
    });
    list.replaceChildren(...items);
    list.hidden = items.length === 0;
  }

  // Counts a finished request into the current minute of the series so the
  // counters and charts move between two overview polls.
  function countRequestEnd(ev) {
    const o = state.overview;
    if (!o || !o.series) return;
    const bucketS = o.series.bucket_s || 60;
    const points = o.series.points || (o.series.points = []);
    const t = Math.floor(nowS() / bucketS) * bucketS;
    let last = points[points.length - 1];
    if (!last || last.t < t) {
      last = { t, requests: 0, errors: 0, tokens_in: 0, tokens_out: 0, p50_ms: null, p99_ms: null };
      points.push(last);
      if (points.length > 60) points.shift();
    }
    last.requests += 1;
    if ((ev.status || 200) >= 400) last.errors += 1;
    last.tokens_in += ev.tokens_in || 0;
    last.tokens_out += ev.tokens_out || 0;
  }

  function drawCharts() {
    const o = state.overview;
    const series = (o && o.series) || { bucket_s: 60, points: [] };
    const b = series.bucket_s || 60;
    const pts = series.points || [];
    const get = (f) => pts.map((p) => [p.t, f(p)]);
    const c1 = getComputedStyle(document.documentElement);
    const accent = c1.getPropertyValue('--accent').trim() || '#0969da';
    const accent2 = c1.getPropertyValue('--accent2').trim() || '#8250df';
    const bad = c1.getPropertyValue('--bad').trim() || '#cf222e';
    QpCharts.drawLineChart($('ch-rps'), b, [{ color: accent, values: get((p) => (p.requests || 0) / b) }]);
    QpCharts.drawLineChart($('ch-lat'), b, [
      { color: accent, values: get((p) => (p.requests ? p.p50_ms : null)) },
      { color: accent2, values: get((p) => (p.requests ? p.p99_ms : null)) },
    ]);
    QpCharts.drawLineChart($('ch-tok'), b, [{ color: accent, values: get((p) => (((p.tokens_in || 0) + (p.tokens_out || 0)) * 60) / b) }]);
    QpCharts.drawLineChart($('ch-err'), b, [{ color: bad, values: get((p) => (p.requests ? (100 * (p.errors || 0)) / p.requests : null)) }]);
  }

  // ---- accounts ------------------------------------------------------------

  // [badge class, text] for an account's health.
  function healthBadge(a) {
    if (a.draining) return ['warn', 'draining'];
    switch (a.health) {
      case 'ok': return ['ok', 'healthy'];
      case 'rate_limited':
      case 'upstream_unreachable': return ['warn', a.health.replace(/_/g, ' ')];
      case 'credentials_invalid':
      case 'needs_verification': return ['bad', a.health.replace(/_/g, ' ')];
      default: return ['bad', String(a.health || 'unknown').replace(/_/g, ' ')];
    }
  }

  // [class, text] for a token's expiry: a warning under 24 h, red when expired
  // or when the worker found the credentials invalid.
  function expiry(expiresS, health) {
    if (health === 'credentials_invalid') return ['bad', 'invalid'];
    if (!expiresS) return ['', 'no expiry known'];
    const left = expiresS - nowS();
    if (left <= 0) return ['bad', `expired ${fmtDuration(-left)} ago`];
    if (left < 24 * 3600) return ['warn', `expires in ${fmtDuration(left)}`];
    return ['', `expires in ${fmtDuration(left)}`];
  }

  function renderAccounts() {
    const names = [...state.accounts.keys()].sort();
    const rows = names.map((name) => {
      const a = state.accounts.get(name);
      const [hc, ht] = healthBadge(a);
      const [ec, et] = expiry(a.token_expires_unix_s, a.health);
      const lh = a.last_hour || {};
      const cooling = a.cooldown_until_unix_ms && a.cooldown_until_unix_ms > Date.now();
      const le = a.last_error;
      const button = (action, text, disabled, cls) =>
        el('button', { type: 'button', 'data-action': action, disabled, class: cls, text });
      return el('tr', { 'data-account': name, 'data-health': a.health, 'data-draining': a.draining ? 'yes' : 'no' },
        el('td', {}, el('strong', { text: name })),
        el('td', {}, el('span', { class: 'badge ' + hc, text: ht }),
          a.reason ? el('div', { class: 'muted', text: a.reason }) : null),
        el('td', {}, el('span', { class: 'expiry ' + ec, 'data-expires': a.token_expires_unix_s || '', 'data-health': a.health, text: et })),
        el('td', { class: 'num', text: `${a.in_flight ?? 0} / ${a.capacity ?? '?'}` + (cooling ? ' (cooling down)' : '') }),
        el('td', { class: 'num', text: `${lh.requests ?? 0} req, ${lh.errors ?? 0} err, ${fmtNumber((lh.tokens_in || 0) + (lh.tokens_out || 0))} tok` }),
        el('td', { class: 'msg' }, le ? el('span', { title: le.type || '', text: `${fmtTime(le.at_unix_ms)} ${le.message || le.type || ''}` }) : '–'),
        el('td', { class: 'actions' },
          button('drain', 'Drain', a.draining), ' ',
          button('resume', 'Resume', !a.draining), ' ',
          button('reload', 'Reload'), ' ',
          button('test', 'Test'), ' ',
          button('remove', 'Remove', false, 'danger')));
    });
    replaceRows($('accounts-body'), rows, 'no accounts yet', 7);
  }

  function accountResult(text, bad) {
    const p = $('account-result');
    p.textContent = text;
    p.className = bad ? 'result bad' : 'result';
    p.hidden = false;
  }

  async function onAccountAction(ev) {
    const btn = ev.target.closest('button[data-action]');
    if (!btn) return;
    const name = btn.closest('tr').dataset.account;
    const action = btn.dataset.action;
    if (action === 'remove' && !window.confirm(`Remove account ${name}? Its file is renamed and its worker stops.`)) return;
    btn.disabled = true;
    try {
      if (action === 'test') {
        accountResult(`Testing ${name}…`);
        const r = await api(accountPath(name, 'test'), {});
        accountResult(`Test of ${r.account} with ${r.model}: “${r.content}” in ${r.duration_ms} ms.`);
      } else {
        const r = await api(accountPath(name, action), {});
        accountResult(action === 'remove' && r && r.moved_to
          ? `${name} removed: its file is now ${r.moved_to}.`
          : `${action} ${name}: accepted.`);
      }
    } catch (e) {
      accountResult(`${action} ${name} failed: ${e.message}`, true);
    } finally {
      btn.disabled = false;
      pollSoon();
    }
  }

  // ---- import --------------------------------------------------------------

  function importResult(text, bad) {
    const p = $('import-result');
    p.textContent = text;
    p.className = bad ? 'result bad' : 'result';
    p.hidden = false;
  }

  async function onImportFile() {
    const f = $('import-file').files[0];
    if (f) $('import-text').value = await f.text();
  }

  async function onImport(ev) {
    ev.preventDefault();
    const text = $('import-text').value;
    if (!text.trim()) return importResult('Paste a cURL command, a Cookie header or a HAR file first.', true);
    const body = { text };
    const name = $('import-name').value.trim();
    if (name) body.name = name;
    if ($('import-replace').checked) body.replace = true;
    importResult('Importing…');
    try {
      const r = await api('accounts/import', body);
      // The secret leaves the page: it is now only in the account file.
      $('import-text').value = '';
      $('import-file').value = '';
      const exp = r.expires_unix_s
        ? `token expires ${new Date(r.expires_unix_s * 1000).toLocaleString()} (in ${fmtDuration(r.expires_unix_s - nowS())})`
        : 'no token expiry found';
      importResult(`Imported account ${r.name}: user id ${r.user_id || 'unknown'}, ${exp}. Written to ${r.file}; its worker starts shortly.`);
      pollSoon();
    } catch (e) {
      importResult(`Import failed: ${e.message}`, true);
    }
  }

  // ---- live requests, errors, workers --------------------------------------

  function renderRequests() {
    const now = Date.now();
    const rows = [...state.requests.values()]
      .sort((a, b) => a.startedMs - b.startedMs)
      .map((r) => el('tr', { 'data-request': r.id },
        el('td', { class: 'mono', text: r.id }),
        el('td', { text: r.model || '' }),
        el('td', { text: r.key || '' }),
        el('td', { text: r.account || '–' }),
        el('td', { text: r.stream ? 'yes' : 'no' }),
        el('td', { class: 'num age', 'data-started': r.startedMs, text: fmtDuration((now - r.startedMs) / 1000) }),
        el('td', { class: 'num', text: String(r.chunks ?? 0) }),
        el('td', {}, el('button', { type: 'button', class: 'danger', 'data-cancel': r.id, text: 'Cancel' }))));
    replaceRows($('requests-body'), rows, 'none', 8);
    $('c-in-flight').textContent = String(state.requests.size);
  }

  async function onCancel(ev) {
    const btn = ev.target.closest('button[data-cancel]');
    if (!btn) return;
    btn.disabled = true;
    try {
      await api(`requests/${encodeURIComponent(btn.dataset.cancel)}/cancel`, {});
    } catch (e) {
      showBanner(`Cancel failed: ${e.message}`);
    }
  }

  function renderErrors() {
    const rows = state.errors.slice(0, 50).map((e) => el('tr', {},
      el('td', { text: fmtTime(e.at_unix_ms) }),
      el('td', { class: 'num', text: String(e.status ?? '') }),
      el('td', { text: [e.type, e.code].filter(Boolean).join(' / ') }),
      el('td', { text: e.model || '' }),
      el('td', { text: e.account || '–' }),
      el('td', { class: 'msg', text: e.message || '' }),
      el('td', { class: 'mono', text: e.request_id || '' })));
    replaceRows($('errors-body'), rows, 'none', 7);
  }

  function renderWorkers() {
    const rows = state.workers.map((w) => el('tr', {},
      el('td', { text: w.account }),
      el('td', { class: 'num', text: String(w.pid ?? '') }),
      el('td', { class: 'num', text: fmtDuration(w.uptime_s || 0) }),
      el('td', { class: 'num', text: String(w.restarts ?? 0) }),
      el('td', { class: 'mono', text: w.instance || '' })));
    replaceRows($('workers-body'), rows, 'none', 5);
  }

  // ---- polling -------------------------------------------------------------

  async function poll() {
    if (state.polling || state.needKey) return;
    state.polling = true;
    try {
      const [overview, accounts, requests, errors, workers] = await Promise.all([
        api('overview'), api('accounts'), api('requests'), api('errors'), api('workers')]);
      state.overview = overview;
      state.accounts = new Map((accounts.accounts || []).map((a) => [a.name, a]));
      const now = Date.now();
      state.requests = new Map((requests.requests || []).map((r) => [r.id, Object.assign({}, r, { startedMs: now - (r.age_ms || 0) })]));
      state.errors = errors.errors || [];
      state.workers = workers.workers || [];
      renderAll();
      if (!state.events) startEvents();
      showBanner('');
    } catch (e) {
      if (e.status !== 401) showBanner(`Admin API: ${e.message}`);
    } finally {
      state.polling = false;
    }
  }

  let pollTimer = null;
  function pollSoon() {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(poll, 300);
  }

  function renderAll() {
    renderOverview();
    renderAccounts();
    renderRequests();
    renderErrors();
    renderWorkers();
  }

  // ---- events (SSE over fetch) ---------------------------------------------

  function setLive(on) {
    const p = $('live');
    p.textContent = on ? 'events: live' : 'events: off';
    p.className = on ? 'pill on' : 'pill off';
  }

  function stopEvents() {
    if (state.events) state.events.abort();
    state.events = null;
    setLive(false);
  }

  function onEvent(type, data) {
    switch (type) {
      case 'hello':
        state.accounts = new Map((data.accounts || []).map((a) => [a.name, a]));
        renderAccounts();
        break;
      case 'account':
        state.accounts.set(data.name, data);
        renderAccounts();
        break;
      case 'request.start':
        state.requests.set(data.id, Object.assign({ startedMs: Date.now(), chunks: 0 }, data));
        renderRequests();
        break;
      case 'request.end':
        state.requests.delete(data.id);
        countRequestEnd(data);
        renderRequests();
        renderOverview();
        break;
      case 'error':
        state.errors.unshift(data);
        if (state.errors.length > MAX_ERRORS) state.errors.length = MAX_ERRORS;
        renderErrors();
        break;
      default:
        break;
    }
  }

  // Parses one SSE block ("event: x\ndata: {...}"); comments (": ping") are skipped.
  function onBlock(block) {
    let type = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length === 0) return;
    try {
      onEvent(type, JSON.parse(data.join('\n')));
    } catch (e) {
      console.warn('dashboard: bad event', type, e.message);
    }
  }

  async function startEvents() {
    stopEvents();
    const ctrl = new AbortController();
    state.events = ctrl;
    let backoffMs = 1000;
    while (!ctrl.signal.aborted) {
      try {
        const res = await fetch(API + 'events', {
          headers: authHeaders({ accept: 'text/event-stream' }),
          credentials: 'omit', cache: 'no-store', signal: ctrl.signal,
        });
        if (res.status === 401) {
          needKey();
          return;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        setLive(true);
        backoffMs = 1000;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value.replace(/\r\n?/g, '\n');
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            onBlock(buf.slice(0, i));
            buf = buf.slice(i + 2);
          }
        }
      } catch (e) {
        if (ctrl.signal.aborted) return;
      }
      setLive(false);
      // The stream ended (restart, or we fell behind): resync, then reconnect.
      pollSoon();
      await new Promise((r) => setTimeout(r, backoffMs));
      backoffMs = Math.min(backoffMs * 2, 15000);
    }
  }

  // ---- ticking -------------------------------------------------------------

  function tick() {
    for (const span of document.querySelectorAll('#accounts-body .expiry')) {
      const [cls, text] = expiry(Number(span.dataset.expires) || 0, span.dataset.health);
      span.className = 'expiry ' + cls;
      span.textContent = text;
    }
    const now = Date.now();
    for (const td of document.querySelectorAll('#requests-body .age')) {
      td.textContent = fmtDuration((now - Number(td.dataset.started)) / 1000);
    }
  }

  function restart() {
    state.needKey = false;
    stopEvents();
    showBanner('');
    updateKeyUi();
    poll();
  }

  function init() {
    $('key-form').addEventListener('submit', onKeySubmit);
    $('key-forget').addEventListener('click', onKeyForget);
    $('import-form').addEventListener('submit', onImport);
    $('import-file').addEventListener('change', onImportFile);
    $('accounts-body').addEventListener('click', onAccountAction);
    $('requests-body').addEventListener('click', onCancel);
    window.addEventListener('resize', drawCharts);
    setInterval(tick, 1000);
    setInterval(poll, POLL_MS);
    drawCharts();
    restart();
  }

  document.addEventListener('DOMContentLoaded', init);
})();
