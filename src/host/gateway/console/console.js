// console.js - the tfaas web console: signs in with a namespace's
// credentials (kept in sessionStorage, sent as Basic auth to the same REST
// API the CLI uses), lists and opens actions, deploys and invokes, shows the
// activations as they arrive with their logs, and plots latency and errors.
//
// Safety: every string that comes from the server (names, code, results,
// logs: all tenant-controlled) reaches the page through textContent or
// setAttribute on SVG geometry, never through innerHTML; the CSP (console.c)
// forbids inline script besides.
'use strict';

const AUTH_KEY = 'tfaas.auth';   // sessionStorage only: gone with the tab
const REFRESH_MS = 2000;         // activation list and platform refresh
const PLOT_BUCKETS = 20;         // time buckets of the plots

let auth = sessionStorage.getItem(AUTH_KEY);
let current = null;              // the open action's name
let timer = null;

const $ = (id) => document.getElementById(id);

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

async function api(method, path, body) {
  const headers = { authorization: 'Basic ' + btoa(auth) };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  if (!res.ok) throw new Error((json && json.error) || `${res.status} ${res.statusText}`);
  return json;
}

const enc = encodeURIComponent;
const STATUS = ['success', 'application error', 'developer error', 'internal error'];

// --- sign in ---------------------------------------------------------------

async function signIn(credentials) {
  auth = credentials;
  try {
    const [ns] = await api('GET', '/api/v1/namespaces');
    sessionStorage.setItem(AUTH_KEY, credentials);
    $('auth').value = '';
    $('who').textContent = 'namespace ' + ns;
    $('signin').hidden = true;
    $('app').hidden = false;
    $('signout').hidden = false;
    await loadActions();
    refresh();
  } catch (e) {
    auth = null;
    sessionStorage.removeItem(AUTH_KEY);
    $('signin-error').textContent = 'Sign-in failed: ' + e.message;
  }
}

function signOut() {
  sessionStorage.removeItem(AUTH_KEY);
  auth = null;
  clearTimeout(timer);
  location.reload();
}

// --- actions ----------------------------------------------------------------

async function loadActions() {
  const list = await api('GET', '/api/v1/namespaces/_/actions?limit=200');
  const ul = $('actions');
  ul.replaceChildren();
  for (const a of list) {
    const li = el('li');
    const b = el('button', a.name);
    b.dataset.action = a.name;
    b.addEventListener('click', () => openAction(a.name));
    li.append(b);
    ul.append(li);
  }
}

function meta(dl, key, value) {
  dl.append(el('dt', key), el('dd', typeof value === 'string' ? value : JSON.stringify(value, null, 1)));
}

// A JWT's payload, decoded for display (not verified: the CLI verifies).
function jwtPayload(jwt) {
  try {
    const b64 = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(b64 + '==='.slice((b64.length + 3) % 4)));
  } catch { return null; }
}

async function openAction(name) {
  const a = await api('GET', `/api/v1/namespaces/_/actions/${enc(name)}`);
  current = name;
  $('action-pane').hidden = false;
  $('action-title').textContent = a.name;
  $('invoke-result').textContent = '';
  const dl = $('action-meta');
  dl.replaceChildren();
  meta(dl, 'kind', a.exec && a.exec.kind);
  meta(dl, 'version', a.version);
  meta(dl, 'limits', a.limits || {});
  const annotations = (a.annotations || []).filter((x) => x.key !== 'confidential');
  meta(dl, 'annotations', annotations);
  const conf = (a.annotations || []).find((x) => x.key === 'confidential');
  const confidential = !!conf;
  if (confidential) {
    // Never the code (ciphertext anyway): the certificate and its policy.
    const cert = (conf.value && typeof conf.value.certificate === 'string') ? conf.value.certificate : '';
    meta(dl, 'certificate', cert || '(none)');
    const claims = jwtPayload(cert);
    meta(dl, 'policy', (claims && claims.policy) || '(not readable from the certificate)');
    $('code-title').textContent = 'Code';
    $('action-code').textContent = 'Confidential: the code is encrypted to its enclaves and not shown.';
  } else {
    $('action-code').textContent = (a.exec && typeof a.exec.code === 'string') ? a.exec.code : '(no code shown)';
  }
  $('invoke-button').disabled = confidential;
  $('invoke-button').title = confidential ? 'Invoke confidential functions with tfaas action invoke --confidential' : '';
  refresh();
}

async function deploy(ev) {
  ev.preventDefault();
  const name = $('deploy-name').value.trim();
  const status = $('deploy-status');
  try {
    await api('PUT', `/api/v1/namespaces/_/actions/${enc(name)}?overwrite=true`,
      { exec: { kind: $('deploy-kind').value, code: $('deploy-code').value } });
    status.textContent = 'Deployed ' + name;
    status.className = 'status status-success';
    await loadActions();
    await openAction(name);
  } catch (e) {
    status.textContent = 'Deploy failed: ' + e.message;
    status.className = 'status status-error';
  }
}

async function invoke(ev) {
  ev.preventDefault();
  if (!current) return;
  const out = $('invoke-result');
  let params;
  try { params = JSON.parse($('invoke-params').value || '{}'); } catch (e) {
    out.textContent = 'Parameters are not JSON: ' + e.message;
    return;
  }
  out.textContent = 'Invoking...';
  try {
    const rec = await api('POST', `/api/v1/namespaces/_/actions/${enc(current)}?blocking=true`, params);
    out.textContent = JSON.stringify(rec.response ? rec.response.result : rec, null, 2);
  } catch (e) {
    out.textContent = 'Invoke failed: ' + e.message;
  }
  refresh();
}

// --- activations ------------------------------------------------------------

async function showActivation(id) {
  const rec = await api('GET', `/api/v1/namespaces/_/activations/${enc(id)}`);
  $('activation-detail').hidden = false;
  $('activation-title').textContent = `${rec.name} ${rec.activationId}`;
  $('activation-logs').textContent = (rec.logs || []).join('\n');
  $('activation-result').textContent = JSON.stringify(rec.response, null, 2);
}

function renderActivations(list) {
  const body = $('activations');
  body.replaceChildren();
  for (const a of list) {
    const tr = el('tr');
    tr.dataset.id = a.activationId;
    const st = STATUS[a.statusCode] || String(a.statusCode);
    tr.append(el('td', a.name), el('td', st, a.statusCode === 0 ? 'status-success' : 'status-error'),
      el('td', `${a.duration} ms`), el('td', new Date(a.start).toLocaleTimeString()), el('td', a.activationId));
    tr.addEventListener('click', () => showActivation(a.activationId));
    body.append(tr);
  }
}

// --- plots (hand-drawn SVG: two polylines need no library) --------------------

const SVG = 'http://www.w3.org/2000/svg';
function svgEl(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

// Buckets the activations by start time: [{t, p50, p99, errorRate}], oldest first.
function buckets(list) {
  if (!list.length) return [];
  const t0 = Math.min(...list.map((a) => a.start)), t1 = Math.max(...list.map((a) => a.start));
  const width = Math.max(1, (t1 - t0 + 1) / PLOT_BUCKETS);
  const groups = Array.from({ length: PLOT_BUCKETS }, () => []);
  for (const a of list) groups[Math.min(PLOT_BUCKETS - 1, Math.floor((a.start - t0) / width))].push(a);
  return groups.map((g, i) => {
    if (!g.length) return null;
    const d = g.map((a) => a.duration).sort((x, y) => x - y);
    return { t: t0 + i * width, p50: quantile(d, 0.5), p99: quantile(d, 0.99),
      errorRate: g.filter((a) => a.statusCode !== 0).length / g.length };
  }).filter(Boolean);
}

function plot(container, points, series, unit) {
  const W = 600, H = 160, L = 50, B = 20;
  const svg = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img' });
  svg.append(svgEl('line', { x1: L, y1: H - B, x2: W, y2: H - B, class: 'axis' }),
    svgEl('line', { x1: L, y1: 0, x2: L, y2: H - B, class: 'axis' }));
  const max = Math.max(1e-9, ...points.flatMap((p) => series.map((s) => p[s.key])));
  const n = points.length;
  const x = (i) => L + (n === 1 ? (W - L) / 2 : (i * (W - L - 10)) / (n - 1));
  const y = (v) => H - B - (v / max) * (H - B - 10);
  svg.append(svgEl('text', { x: 2, y: 12 }, `${+max.toFixed(3)} ${unit}`), svgEl('text', { x: 2, y: H - B }, `0 ${unit}`));
  for (const s of series) {
    const cls = s.key === 'errorRate' ? 'errors' : s.key;
    const pts = points.map((p, i) => `${x(i).toFixed(1)},${y(p[s.key]).toFixed(1)}`).join(' ');
    svg.append(svgEl('polyline', { points: pts, class: cls }));
    points.forEach((p, i) => svg.append(svgEl('circle', { cx: x(i).toFixed(1), cy: y(p[s.key]).toFixed(1), r: 2,
      class: cls })));
    svg.append(svgEl('text', { x: W - 60, y: 12 + 12 * series.indexOf(s), class: `legend ${cls}` }, s.label));
  }
  container.replaceChildren(svg);
}

function renderPlots(list) {
  const pts = buckets(list);
  if (!pts.length) {
    $('latency-plot').replaceChildren(el('p', 'No activations yet.', 'note'));
    $('error-plot').replaceChildren(el('p', 'No activations yet.', 'note'));
    return;
  }
  plot($('latency-plot'), pts, [{ key: 'p50', label: 'p50' }, { key: 'p99', label: 'p99' }], 'ms');
  plot($('error-plot'), pts.map((p) => ({ ...p, errorRate: p.errorRate * 100 })),
    [{ key: 'errorRate', label: 'errors %' }], '%');
}

// --- platform (operators): /metrics and the key service ----------------------

// The labels of one Prometheus sample line, for display only.
function labels(line) {
  const out = {};
  const m = /\{(.*)\}/.exec(line);
  if (!m) return out;
  for (const [, k, v] of m[1].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) out[k] = v.replace(/\\(.)/g, '$1');
  return out;
}

async function refreshPlatform() {
  try {
    const res = await fetch('/metrics');
    if (!res.ok) throw new Error(`${res.status}`);
    const text = await res.text();
    const body = $('enclaves');
    body.replaceChildren();
    for (const line of text.split('\n')) {
      if (!line.startsWith('tfaas_enclave_resident_memory_bytes{')) continue;
      const l = labels(line);
      const bytes = Number(line.slice(line.lastIndexOf(' ') + 1));
      const tr = el('tr');
      tr.append(el('td', l.engine), el('td', l.mode), el('td', l.kind), el('td', l.namespace || '(shared)'),
        el('td', l.pid), el('td', `${(bytes / 1048576).toFixed(1)} MiB`));
      body.append(tr);
    }
    $('metrics-note').textContent = 'From /metrics.';
  } catch (e) {
    $('metrics-note').textContent = 'Enclaves need /metrics, which this server does not show here (' + e.message +
      '; tfaas serve --metrics-access).';
  }
  try {
    const res = await fetch('/tfaas/v1/attestation');
    const doc = res.ok ? await res.json() : null;
    $('kms-status').textContent = doc
      ? 'Key service: up, attestation evidence served (' + Object.keys(doc).join(', ') + ').'
      : `Key service: unavailable (${res.status}).`;
  } catch (e) {
    $('kms-status').textContent = 'Key service: ' + e.message;
  }
}

// --- refresh loop -----------------------------------------------------------------

async function refresh() {
  clearTimeout(timer);
  if (!auth) return;
  try {
    const list = await api('GET', '/api/v1/namespaces/_/activations?limit=50');
    renderActivations(list);
    if (current) {
      const mine = await api('GET', `/api/v1/namespaces/_/activations?limit=200&name=${enc(current)}`);
      renderPlots(mine);
    }
    await refreshPlatform();
  } catch (e) {
    $('metrics-note').textContent = 'Refresh failed: ' + e.message;
  }
  timer = setTimeout(refresh, REFRESH_MS);
}

document.addEventListener('DOMContentLoaded', () => {
  $('signin-form').addEventListener('submit', (ev) => { ev.preventDefault(); signIn($('auth').value.trim()); });
  $('signout').addEventListener('click', signOut);
  $('deploy-form').addEventListener('submit', deploy);
  $('invoke-form').addEventListener('submit', invoke);
  if (auth) signIn(auth);
});
