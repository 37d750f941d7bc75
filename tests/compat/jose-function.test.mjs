// jose-function.test.mjs - `jose` (npm), unmodified, running inside a js:v8
// function on the enclave's crypto.subtle (src/trusted/v8/webapi/): its
// browser build is bundled at test time with esbuild into one script, the
// action's code, as a user would deploy it. Tokens cross the boundary both
// ways: JWTs signed in the function (ES256, EdDSA, HS256) verify with jose
// in Node, JWTs signed in Node verify in the function, a tampered one is
// refused there, and a JWE (dir, A256GCM) made on either side opens on the
// other.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import * as jose from 'jose';
import { startServer } from '../lib/server.mjs';
import { putAction, invoke } from '../lib/e2e.mjs';

const TESTS_DIR = fileURLToPath(new URL('..', import.meta.url));
const BUNDLE = buildSync({
  stdin: { contents: 'import * as jose from "jose"; globalThis.jose = jose;', resolveDir: TESTS_DIR },
  bundle: true, format: 'iife', platform: 'browser', target: 'es2020', write: false,
}).outputFiles[0].text;

const MAIN = `
async function main(p) {
  const enc = new TextEncoder(), dec = new TextDecoder();
  if (p.op === 'sign') {
    const out = {};
    for (const alg of ['ES256', 'EdDSA']) {
      const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
      out[alg] = { jwt: await new jose.SignJWT({ by: 'function' }).setProtectedHeader({ alg }).setIssuedAt()
                     .setExpirationTime('2h').sign(privateKey), jwk: await jose.exportJWK(publicKey) };
    }
    const secret = jose.base64url.decode(p.secret);
    out.HS256 = { jwt: await new jose.SignJWT({ by: 'function' }).setProtectedHeader({ alg: 'HS256' }).sign(secret) };
    out.jwe = await new jose.CompactEncrypt(enc.encode('sealed in the function'))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(secret);
    return out;
  }
  // op 'verify': the tokens Node made
  const out = {};
  for (const [alg, t] of Object.entries(p.tokens)) {
    const key = await jose.importJWK(t.jwk, alg);
    out[alg] = (await jose.jwtVerify(t.jwt, key)).payload.by;
    const parts = t.jwt.split('.');
    const forged = parts[0] + '.' + jose.base64url.encode(JSON.stringify({ by: 'someone else' })) + '.' + parts[2];
    try { await jose.jwtVerify(forged, key); out[alg + 'Forged'] = 'accepted'; } catch (e) { out[alg + 'Forged'] = e.code; }
  }
  out.jwe = dec.decode((await jose.compactDecrypt(p.jwe, jose.base64url.decode(p.secret))).plaintext);
  return out;
}`;

let server;
const secret = crypto.getRandomValues(new Uint8Array(32));
before(async () => {
  server = await startServer();
  await putAction(server, 'jose', `${BUNDLE}\n${MAIN}`, { kind: 'js:v8' });
});
after(async () => { await server?.stop(); });

async function call(params) {
  const r = await invoke(server, 'jose', params);
  assert.equal(r.body?.response?.status, 'success', r.text);
  return r.body.response.result;
}

test('JWTs signed by jose inside the function (ES256, EdDSA, HS256) verify with jose in Node; its JWE opens in Node', async () => {
  const r = await call({ op: 'sign', secret: jose.base64url.encode(secret) });
  for (const alg of ['ES256', 'EdDSA']) {
    const { payload, protectedHeader } = await jose.jwtVerify(r[alg].jwt, await jose.importJWK(r[alg].jwk, alg));
    assert.equal(payload.by, 'function');
    assert.equal(protectedHeader.alg, alg);
    assert.ok(payload.exp > payload.iat);
  }
  assert.equal((await jose.jwtVerify(r.HS256.jwt, secret)).payload.by, 'function');
  const { plaintext } = await jose.compactDecrypt(r.jwe, secret);
  assert.equal(new TextDecoder().decode(plaintext), 'sealed in the function');
});

test('JWTs signed by jose in Node verify inside the function, forgeries are refused there, Node\'s JWE opens there', async () => {
  const tokens = {};
  for (const alg of ['ES256', 'EdDSA']) {
    const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
    tokens[alg] = { jwt: await new jose.SignJWT({ by: 'node' }).setProtectedHeader({ alg }).sign(privateKey),
      jwk: await jose.exportJWK(publicKey) };
  }
  const jwe = await new jose.CompactEncrypt(new TextEncoder().encode('sealed in node'))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(secret);
  const r = await call({ op: 'verify', tokens, jwe, secret: jose.base64url.encode(secret) });
  assert.deepEqual(r, { ES256: 'node', ES256Forged: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', EdDSA: 'node',
    EdDSAForged: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', jwe: 'sealed in node' });
});
