// confidential-invokers.test.mjs - end-to-end authorization (docs/protocol.md
// §6.7) with a real server, KMS and worker enclaves, driven by a third-party
// client (@hpke/core, bhttp-js, jose): a policy that names invoker keys makes
// the enclave run only requests one of them signed inside the encapsulation
// (for this function, this Date and this content), so the host, which
// routes, cannot invoke the function itself; such a function is also served
// on the public route without tenant credentials. Every refusal is checked
// with its status and message, on every engine (ENGINE_KINDS); and the
// tfaas CLI's --invoker-key and --sign-with, with and without credentials.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BHttpDecoder } from 'bhttp-js';
import * as jose from 'jose';
import { startServer, api } from '../lib/server.mjs';
import { ENGINE_KINDS } from '../lib/e2e.mjs';
import { runClient } from '../lib/run.mjs';
import {
  confidentialOf, deployBody, engineOf, jwsClaims, kmsSigningKey, policyFor, verifyReceiptChain,
} from '../lib/confidential.mjs';
import { AEADS, bhttpJsonRequest, ohttpClient, ohttpOpenResponse } from '../lib/ohttp-client.mjs';

const CODE = 'function main(p) { return { hello: p.name }; }';
let server;
let attestation;
let kmsKey;
let alice; // an invoker key pair (jose), named in the policies below
let mallory; // a key no policy names

const sha256 = (b) => createHash('sha256').update(b).digest('hex');
const jwkOf = async (pub) => {
  const { crv, kty, x, y } = await jose.exportJWK(pub);
  return { crv, kty, x, y };
};

// The signature of docs/protocol.md §6.7: an ES256 JWS over {target, date,
// content_sha256}, made with jose alone.
async function sign(key, { target, date, content }) {
  const payload = JSON.stringify({ target, date, content_sha256: sha256(content) });
  return new jose.CompactSign(new TextEncoder().encode(payload))
    .setProtectedHeader({ alg: 'ES256', typ: 'tfaas-invoke+jwt', kid: await jose.calculateJwkThumbprint(await jose.exportJWK(key.publicKey)) })
    .sign(key.privateKey);
}

// One OHTTP call of `name` with body; signer {key, target?, content?} signs
// (target and content may be forged to test refusals); auth null uses the
// public route. Returns {res, bytes, state}.
async function call(name, cert, body, { signer, auth = server.auth, ns = 'guest' } = {}) {
  const { payload } = await jose.compactVerify(cert, kmsKey);
  const keys = Buffer.from(JSON.parse(new TextDecoder().decode(payload)).ohttp_keys, 'base64url');
  const date = new Date();
  const content = JSON.stringify(body);
  const headers = {};
  if (signer) {
    headers['tfaas-signature'] = await sign(signer.key, {
      target: signer.target ?? `${ns}/${name}`, date: date.toUTCString(), content: signer.content ?? content,
    });
  }
  const inner = await bhttpJsonRequest(`/${name}`, body, date, headers);
  const state = await ohttpClient(new Uint8Array(keys), AEADS[1], inner);
  const url = auth ? `${server.url}/tfaas/v1/namespaces/_/actions/${name}/ohttp`
    : `${server.url}/tfaas/v1/public/namespaces/${ns}/actions/${name}/ohttp`;
  const h = { 'content-type': 'message/ohttp-req' };
  if (auth) h.authorization = 'Basic ' + Buffer.from(auth).toString('base64');
  const res = await fetch(url, { method: 'POST', body: state.encReq, headers: h });
  return { res, bytes: Buffer.from(await res.arrayBuffer()), state };
}

async function deployWithInvokers(name, kind, invokers) {
  const policy = { ...policyFor(attestation, kind), invokers };
  const r = await api(server, 'PUT', `/tfaas/v1/namespaces/_/actions/${name}`,
    { body: await deployBody(attestation, name, CODE, { kind, policy }) });
  assert.equal(r.status, 200, r.text);
  return confidentialOf(r.body).certificate;
}

before(async () => {
  server = await startServer();
  attestation = (await api(server, 'GET', '/tfaas/v1/attestation', { auth: null })).body;
  kmsKey = await kmsSigningKey(attestation);
  alice = await jose.generateKeyPair('ES256', { extractable: true });
  mallory = await jose.generateKeyPair('ES256', { extractable: true });
});
after(async () => { await server?.stop(); });

for (const kind of ENGINE_KINDS) test(`${kind}: only requests signed by an invoker key run; every refusal has its status and message`, async () => {
  const name = `signed-${engineOf(kind)}`;
  const cert = await deployWithInvokers(name, kind, [await jwkOf(alice.publicKey)]);
  const fc = (await jwsClaims(cert, kmsKey)).claims;
  assert.deepEqual(fc.policy.invokers, [await jwkOf(alice.publicKey)], 'the certificate states the invoker keys');

  // signed by alice: runs, the receipt chain verifies
  let r = await call(name, cert, { name: 'Ada' }, { signer: { key: alice } });
  assert.equal(r.res.status, 200, r.bytes.toString());
  const inner = new BHttpDecoder().decodeResponse(await ohttpOpenResponse(r.state, AEADS[1], new Uint8Array(r.bytes)));
  const { result } = await verifyReceiptChain(inner, kmsKey, fc);
  assert.deepEqual(JSON.parse(result), { hello: 'Ada' });

  const refused = (x, status, why) => {
    assert.equal(x.res.status, status, x.bytes.toString());
    assert.equal(JSON.parse(x.bytes).error,
      `The function accepts only requests signed by one of its invoker keys (tfaas-signature): ${why}.`);
  };
  // the host (or anyone with the tenant's credentials) cannot invoke it unsigned
  refused(await call(name, cert, { name: 'Ada' }), 401, 'no signature');
  refused(await call(name, cert, { name: 'Ada' }, { signer: { key: mallory } }), 403,
    'not signed by an invoker key of the function');
  // a signature moved to other content, or to another function, does not pass
  refused(await call(name, cert, { name: 'Eve' }, { signer: { key: alice, content: JSON.stringify({ name: 'Ada' }) } }), 403,
    'signed for another function, Date or content');
  refused(await call(name, cert, { name: 'Ada' }, { signer: { key: alice, target: `guest/other-${engineOf(kind)}` } }), 403,
    'signed for another function, Date or content');
});

test('the public route: no credentials, only for a function whose policy names invoker keys', async () => {
  const cert = await deployWithInvokers('pub', 'js:duktape', [await jwkOf(alice.publicKey)]);
  // its certificate and key configuration are public too
  const c = await fetch(`${server.url}/tfaas/v1/public/namespaces/guest/actions/pub/certificate`);
  assert.equal(c.status, 200);
  assert.equal(await c.text(), cert);
  const k = await fetch(`${server.url}/tfaas/v1/public/namespaces/guest/actions/pub/ohttp-keys`);
  assert.equal(k.status, 200);
  assert.equal(k.headers.get('content-type'), 'application/ohttp-keys');

  let r = await call('pub', cert, { name: 'Ada' }, { signer: { key: alice }, auth: null });
  assert.equal(r.res.status, 200, r.bytes.toString());
  const inner = new BHttpDecoder().decodeResponse(await ohttpOpenResponse(r.state, AEADS[1], new Uint8Array(r.bytes)));
  assert.equal(inner.status, 200);
  assert.deepEqual(JSON.parse(Buffer.from(await inner.arrayBuffer())), { hello: 'Ada' });
  // the activation is the namespace's like any other
  const id = r.res.headers.get('x-openwhisk-activation-id');
  assert.equal((await api(server, 'GET', `/api/v1/namespaces/_/activations/${id}`)).status, 200);
  // unsigned on the public route: the enclave refuses it all the same
  r = await call('pub', cert, { name: 'Ada' }, { auth: null });
  assert.equal(r.res.status, 401);
  // ... and strangers' refused calls leave no activation record in the namespace
  const refusedId = r.res.headers.get('x-openwhisk-activation-id');
  assert.match(refusedId, /^[0-9a-f]{32}$/);
  assert.equal((await api(server, 'GET', `/api/v1/namespaces/_/activations/${refusedId}`)).status, 404);
  // (with credentials a refusal is recorded, as before)
  r = await call('pub', cert, { name: 'Ada' });
  assert.equal(r.res.status, 401);
  assert.equal((await api(server, 'GET', `/api/v1/namespaces/_/activations/${r.res.headers.get('x-openwhisk-activation-id')}`)).status, 200);

  // a confidential function without invoker keys, a plain action, `_`, an
  // unknown namespace: 404, as if they did not exist
  const open = await api(server, 'PUT', '/tfaas/v1/namespaces/_/actions/open',
    { body: await deployBody(attestation, 'open', CODE) });
  assert.equal(open.status, 200);
  await api(server, 'PUT', '/api/v1/namespaces/_/actions/plain', { body: { exec: { kind: 'js:duktape', code: CODE } } });
  for (const path of ['guest/actions/open/ohttp', 'guest/actions/plain/ohttp', '_/actions/pub/ohttp',
    'nobody/actions/pub/ohttp', 'guest/actions/open/certificate']) {
    const x = await fetch(`${server.url}/tfaas/v1/public/namespaces/${path}`,
      { method: path.endsWith('ohttp') ? 'POST' : 'GET', body: path.endsWith('ohttp') ? Buffer.alloc(80) : undefined,
        headers: { 'content-type': 'message/ohttp-req' } });
    assert.equal(x.status, 404, path);
    assert.equal((await x.json()).error, 'The requested resource does not exist.');
  }
  // no deploy on the public route
  const put = await fetch(`${server.url}/tfaas/v1/public/namespaces/guest/actions/pub`, { method: 'PUT', body: '{}' });
  assert.equal(put.status, 404);
});

test('the KMS refuses invoker keys that are not P-256 JWKs of exactly crv, kty, x, y', async () => {
  const good = await jwkOf(alice.publicKey);
  for (const [invokers, why] of [
    [[], 'the policy\'s invokers must be 1..16 keys'],
    [Array(17).fill(good), 'the policy\'s invokers must be 1..16 keys'],
    [[{ ...good, kid: 'x' }], 'policy invoker 0 is not a P-256 public key as a JWK of exactly crv, kty, x and y'],
    [[good, { ...good, y: good.x }], 'policy invoker 1 is not a P-256 public key as a JWK of exactly crv, kty, x and y'],
  ]) {
    const r = await api(server, 'PUT', '/tfaas/v1/namespaces/_/actions/badinv',
      { body: await deployBody(attestation, 'badinv', CODE, { policy: { ...policyFor(attestation), invokers } }) });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.body.error, `The key service refused the deploy: ${why}`);
  }
});

test('the CLI: create --invoker-key, invoke --sign-with (also without credentials, through the public route)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfaas-invokers-'));
  try {
    for (const who of ['alice', 'mallory']) {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      writeFileSync(join(dir, `${who}.pub.pem`), publicKey.export({ type: 'spki', format: 'pem' }));
      writeFileSync(join(dir, `${who}.pem`), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    }
    writeFileSync(join(dir, 'f.js'), CODE);
    const tfaas = (args, auth = true) => runClient(args, { dir, server, auth });
    let r = await tfaas(['attest', '--root', join(server.stateDir, 'sim-platform.pem')]);
    assert.equal(r.code, 0, r.stderr);
    r = await tfaas(['action', 'create', 'clisigned', join(dir, 'f.js'), '--confidential',
      '--invoker-key', join(dir, 'alice.pub.pem')]);
    assert.equal(r.code, 0, r.stderr);
    r = await tfaas(['action', 'invoke', 'clisigned', '--confidential', '-p', 'name', 'Ada']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /The function accepts only requests signed by one of its invoker keys \(tfaas-signature\): no signature\./);
    r = await tfaas(['action', 'invoke', 'clisigned', '--confidential', '-p', 'name', 'Ada', '--sign-with', join(dir, 'mallory.pem')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not signed by an invoker key of the function/);
    r = await tfaas(['action', 'invoke', 'clisigned', '--confidential', '-p', 'name', 'Ada', '--sign-with', join(dir, 'alice.pem')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { hello: 'Ada' });
    assert.match(r.stderr, /receipt verified: guest\/clisigned version 1/);
    // no credentials at all: the public route, the same receipt chain
    r = await tfaas(['action', 'invoke', 'clisigned', '--confidential', '-p', 'name', 'Bo', '--sign-with', join(dir, 'alice.pem')], false);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { hello: 'Bo' });
    r = await tfaas(['action', 'invoke', 'clisigned', '--confidential', '-p', 'name', 'Bo'], false);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no credentials/);
    r = await tfaas(['action', 'create', 'clibad', join(dir, 'f.js'), '--confidential', '--invoker-key', join(dir, 'f.js')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--invoker-key .*f\.js: not a P-256 public key in PEM/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
