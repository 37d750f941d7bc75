// jose.test.mjs - tfaas's JWS (src/common/jws.c) against `jose` from npm,
// both directions, the KMS evidence of a real server verified with jose
// alone from the platform root PEM, as a third-party client would, and a
// confidential call made with npm libraries only: the deploy package sealed
// with @hpke/core, the response opened and decoded with bhttp-js, and the
// function certificate, worker certificate and receipt inside it verified
// with jose (docs/protocol.md §6.2-§6.5); invokers' request signatures
// both ways (§6.7).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as jose from 'jose';
import { tool } from '../lib/crypto-tool.mjs';
import { startServer, api } from '../lib/server.mjs';
import { BHttpDecoder } from 'bhttp-js';
import { confidentialOf, deployBody, jwsClaims, kmsSigningKey, verifyReceiptChain } from '../lib/confidential.mjs';
import { AEADS, bhttpJsonRequest, ohttpClient, ohttpOpenResponse } from '../lib/ohttp-client.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

test('a JWS signed by tfaas verifies with jose', async () => {
  const [status, out] = tool({ op: 'jws_sign', payload: '{"hello":"jose"}', typ: 'test+jwt' });
  assert.equal(status, 0, JSON.stringify(out));
  const key = await jose.importJWK({ ...out.jwk, alg: 'ES256' }, 'ES256');
  const { payload, protectedHeader } = await jose.compactVerify(out.jws, key);
  assert.equal(new TextDecoder().decode(payload), '{"hello":"jose"}');
  assert.equal(protectedHeader.alg, 'ES256');
  assert.equal(protectedHeader.typ, 'test+jwt');
});

// docs/protocol.md §6.7: the invoker's request signature, both directions.
test('an invoker signature (tfaas-invoke+jwt) made by tfaas verifies with jose, and one made by jose with tfaas', async () => {
  const req = { target: 'guest/f', date: 'Mon, 07 Dec 2026 03:00:00 GMT', content: '{"a":1}' };
  const [status, out] = tool({ op: 'invoker_sign', ...req });
  assert.equal(status, 0, JSON.stringify(out));
  const key = await jose.importJWK({ ...out.jwk, alg: 'ES256' }, 'ES256');
  const { payload, protectedHeader } = await jose.compactVerify(out.jws, key);
  assert.equal(protectedHeader.typ, 'tfaas-invoke+jwt');
  assert.equal(protectedHeader.kid, await jose.calculateJwkThumbprint(out.jwk));
  assert.deepEqual(JSON.parse(new TextDecoder().decode(payload)),
    { target: req.target, date: req.date, content_sha256: createHash('sha256').update(req.content).digest('hex') });

  const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const jwk = await jose.exportJWK(publicKey);
  const claims = { target: req.target, date: req.date, content_sha256: createHash('sha256').update(req.content).digest('hex') };
  const jws = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: 'ES256', typ: 'tfaas-invoke+jwt', kid: await jose.calculateJwkThumbprint(jwk) }).sign(privateKey);
  assert.deepEqual(tool({ op: 'invoker_verify', jws, jwk, ...req }), [0, { result: 'ok' }]);
  // kid is required: it names the one key tried
  const noKid = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: 'ES256', typ: 'tfaas-invoke+jwt' }).sign(privateKey);
  assert.deepEqual(tool({ op: 'invoker_verify', jws: noKid, jwk, ...req }), [0, { result: 'malformed signature' }]);
  assert.deepEqual(tool({ op: 'invoker_verify', jws, jwk, ...req, content: '{"a":2}' }),
    [0, { result: 'signed for another function, Date or content' }]);
  assert.deepEqual(tool({ op: 'invoker_verify', jws, jwk: out.jwk, ...req }),
    [0, { result: 'not signed by an invoker key of the function' }]);
});

test('a JWS signed by jose verifies with tfaas; tampering and other keys are refused', async () => {
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const jwk = await jose.exportJWK(publicKey);
  const jws = await new jose.CompactSign(new TextEncoder().encode('{"from":"jose"}'))
    .setProtectedHeader({ alg: 'ES256', typ: 'x+jwt', kid: 'k1' }).sign(privateKey);
  assert.deepEqual(tool({ op: 'jws_verify', jws, jwk }), [0, { payload: '{"from":"jose"}', typ: 'x+jwt', kid: 'k1' }]);
  assert.equal(tool({ op: 'jws_verify', jws, jwk, typ: 'y+jwt' })[0], 1);
  const [h, p, s] = jws.split('.');
  const forged = `${h}.${Buffer.from('{"from":"mallory"}').toString('base64url')}.${s}`;
  assert.deepEqual(tool({ op: 'jws_verify', jws: forged, jwk }), [1, { error: 'JWS signature does not verify' }]);
  const other = await jose.exportJWK((await jose.generateKeyPair('ES256', { extractable: true })).publicKey);
  assert.equal(tool({ op: 'jws_verify', jws, jwk: other })[0], 1);
  // other algorithms are refused, even with a valid signature
  const hs = await new jose.CompactSign(new TextEncoder().encode('{}'))
    .setProtectedHeader({ alg: 'HS256' }).sign(new Uint8Array(32));
  assert.deepEqual(tool({ op: 'jws_verify', jws: hs, jwk }), [1, { error: 'JWS algorithm is not ES256' }]);
  assert.equal(p.length > 0, true);
});

test('KMS evidence verifies with jose against STATE/sim-platform.pem and binds the KMS keys', async () => {
  const doc = (await api(server, 'GET', '/tfaas/v1/attestation', { auth: null })).body;
  const root = await jose.importSPKI(readFileSync(join(server.stateDir, 'sim-platform.pem'), 'utf8'), 'ES256');
  const { payload, protectedHeader } = await jose.compactVerify(doc.evidence, root);
  assert.equal(protectedHeader.typ, 'tfaas-sim-evidence+jwt');
  const claims = JSON.parse(new TextDecoder().decode(payload));
  assert.equal(claims.tee, 'sim');
  assert.equal(claims.measurement, doc.measurement);
  // signer = SHA-256 of the platform key's uncompressed point
  const rootJwk = await jose.exportJWK(root);
  const point = (j) => Buffer.concat([Buffer.from([4]), Buffer.from(j.x, 'base64url'), Buffer.from(j.y, 'base64url')]);
  assert.equal(claims.signer, createHash('sha256').update(point(rootJwk)).digest('hex'));
  assert.equal(protectedHeader.kid, await jose.calculateJwkThumbprint(rootJwk));
  const rd = createHash('sha512').update(Buffer.concat([Buffer.from('tfaas kms keys v1\0'),
    point(doc.kms.signing_key), Buffer.from(doc.kms.hpke_key.public_key, 'base64url')])).digest();
  assert.equal(claims.report_data, rd.toString('base64url'));
  // and a foreign root does not verify it
  const { publicKey } = await jose.generateKeyPair('ES256');
  await assert.rejects(jose.compactVerify(doc.evidence, publicKey));
});

// Deploys code confidentially as `name` (version 7), calls it over OHTTP
// with params and verifies the certificate chain and the receipt inside the
// sealed response with jose alone; returns the receipt's claims, the result
// and the function certificate's claims.
async function confidentialCall(name, code, params) {
  const att = (await api(server, 'GET', '/tfaas/v1/attestation', { auth: null })).body;
  const kmsKey = await kmsSigningKey(att);
  const path = `/tfaas/v1/namespaces/_/actions/${encodeURIComponent(name)}`;
  const r = await api(server, 'PUT', path, { body: await deployBody(att, name, code, { version: 7 }) });
  assert.equal(r.status, 200, r.text);
  const fn = (await jwsClaims(confidentialOf(r.body).certificate, kmsKey)).claims;
  const aead = AEADS[0];
  const st = await ohttpClient(new Uint8Array(Buffer.from(fn.ohttp_keys, 'base64url')), aead, await bhttpJsonRequest(`/${name}`, params));
  const res = await fetch(`${server.url}${path}/ohttp`, { method: 'POST', body: st.encReq,
    headers: { 'content-type': 'message/ohttp-req', authorization: 'Basic ' + Buffer.from(server.auth).toString('base64') } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('tfaas-receipt'), null, 'no receipt in the clear');
  const inner = new BHttpDecoder().decodeResponse(await ohttpOpenResponse(st, aead, new Uint8Array(await res.arrayBuffer())));
  const { receipt, result } = await verifyReceiptChain(inner, kmsKey, fn);
  assert.equal(receipt.request_sha256, createHash('sha256').update(st.encReq).digest('hex'));
  return { receipt, result, fn };
}

test('a confidential call with npm libraries only: namespace and version bound, the receipt inside the response', async () => {
  const code = 'function main(p) { return { sum: p.a + p.b }; }';
  const { receipt, result, fn } = await confidentialCall('npm', code, { a: 2, b: 3 });
  assert.deepEqual([fn.namespace, fn.name, fn.version, fn.code_hash],
    ['guest', 'npm', 7, createHash('sha256').update(code).digest('hex')]);
  assert.deepEqual(JSON.parse(result), { sum: 5 });
  assert.equal(receipt.version, 7);
});

// The enclave writes the receipt's claims as text: a name with every
// character an entity name may hold besides word characters comes back
// intact, and the claims are exactly docs/protocol.md §6.5's.
test('a receipt names a function whose name holds @, ., - and a space', async () => {
  const name = 'r@c.e-i pt';
  const { receipt, result } = await confidentialCall(name, 'function main(p) { return { n: p.n }; }', { n: 1 });
  assert.deepEqual(JSON.parse(result), { n: 1 });
  assert.deepEqual([receipt.namespace, receipt.name, receipt.version, receipt.status], ['guest', name, 7, 200]);
  assert.deepEqual(Object.keys(receipt).sort(), ['activation_id', 'code_hash', 'cpu_time_us', 'iat', 'iss', 'measurement',
    'name', 'namespace', 'nonce', 'peak_memory', 'request_sha256', 'result_sha256', 'status', 'version']);
  assert.ok(Number.isInteger(receipt.cpu_time_us) && Number.isInteger(receipt.peak_memory) && receipt.peak_memory > 0);
});
