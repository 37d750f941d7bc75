// confidential.test.mjs - confidential deploy end to end with a real server
// and KMS enclave: the CLI (`tfaas attest`, `action create --confidential`)
// and a JavaScript client written from docs/protocol.md, every refusal of a
// deploy, the published key configuration and certificate, and ciphertext
// only in the state directory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jose from 'jose';
import { startServer, api } from '../lib/server.mjs';
import { runClient } from '../lib/run.mjs';
import { assertStateLacks, confidentialOf, deployBody, kmsSigningKey, policyFor } from '../lib/confidential.mjs';
import { ENGINE_KINDS } from '../lib/e2e.mjs';

const CANARY = 'CANARY-deploy-7f3a9c';
const CODE = `function main(p) { return { greeting: "${CANARY} " + p.name }; }`;
let server;
let dir;
let attestation;

const tfaas = (args, extra) => runClient(args, { dir, server, env: extra });
const put = (name, body, query = '') => api(server, 'PUT', `/tfaas/v1/namespaces/_/actions/${name}${query}`, { body });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tfaas-conf-'));
  server = await startServer();
  writeFileSync(join(dir, 'f.js'), CODE);
  attestation = (await api(server, 'GET', '/tfaas/v1/attestation', { auth: null })).body;
});
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the CLI refuses a confidential deploy before tfaas attest', async () => {
  const r = await tfaas(['action', 'create', 'early', join(dir, 'f.js'), '--confidential']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /run `tfaas attest` first/);
});

test('tfaas action create --confidential: certificate verified, ciphertext stored', async () => {
  const a = await tfaas(['attest', '--root', join(server.stateDir, 'sim-platform.pem')]);
  assert.equal(a.code, 0, a.stderr);
  const r = await tfaas(['action', 'create', 'hello', join(dir, 'f.js'), '--confidential']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /ok: created confidential action guest\/hello version 1 \(certificate verified/);

  const doc = (await api(server, 'GET', '/api/v1/namespaces/_/actions/hello?code=true')).body;
  assert.ok(!doc.exec.code.includes(CANARY), 'the stored code is ciphertext');
  const conf = confidentialOf(doc);
  // the certificate is a JWS by the KMS key, checked here with jose alone
  const kmsKey = await kmsSigningKey(attestation);
  const { payload, protectedHeader } = await jose.compactVerify(conf.certificate, kmsKey);
  assert.equal(protectedHeader.typ, 'tfaas-function+jwt');
  const claims = JSON.parse(new TextDecoder().decode(payload));
  assert.equal(claims.sub, 'guest/hello');
  assert.deepEqual([claims.namespace, claims.name, claims.version], ['guest', 'hello', 1]);
  // the default policy: the Duktape worker's measurement, which is not the KMS's
  assert.deepEqual(claims.policy, policyFor(attestation));
  assert.notEqual(claims.policy.measurements[0], attestation.measurement);
  assert.ok(claims.exp > claims.iat);

  // published: the key configuration and the certificate
  const keys = await fetch(`${server.url}/tfaas/v1/namespaces/_/actions/hello/ohttp-keys`,
    { headers: { authorization: 'Basic ' + Buffer.from(server.auth).toString('base64') } });
  assert.equal(keys.status, 200);
  assert.equal(keys.headers.get('content-type'), 'application/ohttp-keys');
  const kb = Buffer.from(await keys.arrayBuffer());
  assert.deepEqual(kb, Buffer.from(claims.ohttp_keys, 'base64url'));
  assert.equal(kb.readUInt16BE(0), kb.length - 2);
  assert.equal(kb.readUInt16BE(3), 0x0020);
  const cert = await api(server, 'GET', '/tfaas/v1/namespaces/_/actions/hello/certificate');
  assert.equal(cert.status, 200);
  assert.equal(cert.text, conf.certificate);
});

test('a JavaScript client deploys from the protocol document alone', async () => {
  const r = await put('fromjs', await deployBody(attestation, 'fromjs', CODE));
  assert.equal(r.status, 200, r.text);
  const conf = confidentialOf(r.body);
  const kmsKey = await kmsSigningKey(attestation);
  await jose.compactVerify(conf.certificate, kmsKey);
});

test('deploy refusals: tampered, foreign name, bad policy, missing parts, reserved annotation, unknown kind', async () => {
  const good = await deployBody(attestation, 'bad', CODE);
  const sealed = Buffer.from(good.sealed_key, 'base64url');
  sealed[sealed.length - 1] ^= 1;
  let r = await put('bad', { ...good, sealed_key: sealed.toString('base64url') });
  assert.equal(r.status, 400);
  assert.match(r.body.error, /does not open with this KMS's key/);
  r = await put('bad', { ...good, sealed_key: good.sealed_key.slice(0, 40) });
  assert.equal(r.status, 400);
  r = await put('victim', await deployBody(attestation, 'victim', CODE, { pkgName: 'other' }));
  assert.equal(r.status, 400);
  assert.match(r.body.error, /was sealed for guest\/other, not for this function/);
  r = await put('victim', await deployBody(attestation, 'victim', CODE, { pkgNs: 'elsewhere' }));
  assert.equal(r.status, 400);
  assert.match(r.body.error, /was sealed for elsewhere\/victim, not for this function \(a package replayed to another namespace/);
  for (const version of [0, -1, 2 ** 53, 1.5, '1', null]) {
    r = await put('bad', await deployBody(attestation, 'bad', CODE, { version }));
    assert.equal(r.status, 400, `version ${version}`);
    assert.match(r.body.error, /needs namespace, name, version \(an integer 1\.\.2\^53-1\)/);
  }
  r = await put('bad', await deployBody(attestation, 'bad', CODE, { pkg: { namespace: undefined } }));
  assert.equal(r.status, 400);
  assert.match(r.body.error, /needs namespace/);
  r = await put('bad', await deployBody(attestation, 'bad', CODE, { policy: { measurements: [], engine: 'duktape' } }));
  assert.equal(r.status, 400);
  assert.match(r.body.error, /1\.\.16 measurements/);
  r = await put('bad', { code: good.code });
  assert.equal(r.status, 400);
  assert.match(r.body.error, /sealed_key/);
  r = await put('bad', { ...good, kind: 'python:3' });
  assert.equal(r.status, 400);
  assert.match(r.body.error, /The action kind 'python:3' is not supported/);
  r = await api(server, 'PUT', '/api/v1/namespaces/_/actions/sneaky', {
    body: { exec: { kind: 'js:duktape', code: 'function main(){}' }, annotations: [{ key: 'confidential', value: {} }] },
  });
  assert.equal(r.status, 400);
  assert.match(r.body.error, /reserved/);
  // none of the refused deploys left an action behind
  assert.equal((await api(server, 'GET', '/api/v1/namespaces/_/actions/bad')).status, 404);
  assert.equal((await api(server, 'GET', '/api/v1/namespaces/_/actions/victim')).status, 404);
});

// V8 workers recognise the key service too (its measurement is built into
// them), so V8 kinds deploy like Duktape; the CLI's default policy names the
// V8 worker's measurement and engine.
test('V8 kinds deploy confidentially, from the CLI and from a JavaScript client', { skip: !ENGINE_KINDS.includes('js:v8') && 'built without V8' }, async () => {
  const kmsKey = await kmsSigningKey(attestation);
  for (const kind of ['js:v8', 'nodejs:20']) {
    const name = `v8-${kind.replace(/\W/g, '')}`;
    const r = await put(name, await deployBody(attestation, name, CODE, { kind }));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.exec.kind, kind);
    const claims = JSON.parse(new TextDecoder().decode((await jose.compactVerify(confidentialOf(r.body).certificate, kmsKey)).payload));
    assert.deepEqual(claims.policy, policyFor(attestation, kind));
  }
  const r = await tfaas(['action', 'create', 'hello-v8', join(dir, 'f.js'), '--confidential', '--kind', 'js:v8']);
  assert.equal(r.code, 0, r.stderr);
  const doc = (await api(server, 'GET', '/api/v1/namespaces/_/actions/hello-v8')).body;
  const claims = JSON.parse(new TextDecoder().decode((await jose.compactVerify(confidentialOf(doc).certificate, kmsKey)).payload));
  assert.deepEqual(claims.policy, { engine: 'v8', measurements: [attestation.workers.v8] });
});

test('a confidential action is not invocable through the plaintext API; plain ones have no key config', async () => {
  let r = await api(server, 'POST', '/api/v1/namespaces/_/actions/hello?blocking=true', { body: {} });
  assert.equal(r.status, 400);
  assert.match(r.body.error, /is confidential: invoke it with an OHTTP request/);
  await api(server, 'PUT', '/api/v1/namespaces/_/actions/plain', { body: { exec: { kind: 'js:duktape', code: 'function main() { return {}; }' } } });
  r = await api(server, 'GET', '/tfaas/v1/namespaces/_/actions/plain/ohttp-keys');
  assert.equal(r.status, 400);
  r = await api(server, 'GET', '/tfaas/v1/namespaces/_/actions/nothere/certificate');
  assert.equal(r.status, 404);
  r = await api(server, 'GET', '/tfaas/v1/namespaces/_/actions/hello/ohttp-keys', { auth: null });
  assert.equal(r.status, 401);
  r = await api(server, 'GET', '/tfaas/v1/namespaces/other/actions/hello/certificate');
  assert.equal(r.status, 403);
});

test('the state directory holds no plaintext code', async () => {
  assertStateLacks(server.stateDir, [CANARY]);
});
