// fetch.test.mjs - outbound fetch() from functions against a local HTTPS
// origin whose certificate comes from a test CA that only these namespaces'
// egress policies name (tfaas serve --egress): requests, bodies, headers,
// redirects on V8 and the synchronous Duktape shape; the bytes on the wire
// are TLS; the V8 event loop (timers, queueMicrotask, AbortController); and
// every egress refusal with its message.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, api } from '../lib/server.mjs';
import { createNamespace, putAction, invoke, ENGINE_KINDS } from '../lib/e2e.mjs';
import { makeTestCa, startOrigin } from '../lib/tls-server.mjs';
import * as jose from 'jose';
import { BHttpDecoder } from 'bhttp-js';
import { confidentialOf, deployBody, kmsSigningKey } from '../lib/confidential.mjs';
import { AEADS, bhttpJsonRequest, ohttpClient, ohttpOpenResponse } from '../lib/ohttp-client.mjs';

const HAS_V8 = ENGINE_KINDS.includes('js:v8');
const SECRET = 'sk-test-0123456789abcdef';
let server, origin, plain, ca, dir;
const ns = {}; // name -> handle from createNamespace

// The origin: echoes what it got, redirects, and serves sizes.
function handler(req, res) {
  const chunks = [];
  req.on('data', (d) => chunks.push(d));
  req.on('end', () => {
    const url = new URL(req.url, 'https://x');
    if (url.pathname === '/redirect') {
      res.writeHead(Number(url.searchParams.get('status') || 302), { location: url.searchParams.get('to') });
      return res.end();
    }
    if (url.pathname === '/loop') {
      res.writeHead(302, { location: '/loop' });
      return res.end();
    }
    if (url.pathname === '/big') {
      const n = Number(url.searchParams.get('n'));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
      return res.end(Buffer.alloc(n, 97));
    }
    if (url.pathname === '/chunked') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('hello, ');
      return setTimeout(() => res.end('chunked world'), 20);
    }
    res.writeHead(201, { 'content-type': 'application/json', 'x-origin': 'test', 'set-cookie': ['a=1', 'b=2'] });
    res.end(JSON.stringify({
      method: req.method, path: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('latin1'),
    }));
  });
}

// One namespace per policy under test; the test CA is named only here.
async function setup() {
  ca = makeTestCa();
  origin = await startOrigin(ca, handler);
  plain = await startOrigin(null, handler);
  dir = mkdtempSync(join(tmpdir(), 'tfaas-egress-'));
  const at = `127.0.0.1:${origin.port}`;
  const policies = {
    fetchok: { allow: [at, `localhost:${origin.port}`], ca: ca.caPem, maxConnections: 30 },
    noca: { allow: [at] },
    httpok: { allow: [`127.0.0.1:${plain.port}`], http: true },
    nohttp: { allow: [`127.0.0.1:${plain.port}`] },
    byname: { allow: [`localhost:${origin.port}`], ca: ca.caPem },
    limits: { allow: [at], ca: ca.caPem, maxConnections: 2, maxBytes: 200000 },
    // the default policy for every other namespace: public https only
  };
  const file = join(dir, 'egress.json');
  writeFileSync(file, JSON.stringify(policies));
  server = await startServer({ extraArgs: ['--egress', file] });
  for (const name of Object.keys(policies)) ns[name] = await createNamespace(server, name);
}

before(setup);
after(async () => {
  if (server) await server.stop();
  if (origin) await origin.close();
  if (plain) await plain.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function run(handle, name, code, params = {}, { kind = 'js:v8', annotations, limits } = {}) {
  const body = { exec: { kind, code } };
  if (annotations) body.annotations = annotations;
  if (limits) body.limits = limits;
  const r = await api(handle, 'PUT', `/api/v1/namespaces/_/actions/${name}?overwrite=true`, { body });
  assert.equal(r.status, 200, r.text);
  const inv = await invoke(handle, name, params);
  assert.equal(inv.status === 200 || inv.status === 502, true, inv.text);
  return inv.body.response;
}

// A V8 function that returns what fetch threw (its message) or gave.
const TRY = `async function main(p) {
  try { const r = await fetch(p.url, p.init); return { status: r.status, text: await r.text() }; }
  catch (e) { return { name: e.name, message: e.message }; }
}`;
const TRY_DUK = `function main(p) {
  try { var r = fetch(p.url, p.init); return { status: r.status, text: r.text() }; }
  catch (e) { return { name: e.name, message: e.message }; }
}`;

describe('fetch on V8', { skip: !HAS_V8 && 'no V8 enclave in this build' }, () => {
  test('GET: status, ok, headers (set-cookie apart), json(); the request carries the caller\'s headers', async () => {
    const res = await run(ns.fetchok, 'get', `async function main(p) {
      const r = await fetch(p.url, { headers: { 'X-Token': 'abc', accept: 'application/json' } });
      const body = await r.json();
      return { status: r.status, ok: r.ok, type: r.headers.get('content-type'), origin: r.headers.get('x-origin'),
               cookies: r.headers.getSetCookie(), url: r.url, redirected: r.redirected, body, used: r.bodyUsed,
               isResponse: r instanceof Response, isHeaders: r.headers instanceof Headers };
    }`, { url: `https://127.0.0.1:${origin.port}/hello?q=1` });
    assert.equal(res.status, 'success', JSON.stringify(res));
    const r = res.result;
    assert.equal(r.status, 201);
    assert.equal(r.ok, true);
    assert.equal(r.type, 'application/json');
    assert.equal(r.origin, 'test');
    assert.deepEqual(r.cookies, ['a=1', 'b=2']);
    assert.equal(r.url, `https://127.0.0.1:${origin.port}/hello?q=1`);
    assert.equal(r.redirected, false);
    assert.equal(r.used, true);
    assert.equal(r.isResponse && r.isHeaders, true);
    assert.equal(r.body.method, 'GET');
    assert.equal(r.body.path, '/hello?q=1');
    assert.equal(r.body.headers['x-token'], 'abc');
    assert.equal(r.body.headers.host, `127.0.0.1:${origin.port}`);
  });

  test('POST bodies: string (text/plain), Uint8Array, ArrayBuffer; a Request object; arrayBuffer()', async () => {
    const res = await run(ns.fetchok, 'post', `async function main(p) {
      const out = [];
      for (const body of ['héllo', new Uint8Array([1, 2, 255]), new Uint8Array([7, 8]).buffer]) {
        const r = await fetch(p.url, { method: 'post', body });
        out.push(await r.json());
      }
      const req = new Request(p.url, { method: 'PUT', body: 'x', headers: [['content-type', 'application/x-test']] });
      const r = await fetch(req);
      const ab = await r.arrayBuffer();
      out.push({ bytes: ab.byteLength, first: new Uint8Array(ab)[0] });
      return { out };
    }`, { url: `https://127.0.0.1:${origin.port}/echo` });
    assert.equal(res.status, 'success', JSON.stringify(res));
    const [s, u8, ab, put] = res.result.out;
    assert.equal(s.method, 'POST');
    assert.equal(Buffer.from(s.body, 'latin1').toString('utf8'), 'héllo');
    assert.equal(s.headers['content-type'], 'text/plain;charset=UTF-8');
    assert.equal(s.headers['content-length'], '6');
    assert.deepEqual([...Buffer.from(u8.body, 'latin1')], [1, 2, 255]);
    assert.deepEqual([...Buffer.from(ab.body, 'latin1')], [7, 8]);
    assert.equal(put.first, '{'.charCodeAt(0));
    assert.ok(put.bytes > 10);
  });

  test('redirects: followed (303 turns POST into GET), at most 20, manual and error modes', async () => {
    const base = `https://127.0.0.1:${origin.port}`;
    const res = await run(ns.fetchok, 'redir', `async function main(p) {
      const a = await fetch(p.base + '/redirect?status=303&to=/final', { method: 'POST', body: 'b' });
      const aj = await a.json();
      const b = await fetch(p.base + '/redirect?status=307&to=/kept', { method: 'POST', body: 'b' });
      const bj = await b.json();
      const m = await fetch(p.base + '/redirect?to=/x', { redirect: 'manual' });
      let loop, err;
      try { await fetch(p.base + '/loop'); } catch (e) { loop = e.message; }
      try { await fetch(p.base + '/redirect?to=/x', { redirect: 'error' }); } catch (e) { err = e.message; }
      return { a: [aj.method, aj.path, a.redirected, a.url], b: [bj.method, bj.body], manual: [m.status, m.headers.get('location')], loop, err };
    }`, { base });
    assert.equal(res.status, 'success', JSON.stringify(res));
    const r = res.result;
    assert.deepEqual(r.a, ['GET', '/final', true, `${base}/final`]);
    assert.deepEqual(r.b, ['POST', 'b']);
    assert.deepEqual(r.manual, [302, '/x']);
    assert.match(r.loop, /more than 20 redirects/);
    assert.match(r.err, /redirect mode is 'error'/);
  });

  test('chunked responses; bad headers and methods are TypeErrors before anything is sent', async () => {
    const res = await run(ns.fetchok, 'chunk', `async function main(p) {
      const r = await fetch(p.url + '/chunked');
      const errs = [];
      for (const init of [{ headers: { 'x-a': 'v\\r\\nInjected: 1' } }, { headers: { 'bad name': 'v' } },
                          { method: 'GET', body: 'x' }, { method: 'CONNECT' }, { method: 'GE T' }]) {
        try { await fetch(p.url, init); errs.push('none'); } catch (e) { errs.push(e.name); }
      }
      return { text: await r.text(), errs };
    }`, { url: `https://127.0.0.1:${origin.port}` });
    assert.equal(res.status, 'success', JSON.stringify(res));
    assert.equal(res.result.text, 'hello, chunked world');
    assert.deepEqual(res.result.errs, ['TypeError', 'TypeError', 'TypeError', 'TypeError', 'TypeError']);
  });

  test('the bytes on the wire are TLS: a ClientHello first, and neither the path nor the secret header in clear', async () => {
    const before = origin.raw.length;
    const res = await run(ns.fetchok, 'wire', `async function main(p) {
      const r = await fetch(p.url, { method: 'POST', headers: { authorization: 'Bearer ' + p.secret }, body: p.secret });
      return { status: r.status };
    }`, { url: `https://127.0.0.1:${origin.port}/very-secret-path`, secret: SECRET });
    assert.equal(res.result.status, 201, JSON.stringify(res));
    const conns = origin.raw.slice(before).map((c) => Buffer.concat(c));
    assert.equal(conns.length, 1);
    const wire = conns[0];
    assert.equal(wire[0], 0x16, 'a TLS handshake record');
    assert.equal(wire[5], 0x01, 'a ClientHello');
    assert.equal(wire.includes(Buffer.from(SECRET)), false);
    assert.equal(wire.includes(Buffer.from('very-secret-path')), false);
    // the same request over plain http (where a namespace allows it) is readable: the check can fail
    const pb = plain.raw.length;
    const res2 = await run(ns.httpok, 'wire', `async function main(p) {
      const r = await fetch(p.url, { headers: { authorization: 'Bearer ' + p.secret } }); return { status: r.status };
    }`, { url: `http://127.0.0.1:${plain.port}/very-secret-path`, secret: SECRET });
    assert.equal(res2.result.status, 201, JSON.stringify(res2));
    assert.equal(Buffer.concat(plain.raw[pb]).includes(Buffer.from(SECRET)), true);
  });
});

describe('fetch on Duktape (synchronous)', () => {
  test('fetch returns a Response-like object; text(), json(), headers.get(), POST bodies', async () => {
    const res = await run(ns.fetchok, 'duk', `function main(p) {
      var r = fetch(p.url, { method: 'POST', body: 'from duktape', headers: { 'X-A': 'b' } });
      var j = r.json();
      var g = fetch(p.url + '?x=1');
      return { status: r.status, ok: r.ok, type: r.headers.get('Content-Type'), method: j.method, body: j.body,
               xa: j.headers['x-a'], ct: j.headers['content-type'], path: JSON.parse(g.text()).path };
    }`, { url: `https://127.0.0.1:${origin.port}/d` }, { kind: 'js:duktape' });
    assert.equal(res.status, 'success', JSON.stringify(res));
    assert.deepEqual(res.result, { status: 201, ok: true, type: 'application/json', method: 'POST',
      body: 'from duktape', xa: 'b', ct: 'text/plain;charset=UTF-8', path: '/d?x=1' });
  });

  test('refusals are catchable TypeErrors with the policy\'s message', async () => {
    const res = await run(ns.fetchok, 'dukno', TRY_DUK, { url: 'https://10.0.0.1/' }, { kind: 'js:duktape' });
    assert.equal(res.result.name, 'TypeError');
    assert.match(res.result.message, /10\.0\.0\.1 is a loopback, private or link-local address/);
  });
});

describe('egress refusals', () => {
  const kinds = ENGINE_KINDS;
  const cases = [
    ['a host no entry names', 'fetchok', () => 'https://example.invalid/', /the host example\.invalid is not allowed by the egress policy/],
    ['a port no entry names', 'fetchok', () => 'https://127.0.0.1:1/', /port 1 of 127\.0\.0\.1 is not allowed/],
    ['loopback by address', 'fetchok', () => 'https://127.0.0.2/', /127\.0\.0\.2 is a loopback, private or link-local address/],
    ['a private range', 'fetchok', () => 'https://192.168.1.1/', /192\.168\.1\.1 is a loopback, private or link-local/],
    ['the cloud metadata service', 'fetchok', () => 'http://169.254.169.254/latest/meta-data/', /plain http: to 169\.254\.169\.254 is not allowed/],
    ['metadata over https', 'fetchok', () => 'https://169.254.169.254/', /169\.254\.169\.254 is a loopback, private or link-local/],
    ['IPv6 loopback', 'fetchok', () => 'https://[::1]/', /::1 is a loopback, private or link-local/],
    ['a name that resolves to loopback (DNS rebinding)', 'byname', () => `https://localhost:${origin.port}/`, /localhost resolves to 127\.0\.0\.1, a loopback, private or link-local address the egress policy does not allow/],
    ['plain http where the policy says https only', 'nohttp', () => `http://127.0.0.1:${plain.port}/`, /plain http: to 127\.0\.0\.1 is not allowed by the egress policy \(only https:\)/],
    ['a certificate from a CA the enclave does not trust', 'noca', () => `https://127.0.0.1:${origin.port}/`, /TLS certificate verification failed: (self-signed certificate in certificate chain|unable to get local issuer certificate)/],
    ['tfaas\'s own API (loopback) under the default policy', 'guest', () => `${server.url.replace('http:', 'https:')}/api/v1`, /127\.0\.0\.1 is a loopback, private or link-local/],
    ['a URL with credentials', 'fetchok', () => `https://user:pw@127.0.0.1:${origin.port}/`, /a URL with credentials/],
    ['a scheme other than http(s)', 'fetchok', () => 'file:///etc/passwd', /only https: and http: URLs can be fetched/],
  ];
  for (const kind of kinds) {
    for (const [what, nsName, url, re] of cases) {
      test(`${kind}: ${what}`, async () => {
        const handle = nsName === 'guest' ? server : ns[nsName];
        const res = await run(handle, `refuse-${kind === 'js:v8' ? 'v8' : 'duk'}`, kind === 'js:v8' ? TRY : TRY_DUK, { url: url() }, { kind });
        assert.equal(res.status, 'success', JSON.stringify(res));
        assert.equal(res.result.name, 'TypeError', JSON.stringify(res.result));
        assert.match(res.result.message, re);
      });
    }
  }

  test('plain http works where the namespace allows it', async () => {
    const res = await run(ns.httpok, 'httpok', TRY, { url: `http://127.0.0.1:${plain.port}/p` }, { kind: ENGINE_KINDS.at(-1) });
    assert.equal(res.result.status, 201, JSON.stringify(res));
  });

  test('an action\'s egress annotation narrows the namespace\'s policy, never widens it', async () => {
    const narrow = [{ key: 'egress', value: { allow: ['api.example.com'] } }];
    let res = await run(ns.fetchok, 'narrow', TRY_DUK, { url: `https://127.0.0.1:${origin.port}/` }, { kind: 'js:duktape', annotations: narrow });
    assert.match(res.result.message, /127\.0\.0\.1 is a loopback|not allowed by the egress policy/);
    const wide = [{ key: 'egress', value: { allow: ['*', '10.0.0.0/8:*'] } }];
    res = await run(ns.fetchok, 'widen', TRY_DUK, { url: 'https://10.1.2.3/' }, { kind: 'js:duktape', annotations: wide });
    assert.match(res.result.message, /10\.1\.2\.3 is a loopback, private or link-local/);
    const bad = await api(ns.fetchok, 'PUT', '/api/v1/namespaces/_/actions/badann?overwrite=true', {
      body: { exec: { kind: 'js:duktape', code: TRY_DUK }, annotations: [{ key: 'egress', value: { allow: 'x' } }] },
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /The annotation egress must be an egress policy/);
  });

  test('per-activation limits: connections and bytes', async () => {
    const kind = ENGINE_KINDS.at(-1);
    const code = kind === 'js:v8'
      ? `async function main(p) { const out = []; for (let i = 0; i < 3; i++) { try { const r = await fetch(p.url); out.push(r.status); } catch (e) { out.push(e.message); } } return { out }; }`
      : `function main(p) { var out = []; for (var i = 0; i < 3; i++) { try { out.push(fetch(p.url).status); } catch (e) { out.push(e.message); } } return { out: out }; }`;
    let res = await run(ns.limits, 'conns', code, { url: `https://127.0.0.1:${origin.port}/` }, { kind });
    assert.deepEqual(res.result.out.slice(0, 2), [201, 201]);
    assert.match(res.result.out[2], /the activation's limit of 2 connections was reached/);
    // the next activation starts again from zero
    res = await run(ns.limits, 'conns', code, { url: `https://127.0.0.1:${origin.port}/` }, { kind });
    assert.deepEqual(res.result.out.slice(0, 2), [201, 201]);
    res = await run(ns.limits, 'bytes', kind === 'js:v8' ? TRY : TRY_DUK, { url: `https://127.0.0.1:${origin.port}/big?n=300000` }, { kind });
    assert.match(res.result.message, /the activation's egress limit of 200000 bytes \(sent and received\) was reached/);
  });

  test('no enclave holds a fetch without a policy: the namespace default refuses private targets', async () => {
    const res = await run(server, 'default', TRY_DUK, { url: `https://127.0.0.1:${origin.port}/` }, { kind: 'js:duktape' });
    assert.match(res.result.message, /127\.0\.0\.1 is a loopback, private or link-local/);
  });
});

describe('the V8 event loop', { skip: !HAS_V8 && 'no V8 enclave in this build' }, () => {
  test('setTimeout, setInterval/clearInterval and queueMicrotask settle a Promise main', async () => {
    const res = await run(ns.fetchok, 'timers', `function main() {
      return new Promise((resolve) => {
        const order = [];
        queueMicrotask(() => order.push('micro'));
        setTimeout(() => order.push('t30'), 30);
        setTimeout(() => order.push('t10'), 10);
        const cancelled = setTimeout(() => order.push('never'), 5);
        clearTimeout(cancelled);
        let n = 0;
        const iv = setInterval(() => { if (++n === 3) { clearInterval(iv); setTimeout(() => resolve({ order, n }), 40); } }, 5);
      });
    }`);
    assert.equal(res.status, 'success', JSON.stringify(res));
    assert.deepEqual(res.result.order, ['micro', 't10', 't30']);
    assert.equal(res.result.n, 3);
  });

  test('timers never outlive their activation', async () => {
    const code = `globalThis.ticks = globalThis.ticks || 0;
      function main(p) {
        if (p.first) { setInterval(() => globalThis.ticks++, 1); return { ticks: globalThis.ticks }; }
        return new Promise((r) => setTimeout(() => r({ ticks: globalThis.ticks }), 50));
      }`;
    await run(ns.fetchok, 'outlive', code, { first: true });
    const inv = await invoke(ns.fetchok, 'outlive', {});
    assert.equal(inv.body.response.result.ticks, 0, JSON.stringify(inv.body));
  });

  test('a Promise nothing can settle still fails at once; a timer past the time limit ends at it', async () => {
    let res = await run(ns.fetchok, 'stuck', 'function main() { return new Promise(() => {}); }');
    assert.equal(res.result.error, 'The action returned a promise that never settled.');
    res = await run(ns.fetchok, 'late', 'function main() { return new Promise((r) => setTimeout(() => r({}), 5000)); }', {}, { limits: { timeout: 300 } });
    assert.match(res.result.error, /exceeded its time limits of 300 milliseconds/);
  });

  test('a throwing timer fails the activation with its error', async () => {
    const res = await run(ns.fetchok, 'throwtimer', 'function main() { return new Promise(() => setTimeout(() => { throw new Error("boom"); }, 1)); }');
    assert.match(res.result.error, /boom/);
  });

  test('AbortController: an aborted signal rejects with AbortError; AbortSignal.timeout before the request runs', async () => {
    const res = await run(ns.fetchok, 'abort', `async function main(p) {
      const out = [];
      const c = new AbortController(); c.abort();
      try { await fetch(p.url, { signal: c.signal }); } catch (e) { out.push(e.name); }
      const c2 = new AbortController();
      const pending = fetch(p.url, { signal: c2.signal });
      c2.abort(new Error('mine'));
      try { await pending; } catch (e) { out.push(e.message); }
      const r = await fetch(p.url, { signal: AbortSignal.timeout(10000) });
      out.push(r.status, c.signal.aborted, new AbortController().signal.aborted);
      return { out };
    }`, { url: `https://127.0.0.1:${origin.port}/` });
    assert.deepEqual(res.result.out, ['AbortError', 'mine', 201, true, false], JSON.stringify(res));
  });

  test('Headers, Request and Response follow WHATWG for what they hold', async () => {
    const res = await run(ns.fetchok, 'classes', `async function main() {
      const h = new Headers({ 'Content-Type': 'text/plain' });
      h.append('X-A', '1'); h.append('x-a', '2');
      const r = new Response('{"a":1}', { status: 404, headers: h });
      const j = Response.json({ b: 2 });
      let range; try { new Response('', { status: 100 }); } catch (e) { range = e.name; }
      return { get: h.get('x-a'), keys: [...h.keys()], status: r.status, ok: r.ok, body: await r.json(),
               jtype: j.headers.get('content-type'), jbody: await j.text(), range,
               method: new Request('https://a.example/', { method: 'post' }).method };
    }`);
    assert.deepEqual(res.result, { get: '1, 2', keys: ['content-type', 'x-a'], status: 404, ok: false, body: { a: 1 },
      jtype: 'application/json', jbody: '{"b":2}', range: 'RangeError', method: 'POST' });
  });
});

describe('confidential functions', () => {
  // A namespace policy's "ca" comes from the untrusted host: a confidential
  // function's TLS trusts the compiled-in set only, so the test origin's
  // certificate fails there while the same namespace's plaintext action
  // (first test file section) trusts it.
  test('the policy\'s extra CA is not trusted for a confidential function; the request reaches TLS in the enclave', async () => {
    const attestation = (await api(server, 'GET', '/tfaas/v1/attestation', { auth: null })).body;
    const kmsKey = await kmsSigningKey(attestation);
    const name = 'cfetch';
    const code = TRY_DUK;
    const put = await api(ns.fetchok, 'PUT', `/tfaas/v1/namespaces/_/actions/${name}`,
      { body: await deployBody(attestation, name, code, { ns: 'fetchok' }) });
    assert.equal(put.status, 200, put.text);
    const cert = confidentialOf(put.body).certificate;
    const { payload } = await jose.compactVerify(cert, kmsKey);
    const keys = Buffer.from(JSON.parse(new TextDecoder().decode(payload)).ohttp_keys, 'base64url');
    const aead = AEADS[1];
    const seen = origin.connections;
    const inner = await bhttpJsonRequest(`/${name}`, { url: `https://127.0.0.1:${origin.port}/c` });
    const state = await ohttpClient(new Uint8Array(keys), aead, inner);
    const res = await fetch(`${server.url}/tfaas/v1/namespaces/_/actions/${name}/ohttp`, {
      method: 'POST', body: state.encReq,
      headers: { 'content-type': 'message/ohttp-req', authorization: 'Basic ' + Buffer.from(ns.fetchok.auth).toString('base64') },
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(res.status, 200, bytes.toString());
    const answer = new BHttpDecoder().decodeResponse(await ohttpOpenResponse(state, aead, new Uint8Array(bytes)));
    const result = JSON.parse(Buffer.from(await answer.arrayBuffer()).toString());
    assert.equal(result.name, 'TypeError', JSON.stringify(result));
    assert.match(result.message, /TLS certificate verification failed/);
    assert.equal(origin.connections, seen + 1, 'the host connected; the enclave refused the certificate');
  });
});
