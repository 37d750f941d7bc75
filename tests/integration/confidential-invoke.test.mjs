// confidential-invoke.test.mjs - confidential invocation end to end with a
// real server, KMS and worker enclaves, driven by a third-party client (JS:
// @hpke/core, bhttp-js, jose) written from docs/protocol.md: deploy, OHTTP
// request, sealed response, receipt chain, encrypted logs, and every
// refusal (tampered, truncated, unknown key id, replay, stale Date, nesting
// past the JSON limit, a worker the policy does not accept), on every engine
// (ENGINE_KINDS: the V8 worker recognises the key service like the Duktape
// one) and in every isolation mode.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createDecipheriv } from 'node:crypto';
import { BHttpDecoder } from 'bhttp-js';
import * as jose from 'jose';
import { startServer, api } from '../lib/server.mjs';
import { confidentialOf, deployBody, engineOf, kmsSigningKey, policyFor } from '../lib/confidential.mjs';
import { ENGINE_KINDS } from '../lib/e2e.mjs';
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
    assert.deepEqual(JSON.parse(await inner.text()), { greeting: 'Hello, Ada' });

    // the chain: receipt <- worker certificate <- KMS key <- KMS evidence <- platform root
    const fcert = JSON.parse(new TextDecoder().decode((await jose.compactVerify(cert, kmsKey)).payload));
    const wc = await jose.compactVerify(res.headers.get('tfaas-worker-certificate'), kmsKey);
    assert.equal(wc.protectedHeader.typ, 'tfaas-worker+jwt');
    const wclaims = JSON.parse(new TextDecoder().decode(wc.payload));
    assert.equal(wclaims.sub, `guest/${name}`);
    assert.ok(fcert.policy.measurements.includes(wclaims.measurement), 'the worker satisfies the policy');
    assert.equal(wclaims.measurement, attestation.workers[engineOf(kind)], `a ${engineOf(kind)} worker ran it`);
    assert.match(wclaims.engine, new RegExp(`^${engineOf(kind)}/`));
    const workerKey = await jose.importJWK({ ...wclaims.worker_key, alg: 'ES256' }, 'ES256');
    const rc = await jose.compactVerify(res.headers.get('tfaas-receipt'), workerKey);
    assert.equal(rc.protectedHeader.typ, 'tfaas-receipt+jwt');
    const receipt = JSON.parse(new TextDecoder().decode(rc.payload));
    assert.equal(receipt.function, `guest/${name}`);
    assert.equal(receipt.code_hash, fcert.code_hash);
    assert.equal(receipt.code_hash, sha256(CODE));
    assert.equal(receipt.measurement, wclaims.measurement);
    assert.equal(receipt.request_sha256, sha256(encReq));
    assert.equal(receipt.response_sha256, sha256(bytes));
    assert.equal(receipt.activation_id, res.headers.get('x-openwhisk-activation-id'));
    assert.equal(receipt.status, 200);
    assert.ok(receipt.cpu_time_us >= 0 && receipt.peak_memory > 0);

    // the activation record: receipt only, logs sealed to the requester
    const rec = (await api(server, 'GET', `/api/v1/namespaces/_/activations/${receipt.activation_id}`)).body;
    assert.equal(rec.response.result.receipt, res.headers.get('tfaas-receipt'));
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

test('a function error is sealed too: the host sees success, the client the 502', async () => {
  const name = 'thrower';
  const r = await api(server, 'PUT', `/tfaas/v1/namespaces/_/actions/${name}`,
    { body: await deployBody(attestation, name, 'function main() { throw new Error("secret failure"); }') });
  const cert = confidentialOf(r.body).certificate;
  const { res, bytes, state, aead } = await invoke(name, cert, {});
  assert.equal(res.status, 200);
  const inner = new BHttpDecoder().decodeResponse(await ohttpOpenResponse(state, aead, new Uint8Array(bytes)));
  assert.equal(inner.status, 502);
  assert.match(await inner.text(), /secret failure/);
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

for (const kind of ENGINE_KINDS) test(`${kind}: a worker the policy does not accept gets no keys: 403, nothing decrypted`, async () => {
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
        assert.deepEqual(JSON.parse(await inner.text()), { greeting: 'Hello, Iso' });
        const wclaims = JSON.parse(new TextDecoder().decode(
          (await jose.compactVerify(res.headers.get('tfaas-worker-certificate'), key)).payload));
        assert.equal(wclaims.measurement, att.workers[engineOf(kind)]);
        const workerKey = await jose.importJWK({ ...wclaims.worker_key, alg: 'ES256' }, 'ES256');
        const receipt = JSON.parse(new TextDecoder().decode(
          (await jose.compactVerify(res.headers.get('tfaas-receipt'), workerKey)).payload));
        assert.equal(receipt.function, `guest/${name}`);
        assert.equal(receipt.response_sha256, sha256(bytes));
      }
    } finally {
      await srv.stop();
    }
  });
}
