// confidential-invoke.test.mjs - confidential invocation end to end with a
// real server, KMS and worker enclaves, driven by a third-party client (JS:
// @hpke/core, bhttp-js, jose) written from docs/protocol.md: deploy, OHTTP
// request, sealed response, receipt chain, encrypted logs, and every
// refusal (tampered, truncated, unknown key id, replay, stale Date, nesting
// past the JSON limit, a worker the policy does not accept), and replays that
// reach a restarted worker (the replay leases of docs/protocol.md §6.6), on
// every engine (ENGINE_KINDS: the V8 worker recognises the key service like
// the Duktape one) and in every isolation mode; and sealed default
// parameters (secrets) merged inside the enclave.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createDecipheriv } from 'node:crypto';
import { BHttpDecoder } from 'bhttp-js';
import * as jose from 'jose';
import { startServer, api, sleep } from '../lib/server.mjs';
import { ENGINE_KINDS, poll } from '../lib/e2e.mjs';
import { enclavePids, kmsPid } from '../lib/faults.mjs';
import {
  confidentialOf, deployBody, engineOf, jwsClaims, kmsSigningKey, verifyReceiptChain,
} from '../lib/confidential.mjs';
import { AEADS, bhttpJsonRequest, ohttpClient, ohttpOpenResponse } from '../lib/ohttp-client.mjs';

const CODE = 'function main(p) { console.log("seen " + p.name); return { greeting: "Hello, " + p.name }; }';
let server;
let attestation;
let kmsKey;

const b64u = (s) => Buffer.from(s, 'base64url');
const sha256 = (b) => createHash('sha256').update(b).digest('hex');

async function deploy(name, opts, srv = server) {
  const r = await api(srv, 'PUT', `/tfaas/v1/namespaces/_/actions/${name}`, { body: await deployBody(attestation, name, CODE, opts) });
  assert.equal(r.status, 200, r.text);
  return confidentialOf(r.body).certificate;
}

// An OHTTP request for `name` with a JSON body; returns the fetch response and the client state.
async function invoke(name, certificate, body, { aead = AEADS[1], date = new Date(), mutate, raw, srv = server } = {}) {
  const { payload } = await jose.compactVerify(certificate, kmsKey);
  const keys = b64u(JSON.parse(new TextDecoder().decode(payload)).ohttp_keys);
  const inner = await bhttpJsonRequest(`/${name}`, body, date);
  const state = await ohttpClient(new Uint8Array(keys), aead, inner);
  let encReq = raw ?? state.encReq;
  if (mutate) encReq = mutate(Buffer.from(encReq));
  const res = await fetch(`${srv.url}/tfaas/v1/namespaces/_/actions/${name}/ohttp`, {
    method: 'POST', body: encReq,
    headers: { 'content-type': 'message/ohttp-req', authorization: 'Basic ' + Buffer.from(srv.auth).toString('base64') },
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { res, bytes, state, aead, encReq: Buffer.from(encReq) };
}

before(async () => {
  server = await startServer();
  attestation = (await api(server, 'GET', '/tfaas/v1/attestation', { auth: null })).body;
  kmsKey = await kmsSigningKey(attestation);
});
after(async () => { await server?.stop(); });

for (const kind of ENGINE_KINDS) for (const aead of AEADS) {
  test(`${kind}: deploy -> OHTTP invoke (${aead.name}) -> sealed response, receipt chain and logs verified`, async () => {
    const name = `hello-${engineOf(kind)}-${aead.id}`;
    const cert = await deploy(name, { kind });
    const { res, bytes, state, encReq } = await invoke(name, cert, { name: 'Ada' }, { aead });
    assert.equal(res.status, 200, bytes.toString());
    assert.equal(res.headers.get('content-type'), 'message/ohttp-res');
    const inner = new BHttpDecoder().decodeResponse(await ohttpOpenResponse(state, aead, new Uint8Array(bytes)));
    assert.equal(inner.status, 200);

    // the chain: receipt <- worker certificate <- KMS key <- KMS evidence
    // <- platform root, all inside the sealed response
    const fcert = (await jwsClaims(cert, kmsKey)).claims;
    assert.equal(fcert.version, 1);
    const { receipt, batch, worker, result } = await verifyReceiptChain(inner, kmsKey, fcert);
    assert.deepEqual(JSON.parse(result), { greeting: 'Hello, Ada' });
    assert.equal(worker.sub, `guest/${name}`);
    assert.equal(worker.measurement, attestation.workers[engineOf(kind)], `a ${engineOf(kind)} worker ran it`);
    assert.match(worker.engine, new RegExp(`^${engineOf(kind)}/`));
    assert.deepEqual([receipt.namespace, receipt.name, receipt.version], ['guest', name, 1]);
    assert.equal(receipt.code_hash, sha256(CODE));
    assert.equal(receipt.request_sha256, sha256(encReq));
    assert.equal(receipt.activation_id, res.headers.get('x-openwhisk-activation-id'));
    assert.equal(receipt.status, 200);
    assert.ok(receipt.cpu_time_us >= 0 && receipt.peak_memory > 0);

    // nothing in the clear carries the receipt, a status or a resource
    // figure: not the response headers, not the activation record
    assert.equal(res.headers.get('tfaas-receipt'), null);
    assert.equal(res.headers.get('tfaas-worker-certificate'), null);
    const rec = (await api(server, 'GET', `/api/v1/namespaces/_/activations/${receipt.activation_id}`)).body;
    assert.deepEqual(rec.response.result, {});
    assert.equal(rec.response.status, 'success');
    assert.equal(rec.duration, 0);
    assert.ok(!rec.annotations.some((a) => a.key === 'initTime'), 'no enclave timing in the record');
    const recText = JSON.stringify(rec);
    assert.ok(!recText.includes(batch.claimsB64) && !recText.includes(receipt.nonce), 'the record holds the receipt');
    assert.ok(!/peak_memory|cpu_time_us/.test(recText));
    assert.equal(rec.logs.length, 1);
    assert.ok(!rec.logs[0].includes('seen Ada'));
    const key = Buffer.from(await state.sender.export(new TextEncoder().encode('tfaas logs v1'), 32));
    const box = b64u(rec.logs[0]);
    const d = createDecipheriv('chacha20-poly1305', key, box.subarray(0, 12), { authTagLength: 16 });
    d.setAAD(Buffer.from('tfaas logs v1'));
    d.setAuthTag(box.subarray(box.length - 16));
    const logs = Buffer.concat([d.update(box.subarray(12, box.length - 16)), d.final()]).toString();
    assert.match(logs, /stdout: seen Ada$/);
  });
}

// Secrets: confidential default parameters, sealed in the deploy package
// (docs/protocol.md §6.2 `params`), merged inside the enclave under the
// request's parameters (request wins, as for OpenWhisk's defaults).
for (const kind of ENGINE_KINDS) test(`${kind}: sealed default parameters are merged in the enclave, the request overrides them`, async () => {
  const name = `secrets-${engineOf(kind)}`;
  const code = 'function main(p) { return { key: p.apikey, region: p.region, name: p.name }; }';
  const r = await api(server, 'PUT', `/tfaas/v1/namespaces/_/actions/${name}`, { body: await deployBody(attestation,
    name, code, { kind, pkg: { params: { apikey: 'sk-sealed-1', region: { id: 'eu' } } } }) });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.parameters, [], 'the host stores no parameter of a confidential action');
  assert.ok(!r.text.includes('sk-sealed-1'), 'the stored action holds the secret');
  const cert = confidentialOf(r.body).certificate;
  const open = async (body) => {
    const { res, bytes, state, aead } = await invoke(name, cert, body);
    assert.equal(res.status, 200, bytes.toString());
    const inner = new BHttpDecoder().decodeResponse(await ohttpOpenResponse(state, aead, new Uint8Array(bytes)));
    const { result } = await verifyReceiptChain(inner, kmsKey, (await jwsClaims(cert, kmsKey)).claims);
    return JSON.parse(result);
  };
  assert.deepEqual(await open({ name: 'Ada' }), { key: 'sk-sealed-1', region: { id: 'eu' }, name: 'Ada' });
  assert.deepEqual(await open({ apikey: 'mine' }), { key: 'mine', region: { id: 'eu' } });
  // secrets up to what the 64 KiB package holds reach the function whole
  const big = `${name}-big`;
  const r2 = await api(server, 'PUT', `/tfaas/v1/namespaces/_/actions/${big}`, { body: await deployBody(attestation,
    big, 'function main(p) { return { n: p.blob.length, tail: p.blob.slice(-3) }; }',
    { kind, pkg: { params: { blob: 'x'.repeat(60 * 1024) + 'end' } } }) });
  assert.equal(r2.status, 200, r2.text);
  const cert2 = confidentialOf(r2.body).certificate;
  const { res, bytes, state, aead } = await invoke(big, cert2, {});
  assert.equal(res.status, 200, bytes.toString());
  const inner = new BHttpDecoder().decodeResponse(await ohttpOpenResponse(state, aead, new Uint8Array(bytes)));
  assert.deepEqual(JSON.parse(Buffer.from(await inner.arrayBuffer())), { n: 60 * 1024 + 3, tail: 'end' });
});

test('the KMS refuses params that are not a JSON object, or nested past the limit', async () => {
  for (const [params, i] of [[['a'], 0], ['s', 1], [JSON.parse('{"a":'.repeat(1001) + '1' + '}'.repeat(1001)), 2]]) {
    const r = await api(server, 'PUT', `/tfaas/v1/namespaces/_/actions/badparams-${i}`,
      { body: await deployBody(attestation, `badparams-${i}`, CODE, { pkg: { params } }) });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.body.error, 'The key service refused the deploy: the deploy package\'s params must be a JSON ' +
      'object nested at most 1000 levels deep');
  }
});

test('a function error is sealed too: the host sees success, the client the 502', async () => {
  const name = 'thrower';
  const r = await api(server, 'PUT', `/tfaas/v1/namespaces/_/actions/${name}`,
    { body: await deployBody(attestation, name, 'function main() { throw new Error("secret failure"); }') });
  const cert = confidentialOf(r.body).certificate;
  const { res, bytes, state, aead } = await invoke(name, cert, {});
  assert.equal(res.status, 200);
  const inner = new BHttpDecoder().decodeResponse(await ohttpOpenResponse(state, aead, new Uint8Array(bytes)));
  assert.equal(inner.status, 502);
  // the receipt states the 502 too, and only the client reads it
  const { receipt, result } = await verifyReceiptChain(inner, kmsKey, (await jwsClaims(cert, kmsKey)).claims);
  assert.equal(receipt.status, 502);
  assert.match(result.toString(), /secret failure/);
  const rec = (await api(server, 'GET', `/api/v1/namespaces/_/activations/${receipt.activation_id}`)).body;
  assert.equal(rec.response.status, 'success');
  assert.deepEqual(rec.response.result, {});
});

for (const kind of ENGINE_KINDS) test(`${kind}: refusals: tampered, truncated, unknown key id, wrong suite, replay, stale or missing Date`, async () => {
  const guarded = `guarded-${engineOf(kind)}`;
  const cert = await deploy(guarded, { kind });
  const ok = await invoke(guarded, cert, { name: 'x' });
  assert.equal(ok.res.status, 200);
  // replay: the very same bytes again
  let r = await invoke(guarded, cert, {}, { raw: ok.encReq });
  assert.equal(r.res.status, 400);
  assert.match(r.bytes.toString(), /replay/);
  r = await invoke(guarded, cert, {}, { mutate: (b) => { b[b.length - 1] ^= 1; return b; } });
  assert.equal(r.res.status, 400);
  assert.match(r.bytes.toString(), /authentication failed/);
  r = await invoke(guarded, cert, {}, { mutate: (b) => b.subarray(0, 50) });
  assert.equal(r.res.status, 400);
  assert.match(r.bytes.toString(), /truncated/);
  r = await invoke(guarded, cert, {}, { mutate: (b) => { b[0] ^= 0xff; return b; } });
  assert.equal(r.res.status, 400);
  assert.match(r.bytes.toString(), /unknown key id/);
  r = await invoke(guarded, cert, {}, { mutate: (b) => { b[6] = 0x02; return b; } });
  assert.equal(r.res.status, 400);
  assert.match(r.bytes.toString(), /not supported|suite/);
  r = await invoke(guarded, cert, {}, { date: new Date(Date.now() - 10 * 60 * 1000) });
  assert.equal(r.res.status, 400);
  assert.match(r.bytes.toString(), /Date header/);
  r = await invoke(guarded, cert, {}, { date: null });
  assert.equal(r.res.status, 400);
  // not OHTTP at all
  const plain = await fetch(`${server.url}/tfaas/v1/namespaces/_/actions/${guarded}/ohttp`, {
    method: 'POST', body: '{}', headers: { 'content-type': 'application/json', authorization: 'Basic ' + Buffer.from(server.auth).toString('base64') } });
  assert.equal(plain.status, 415);
  // and the function still works afterwards
  assert.equal((await invoke(guarded, cert, { name: 'y' })).res.status, 200);
});

// The one JSON nesting limit (src/common/json_depth.h) holds for the inner
// request too, checked inside the enclave since the host cannot read it.
test('an inner request nested deeper than 1000 levels: 400 naming the limit; 1000 levels run', async () => {
  const cert = await deploy('deep');
  const nested = (depth) => {
    let v = [];
    for (let i = 0; i < depth - 2; i++) v = [v];
    return { name: 'deep', a: v }; // the object, then depth - 1 arrays
  };
  const r = await invoke('deep', cert, nested(1001));
  assert.equal(r.res.status, 400, `a sealed answer of ${r.bytes.length} bytes: the enclave took the request`);
  assert.match(r.bytes.toString(), /nested too deeply: at most 1000 levels/);
  const ok = await invoke('deep', cert, nested(1000));
  assert.equal(ok.res.status, 200);
  const inner = new BHttpDecoder().decodeResponse(await ohttpOpenResponse(ok.state, ok.aead, new Uint8Array(ok.bytes)));
  const text = await inner.text();
  assert.equal(inner.status, 200, text);
  assert.deepEqual(JSON.parse(text), { greeting: 'Hello, deep' });
});

for (const kind of ENGINE_KINDS) test(`${kind}: a worker the policy does not accept (measurement, engine, TEE kind, TCB status) gets no keys: 403, nothing decrypted`, async () => {
  const engine = engineOf(kind);
  const other = 'ab'.repeat(32);
  const cert = await deploy(`strict-${engine}`, { kind, policy: { measurements: [other], engine } });
  const r = await invoke(`strict-${engine}`, cert, { name: 'x' });
  assert.equal(r.res.status, 403);
  assert.match(r.bytes.toString(), /not accepted by the function's policy/);
  // the policy names the other engine: the worker that runs this kind is refused
  const wrong = engine === 'duktape' ? 'v8' : 'duktape';
  const measurements = [attestation.workers[engine], ...(attestation.workers[wrong] ? [attestation.workers[wrong]] : [])];
  const cert2 = await deploy(`mismatch-${engine}`, { kind, policy: { measurements, engine: wrong } });
  const r2 = await invoke(`mismatch-${engine}`, cert2, { name: 'x' });
  assert.equal(r2.res.status, 403);
  assert.match(r2.bytes.toString(), new RegExp(`engine ${engine}/.* is not accepted by the function's policy`));
  // the KMS's own measurement names no worker
  const cert3 = await deploy(`kmsonly-${engine}`, { kind, policy: { measurements: [attestation.measurement], engine } });
  const r3 = await invoke(`kmsonly-${engine}`, cert3, { name: 'x' });
  assert.equal(r3.res.status, 403);
  // the right measurement and engine, but only hardware TEE kinds, or a
  // minimum TCB status, which sim evidence has none of (protocol.md §6.1)
  const own = { measurements: [attestation.workers[engine]], engine };
  for (const [n, extra] of [['hwonly', { tee: ['sgx', 'tdx', 'sev-snp'] }], ['mintcb', { min_tcb_status: 'OutOfDate' }]]) {
    const c = await deploy(`${n}-${engine}`, { kind, policy: { ...own, ...extra } });
    const rr = await invoke(`${n}-${engine}`, c, { name: 'x' });
    assert.equal(rr.res.status, 403, n);
    assert.match(rr.bytes.toString(), /not accepted by the function's policy/);
  }
  // control: naming sim among the kinds keeps the worker accepted
  const c4 = await deploy(`simok-${engine}`, { kind, policy: { ...own, tee: ['sgx', 'sim'] } });
  assert.equal((await invoke(`simok-${engine}`, c4, { name: 'x' })).res.status, 200);
});

test('code the host altered in storage is refused: 500 with the reason, nothing run', async () => {
  // another box of the code under a key the KMS never saw (the host cannot
  // make a valid one): it does not decrypt
  const good = await deployBody(attestation, 'altered', CODE);
  const other = await deployBody(attestation, 'altered', CODE);
  let r = await api(server, 'PUT', '/tfaas/v1/namespaces/_/actions/altered', { body: { ...good, code: other.code } });
  assert.equal(r.status, 200, r.text);
  let res = await invoke('altered', confidentialOf(r.body).certificate, { name: 'x' });
  assert.equal(res.res.status, 500);
  assert.equal(JSON.parse(res.bytes).error,
    "The function's stored code does not decrypt with its code key: it was altered in storage.");
  // code that decrypts but is not the code the certificate names
  r = await api(server, 'PUT', '/tfaas/v1/namespaces/_/actions/uncertified',
    { body: await deployBody(attestation, 'uncertified', CODE, { pkg: { code_hash: sha256('other code') } }) });
  assert.equal(r.status, 200, r.text);
  res = await invoke('uncertified', confidentialOf(r.body).certificate, { name: 'x' });
  assert.equal(res.res.status, 500);
  assert.equal(JSON.parse(res.bytes).error,
    "The function's stored code is not the code its certificate names (code_hash): it was altered in storage.");
});

test('an OHTTP request of 2 MiB is accepted (the limit is 16 MiB, not the 1 MiB of other bodies); past 16 MiB: 413', async () => {
  const name = 'big';
  const r = await api(server, 'PUT', `/tfaas/v1/namespaces/_/actions/${name}`,
    { body: await deployBody(attestation, name, 'function main(p) { return { n: p.s.length }; }') });
  const cert = confidentialOf(r.body).certificate;
  const { res, bytes, state, aead } = await invoke(name, cert, { s: 'x'.repeat(2 << 20) });
  assert.equal(res.status, 200, bytes.toString().slice(0, 300));
  const inner = new BHttpDecoder().decodeResponse(await ohttpOpenResponse(state, aead, new Uint8Array(bytes)));
  assert.deepEqual(JSON.parse(await inner.text()), { n: 2 << 20 });
  const huge = await invoke(name, cert, {}, { raw: Buffer.alloc((16 << 20) + 1) });
  assert.equal(huge.res.status, 413);
});

test('a replay sent to a restarted worker (and KMS) is refused: the new worker\'s lease starts after the old one\'s', async () => {
  const name = 'once';
  const cert = await deploy(name);
  const first = await invoke(name, cert, { name: 'x' });
  assert.equal(first.res.status, 200);
  const wc = (await jwsClaims(new BHttpDecoder().decodeResponse(
    await ohttpOpenResponse(first.state, first.aead, new Uint8Array(first.bytes))).headers.get('tfaas-worker-certificate'),
  kmsKey)).claims;
  assert.ok(wc.accept_from <= wc.iat && wc.accept_until === Math.max(wc.accept_from, wc.iat) + 10, JSON.stringify(wc));
  // the host kills the worker that answered, and the key service too
  const workers = enclavePids(server.proc.pid);
  assert.ok(workers.length >= 1, 'a worker enclave runs');
  for (const pid of [...workers, kmsPid(server.proc.pid)]) process.kill(pid, 'SIGKILL');
  await sleep(100);
  // ... and sends the same request again: a fresh worker never saw it
  const replay = await invoke(name, cert, {}, { raw: first.encReq });
  assert.equal(replay.res.status, 503, replay.bytes.toString());
  assert.match(JSON.parse(replay.bytes).error,
    /^Requests dated before \d+ \(Unix time\) belong to an earlier worker enclave of this function \(replay protection\); try again in -?\d+ s\.$/);
  // fresh requests work again once the dead worker's lease (at most
  // REPLAY_LEASE_S = 10 s past its release) has run out
  const ok = await poll(async () => (await invoke(name, cert, { name: 'y' })).res.status === 200,
    { timeoutMs: (wc.accept_until - Math.floor(Date.now() / 1000) + 15) * 1000, intervalMs: 500 });
  assert.ok(ok, 'a fresh request is served after the old lease');
  // and the old request stays refused
  const again = await invoke(name, cert, {}, { raw: first.encReq });
  assert.ok([400, 503].includes(again.res.status), again.bytes.toString());
});

test('a Date further ahead than a lease reaches is refused after one renewal', async () => {
  const cert = await deploy('ahead');
  const warm = await invoke('ahead', cert, { name: 'x' });
  assert.equal(warm.res.status, 200, warm.bytes.toString());
  const r = await invoke('ahead', cert, {}, { date: new Date(Date.now() + 40 * 1000) });
  assert.equal(r.res.status, 400);
  assert.equal(JSON.parse(r.bytes).error, "The inner request's Date is ahead of what this worker may accept even after "
    + "a lease renewal (replay protection); check the client's clock.");
  assert.equal((await invoke('ahead', cert, { name: 'y' })).res.status, 200);
});

// Confidential functions run in enclaves of their own in every mode; each
// mode and engine gets keys and answers with a receipt by its worker.
for (const isolation of ['enclave-per-function', 'enclave-per-tenant', 'shared-enclave']) {
  test(`--isolation ${isolation}: every engine deploys, invokes and signs receipts`, async () => {
    const srv = await startServer({ extraArgs: ['--isolation', isolation] });
    try {
      const att = (await api(srv, 'GET', '/tfaas/v1/attestation', { auth: null })).body;
      const key = await kmsSigningKey(att);
      for (const kind of ENGINE_KINDS) {
        const name = `iso-${engineOf(kind)}`;
        const r = await api(srv, 'PUT', `/tfaas/v1/namespaces/_/actions/${name}`, { body: await deployBody(att, name, CODE, { kind }) });
        assert.equal(r.status, 200, r.text);
        const cert = confidentialOf(r.body).certificate;
        const { payload } = await jose.compactVerify(cert, key);
        const keys = b64u(JSON.parse(new TextDecoder().decode(payload)).ohttp_keys);
        const state = await ohttpClient(new Uint8Array(keys), AEADS[1], await bhttpJsonRequest(`/${name}`, { name: 'Iso' }, new Date()));
        const res = await fetch(`${srv.url}/tfaas/v1/namespaces/_/actions/${name}/ohttp`, {
          method: 'POST', body: state.encReq,
          headers: { 'content-type': 'message/ohttp-req', authorization: 'Basic ' + Buffer.from(srv.auth).toString('base64') },
        });
        const bytes = Buffer.from(await res.arrayBuffer());
        assert.equal(res.status, 200, bytes.toString());
        const inner = new BHttpDecoder().decodeResponse(await ohttpOpenResponse(state, AEADS[1], new Uint8Array(bytes)));
        const fcert = (await jwsClaims(cert, key)).claims;
        const { receipt, worker, result } = await verifyReceiptChain(inner, key, fcert);
        assert.deepEqual(JSON.parse(result), { greeting: 'Hello, Iso' });
        assert.equal(worker.measurement, att.workers[engineOf(kind)]);
        assert.deepEqual([receipt.namespace, receipt.name], ['guest', name]);
      }
    } finally {
      await srv.stop();
    }
  });
}

// Receipts signed in batches (docs/protocol.md §6.5): with the function's
// concurrency 1 the host sends the calls beyond it to wait in its lane, and
// the worker that runs them signs one root for several. The first call
// spins for 200 ms so that the others are all waiting by the time it ends.
// RFC 9162 §2.1.3's audit path length of leaf m in a tree of n leaves: the
// tree splits at the largest power of two below n, and the path takes one
// hash per split on the way down. Not always floor or ceil of log2(n): in a
// tree of 5 the fifth leaf's path is the first four's root alone.
function auditPathLength(m, n) {
  if (n <= 1) return 0;
  let k = 1;
  while (k * 2 < n) k *= 2;
  return 1 + (m < k ? auditPathLength(m, k) : auditPathLength(m - k, n - k));
}

test('concurrent calls share a signed root: each requester verifies its own receipt and learns nothing of the others\' claims', async () => {
  const code = 'function main(p) { var t = Date.now(); while (Date.now() - t < (p.spin || 0)) {} return { n: p.n }; }';
  const name = 'batched';
  const r = await api(server, 'PUT', `/tfaas/v1/namespaces/_/actions/${name}`,
    { body: { ...(await deployBody(attestation, name, code)), limits: { concurrency: 1 } } });
  assert.equal(r.status, 200, r.text);
  const cert = confidentialOf(r.body).certificate;
  const fcert = (await jwsClaims(cert, kmsKey)).claims;
  const N = 16;
  // Bounded: a round is 16 calls; on a machine so loaded that no two calls
  // of 1 ms fit into a batch's window three times over, the test fails.
  let calls;
  for (let round = 0; round < 3; round++) {
    const first = invoke(name, cert, { n: 0, spin: 200 });
    await sleep(50);
    const rest = Array.from({ length: N - 1 }, (_, i) => invoke(name, cert, { n: i + 1 }));
    calls = [];
    for (const [i, c] of [first, ...rest].entries()) {
      const { res, bytes, state, aead, encReq } = await c;
      assert.equal(res.status, 200, bytes.toString());
      const inner = new BHttpDecoder().decodeResponse(await ohttpOpenResponse(state, aead, new Uint8Array(bytes)));
      const v = await verifyReceiptChain(inner, kmsKey, fcert);
      assert.deepEqual(JSON.parse(v.result), { n: i });
      assert.equal(v.receipt.request_sha256, sha256(encReq), 'each receipt is its own requester\'s');
      calls.push({ v, text: inner.headers.get('tfaas-receipt') + v.result.toString() });
    }
    if (calls.some((c) => c.v.batch.root.size > 1)) break;
  }
  const batches = new Map();
  for (const c of calls) {
    const key = JSON.parse(c.v.receiptField).root;
    if (!batches.has(key)) batches.set(key, []);
    batches.get(key).push(c);
  }
  const shared = [...batches.values()].filter((b) => b.length > 1);
  assert.ok(shared.length > 0, `a batch of more than one call: sizes ${calls.map((c) => c.v.batch.root.size)}`);
  for (const b of shared) {
    // one root, its size, a distinct leaf each, proofs as long as the tree is deep
    assert.equal(b.length, b[0].v.batch.root.size, 'every call of the batch was one of ours');
    assert.deepEqual(b.map((c) => c.v.batch.index).sort((x, y) => x - y), [...b.keys()]);
    for (const c of b) {
      assert.equal(c.v.batch.proof.length, auditPathLength(c.v.batch.index, b.length),
        `proof of leaf ${c.v.batch.index} in a batch of ${b.length}`);
    }
    for (const c of b) for (const o of b) {
      if (o === c) continue;
      // nothing of another call's claims is in this response...
      for (const k of ['activation_id', 'request_sha256', 'result_sha256', 'nonce']) {
        assert.ok(!c.text.includes(o.v.receipt[k]), `a response holds another call's ${k}`);
      }
      assert.ok(!c.text.includes(o.v.batch.claimsB64));
    }
    // ...and a sibling hash cannot confirm a guess of its claims: the
    // neighbour's exact claims hash to the sibling, the same claims with any
    // other nonce do not
    const [a, nb] = [b.find((c) => c.v.batch.index === 0), b.find((c) => c.v.batch.index === 1)];
    const leafOf = (text) => createHash('sha256').update(Buffer.concat([Buffer.from([0]), Buffer.from(text)])).digest('base64url');
    const nbText = b64u(nb.v.batch.claimsB64).toString();
    assert.equal(a.v.batch.proof[0], leafOf(nbText));
    assert.notEqual(a.v.batch.proof[0], leafOf(nbText.replace(nb.v.receipt.nonce, 'A'.repeat(22))));
  }
});
