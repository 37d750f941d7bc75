// metrics.test.mjs - GET /metrics against the real server and enclaves,
// read with a Prometheus text-format parser (parse-prometheus-text-format):
// counters move with invokes by namespace, action and status; histograms,
// queue and enclave gauges are there; a confidential call is counted and
// nothing else of it shows (no status, no duration); who may scrape is
// --metrics-access and --metrics-token-file.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jose from 'jose';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { startServer, api } from '../lib/server.mjs';
import { putAction, invoke } from '../lib/e2e.mjs';
import { confidentialOf, deployBody } from '../lib/confidential.mjs';
import { AEADS, bhttpJsonRequest, ohttpClient } from '../lib/ohttp-client.mjs';
import { assertError } from '../lib/expect.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

// The parsed families by name: {name: {type, metrics: [{labels, value|buckets...}]}}.
async function scrape(srv = server, headers = {}) {
  const res = await fetch(`${srv.url}/metrics`, { headers });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  return Object.fromEntries(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
}

// The value of the sample of `family` whose labels include `labels` (0 if none).
function value(families, family, labels = {}) {
  const f = families[family];
  const m = f?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  return m ? Number(m.value ?? m.count) : 0;
}

const runCount = (fams) => Number(fams.tfaas_activation_run_seconds.metrics[0].count);

describe('counters move with invokes', () => {
  test('by namespace, action and OpenWhisk status; histograms, queue and enclave gauges', async () => {
    await putAction(server, 'm-ok', 'function main(p) { return { ok: true }; }');
    await putAction(server, 'm-app', 'function main(p) { return { error: "no" }; }');
    await putAction(server, 'm-throw', 'function main(p) { throw new Error("boom"); }');
    const before = await scrape();
    for (let i = 0; i < 3; i++) assert.equal((await invoke(server, 'm-ok')).status, 200);
    assert.equal((await invoke(server, 'm-app')).status, 502);
    assert.equal((await invoke(server, 'm-throw')).status, 502);
    const after = await scrape();

    assert.equal(after.tfaas_activations_total.type, 'COUNTER');
    const moved = (action, status) => value(after, 'tfaas_activations_total', { namespace: 'guest', action, status }) -
      value(before, 'tfaas_activations_total', { namespace: 'guest', action, status });
    assert.equal(moved('m-ok', 'success'), 3);
    assert.equal(moved('m-app', 'application_error'), 1);
    assert.equal(moved('m-throw', 'developer_error'), 1);
    assert.equal(moved('m-ok', 'developer_error'), 0);
    // a blocking answer comes after its record is durable, so the five are in
    assert.equal(runCount(after) - runCount(before), 5);
    for (const h of ['tfaas_activation_wait_seconds', 'tfaas_activation_init_seconds', 'tfaas_store_commit_seconds',
      'tfaas_store_commit_batch_size']) {
      assert.equal(after[h].type, 'HISTOGRAM', h);
      assert.ok(Number(after[h].metrics[0].count) >= 5 || h.startsWith('tfaas_store'), h);
      assert.equal(after[h].metrics[0].buckets['+Inf'], after[h].metrics[0].count, h);
    }
    assert.ok(Number(after.tfaas_store_commit_batch_size.metrics[0].sum) >= 5);
    for (const g of ['tfaas_activations_queued', 'tfaas_activations_pending', 'tfaas_activations_running'])
      assert.equal(after[g].type, 'GAUGE', g);
    assert.equal(value(after, 'tfaas_enclaves', { engine: 'duktape', mode: 'enclave-per-tenant', kind: 'plain' }), 1);
    const mem = after.tfaas_enclave_resident_memory_bytes.metrics.find((m) => m.labels.namespace === 'guest');
    assert.ok(mem && Number(mem.value) > 1 << 20, JSON.stringify(after.tfaas_enclave_resident_memory_bytes));
    assert.equal(value(after, 'tfaas_key_service_up'), 1);
  });

  test('a sequence counts once itself; only its components add to the histograms', async () => {
    await putAction(server, 'm-ok', 'function main(p) { return { ok: true }; }');
    const r = await api(server, 'PUT', '/api/v1/namespaces/_/actions/m-seq?overwrite=true',
      { body: { exec: { kind: 'sequence', components: ['/_/m-ok', '/_/m-ok'] } } });
    assert.equal(r.status, 200, r.text);
    const before = await scrape();
    assert.equal((await invoke(server, 'm-seq')).status, 200);
    const after = await scrape();
    const moved = (action) => value(after, 'tfaas_activations_total', { action, status: 'success' }) -
      value(before, 'tfaas_activations_total', { action, status: 'success' });
    assert.equal(moved('m-seq'), 1);
    assert.equal(moved('m-ok'), 2);
    assert.equal(runCount(after) - runCount(before), 2);
  });

  test('a label value a tenant chose is escaped, not able to forge a series', async () => {
    // Action names cannot hold quotes or newlines (400 at deploy), so the
    // worst a tenant can pick is accepted as an ordinary label value.
    const r = await api(server, 'PUT', '/api/v1/namespaces/_/actions/m%22x', {
      body: { exec: { kind: 'js:duktape', code: 'function main() { return {}; }' } },
    });
    assertError(r, 400);
    await putAction(server, 'm-odd@name.v1', 'function main() { return {}; }');
    assert.equal((await invoke(server, 'm-odd@name.v1')).status, 200);
    const fams = await scrape();
    assert.equal(value(fams, 'tfaas_activations_total', { action: 'm-odd@name.v1', status: 'success' }), 1);
  });
});

test('invocations refused at admission are counted by reason, once each', async () => {
  const srv = await startServer({ extraArgs: ['--tenant-max-activations', '1'] });
  try {
    // Each holds the namespace's one activation for 3 s; the invokes sent
    // meanwhile are refused (429).
    await putAction(srv, 'm-hold', 'function main() { var t = Date.now(); while (Date.now() - t < 3000) {} return {}; }');
    const before = await scrape(srv);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push((await api(srv, 'POST', '/api/v1/namespaces/_/actions/m-hold', { body: {} })).status);
    const refused = answers.filter((s) => s === 429).length;
    assert.ok(answers[0] === 202 && refused >= 1, answers.join());
    const after = await scrape(srv);
    const reason = { reason: 'namespace_activations' };
    assert.equal(value(after, 'tfaas_activations_refused_total', reason) -
      value(before, 'tfaas_activations_refused_total', reason), refused);
  } finally { await srv.stop(); }
});

test('a confidential call is counted, its status and durations are not exposed', async () => {
  const attestation = (await api(server, 'GET', '/tfaas/v1/attestation', { auth: null })).body;
  const code = 'function main(p) { var t = Date.now(); while (Date.now() - t < 30) {} throw new Error("secret"); }';
  const d = await api(server, 'PUT', '/tfaas/v1/namespaces/_/actions/m-conf',
    { body: await deployBody(attestation, 'm-conf', code) });
  assert.equal(d.status, 200, d.text);
  const keys = Buffer.from(jose.decodeJwt(confidentialOf(d.body).certificate).ohttp_keys, 'base64url');
  const before = await scrape();
  const state = await ohttpClient(new Uint8Array(keys), AEADS[0], await bhttpJsonRequest('/m-conf', {}, new Date()));
  const res = await fetch(`${server.url}/tfaas/v1/namespaces/_/actions/m-conf/ohttp`, {
    method: 'POST', body: state.encReq,
    headers: { 'content-type': 'message/ohttp-req', authorization: 'Basic ' + Buffer.from(server.auth).toString('base64') },
  });
  assert.equal(res.status, 200, await res.text());
  const after = await scrape();
  assert.equal(value(after, 'tfaas_confidential_activations_total', { namespace: 'guest', action: 'm-conf' }) -
    value(before, 'tfaas_confidential_activations_total', { namespace: 'guest', action: 'm-conf' }), 1);
  // The function threw after 30 ms inside the enclave: neither shows.
  assert.ok(!after.tfaas_activations_total?.metrics.some((m) => m.labels.action === 'm-conf'),
    'no status series of a confidential action');
  assert.equal(runCount(after), runCount(before), 'no run time of a confidential call');
  assert.equal(Number(after.tfaas_activation_wait_seconds.metrics[0].count),
    Number(before.tfaas_activation_wait_seconds.metrics[0].count));
  assert.ok(value(after, 'tfaas_key_releases_total', { outcome: 'released' }) >= 1);
  assert.ok(value(after, 'tfaas_enclaves', { kind: 'confidential' }) >= 1);
});

describe('who may scrape', () => {
  test('--metrics-access off: 404; the rest of the API is unchanged', async () => {
    const srv = await startServer({ extraArgs: ['--metrics-access', 'off'] });
    try {
      assertError(await api(srv, 'GET', '/metrics', { auth: null }), 404);
      assert.equal((await api(srv, 'GET', '/api/v1/namespaces')).status, 200);
    } finally { await srv.stop(); }
  });

  test('--metrics-access local (the default) refuses a client on another address; any serves it', async (t) => {
    // This host's own non-loopback address: a connection from it is not local.
    const ip = Object.values(networkInterfaces()).flat().find((a) => a.family === 'IPv4' && !a.internal)?.address;
    if (!ip) return t.skip('this host has no non-loopback IPv4 address to connect from');
    for (const [mode, status] of [[null, 403], ['any', 200]]) {
      const srv = await startServer({ extraArgs: ['--listen', `${ip}:0`, ...(mode ? ['--metrics-access', mode] : [])] });
      try {
        const r = await api(srv, 'GET', '/metrics', { auth: null });
        assert.equal(r.status, status, `${mode ?? 'default'}: ${r.text}`);
        if (status === 403) assertError(r, 403, /this host only/);
      } finally { await srv.stop(); }
    }
  });

  test('--metrics-token-file: 401 without the bearer token or with another, 200 with it', async () => {
    const token = 'prometheus-' + 'x'.repeat(24);
    const dir = mkdtempSync(join(tmpdir(), 'tfaas-token-'));
    const file = join(dir, 'metrics.token');
    writeFileSync(file, token + '\n', { mode: 0o600 });
    const srv = await startServer({ extraArgs: ['--metrics-token-file', file] });
    try {
      const none = await api(srv, 'GET', '/metrics', { auth: null });
      assertError(none, 401);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer');
      assertError(await api(srv, 'GET', '/metrics', { auth: null, headers: { authorization: `Bearer ${token}x` } }), 401);
      assertError(await api(srv, 'GET', '/metrics', { auth: null, headers: { authorization: `Bearer ${token.slice(1)}` } }), 401);
      // the namespace's own credentials are not the token
      assertError(await api(srv, 'GET', '/metrics'), 401);
      await scrape(srv, { authorization: `Bearer ${token}` });
    } finally { await srv.stop(); rmSync(dir, { recursive: true, force: true }); }
  });

  test('a token file that is too short is refused at start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfaas-token-'));
    writeFileSync(join(dir, 'short.token'), 'short\n');
    try {
      await assert.rejects(startServer({ stateDir: dir, extraArgs: ['--metrics-token-file', join(dir, 'short.token')] }),
        /16-1024 printable/);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  test('--metrics-access must be local, any or off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfaas-metrics-'));
    try {
      await assert.rejects(startServer({ stateDir: dir, extraArgs: ['--metrics-access', 'everyone'] }),
        /local, any or off/);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});
